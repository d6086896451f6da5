//! The resolved API (goctl's `spec.ApiSpec`): imports merged, types checked, the
//! `@server` blocks turned into route groups, tags parsed. Generators read this.

use std::time::Duration;

/// A whole API after imports and checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spec {
    /// The `info` block's pairs, in order.
    pub info: Vec<(String, String)>,
    /// Every declared type, in declaration order (imported files' types included).
    pub types: Vec<TypeDef>,
    /// The service.
    pub service: Service,
}

impl Spec {
    /// The declared type `name`.
    pub fn find_type(&self, name: &str) -> Option<&TypeDef> {
        self.types.iter().find(|t| t.name == name)
    }

    /// The `info` value for `key`.
    pub fn info(&self, key: &str) -> Option<&str> {
        self.info
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// `type Name ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDef {
    /// The name.
    pub name: String,
    /// What it is: usually a [`Type::Struct`].
    pub ty: Type,
    /// The comments above it.
    pub docs: Vec<String>,
}

/// A type expression, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// A Go base type: `string`, `int64`, `bool`, `float64`, ...
    Base(String),
    /// A declared type.
    Named(String),
    /// `any` / `interface{}`.
    Any,
    /// `*T`.
    Pointer(Box<Type>),
    /// `[]T`.
    Slice(Box<Type>),
    /// `[N]T` (`[...]T` has length `...`).
    Array(String, Box<Type>),
    /// `map[K]V`.
    Map(Box<Type>, Box<Type>),
    /// An inline struct.
    Struct(Vec<Member>),
}

/// A struct field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The Go field name; `None` for an embedded type (its fields are inlined).
    pub name: Option<String>,
    /// The type.
    pub ty: Type,
    /// The parsed tag.
    pub tag: Tag,
    /// Comments above it and after it.
    pub docs: Vec<String>,
}

/// A struct tag: `json:"name,optional" path:"id" form:"page,default=1"`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tag {
    /// The tag as written.
    pub raw: String,
    /// Every `key:"value"` pair, in order.
    pub pairs: Vec<(String, String)>,
}

/// Where a request field comes from, by its tag key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `json:"..."`: the JSON body.
    Json,
    /// `path:"..."`: a `:param` of the route.
    Path,
    /// `form:"..."`: the query string or a form body.
    Form,
    /// `header:"..."`: a request header.
    Header,
}

impl Source {
    /// The tag key.
    pub fn key(self) -> &'static str {
        match self {
            Source::Json => "json",
            Source::Path => "path",
            Source::Form => "form",
            Source::Header => "header",
        }
    }
}

/// One tag value's options: `name,optional,default=1,options=a|b,range=[0:10]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagOpts {
    /// The name on the wire; `-` means skipped.
    pub name: String,
    /// `optional`: may be absent.
    pub optional: bool,
    /// `omitempty`: left out of JSON when empty.
    pub omitempty: bool,
    /// `default=...`: the value when absent.
    pub default: Option<String>,
    /// `options=a|b|c`: the allowed values.
    pub options: Vec<String>,
    /// `range=[a:b]`: the allowed range, go-zero's notation.
    pub range: Option<String>,
    /// Options rzeroctl does not interpret, kept (`string`, `inline`, ...).
    pub other: Vec<String>,
}

impl Tag {
    /// The value for `key` (`json`, `path`, ...), as written.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first request source in go-zero's order of precedence and its options.
    pub fn source(&self) -> Option<(Source, TagOpts)> {
        [Source::Path, Source::Form, Source::Header, Source::Json]
            .into_iter()
            .find_map(|s| self.get(s.key()).map(|v| (s, TagOpts::parse(v))))
    }
}

impl TagOpts {
    /// Parses a tag value; commas inside `[...]`/`(...)` do not split (`range=[0,10]`).
    pub fn parse(value: &str) -> TagOpts {
        let mut parts = Vec::new();
        let (mut depth, mut start) = (0i32, 0usize);
        for (i, c) in value.char_indices() {
            match c {
                '[' | '(' => depth += 1,
                ']' | ')' => depth -= 1,
                ',' if depth <= 0 => {
                    parts.push(&value[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        parts.push(&value[start..]);
        let mut opts = TagOpts {
            name: parts.first().map_or("", |s| s.trim()).to_string(),
            ..TagOpts::default()
        };
        for p in parts.iter().skip(1).map(|p| p.trim()) {
            match p.split_once('=') {
                Some(("default", v)) => opts.default = Some(v.to_string()),
                Some(("options", v)) => {
                    let v = v.trim_start_matches('[').trim_end_matches(']');
                    let sep = if v.contains('|') { '|' } else { ',' };
                    opts.options = v.split(sep).map(|s| s.trim().to_string()).collect();
                }
                Some(("range", v)) => opts.range = Some(v.to_string()),
                _ if p == "optional" => opts.optional = true,
                _ if p == "omitempty" => opts.omitempty = true,
                _ if p.is_empty() => {}
                _ => opts.other.push(p.to_string()),
            }
        }
        opts
    }
}

/// The service: its name and its route groups, one per `@server` block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Service {
    /// The service's name as written in the first block (`order-api`).
    pub name: String,
    /// The groups in order.
    pub groups: Vec<Group>,
}

impl Service {
    /// Every route of every group.
    pub fn routes(&self) -> impl Iterator<Item = (&Group, &Route)> {
        self.groups
            .iter()
            .flat_map(|g| g.routes.iter().map(move |r| (g, r)))
    }
}

/// The routes of one `service` block and its `@server` annotations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    /// `@server` pairs in order, unknown keys included.
    pub annotations: Vec<(String, String)>,
    /// The routes.
    pub routes: Vec<Route>,
}

impl Group {
    /// The annotation `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.annotations
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// `prefix`, normalised to start with `/` and not end with one (empty when absent).
    pub fn prefix(&self) -> String {
        let p = self.get("prefix").unwrap_or("").trim_matches('/');
        if p.is_empty() {
            String::new()
        } else {
            format!("/{p}")
        }
    }

    /// `group`: the folder (module) the handlers go in, `/` separated.
    pub fn group(&self) -> Option<&str> {
        self.get("group")
            .map(|g| g.trim_matches('/'))
            .filter(|g| !g.is_empty())
    }

    /// `jwt`: the config key of the JWT settings (`Auth`).
    pub fn jwt(&self) -> Option<&str> {
        self.get("jwt")
    }

    /// `middleware`: names, comma separated.
    pub fn middlewares(&self) -> Vec<&str> {
        self.get("middleware")
            .map(|m| {
                m.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `timeout` (a Go duration).
    pub fn timeout(&self) -> Option<Duration> {
        self.get("timeout").and_then(parse_duration)
    }

    /// `maxBytes`.
    pub fn max_bytes(&self) -> Option<u64> {
        self.get("maxBytes").and_then(|v| v.parse().ok())
    }

    /// `sse: true` (go-zero 1.9): the group's routes are server-sent events.
    pub fn sse(&self) -> bool {
        self.get("sse") == Some("true")
    }

    /// `signature: true`.
    pub fn signature(&self) -> bool {
        self.get("signature") == Some("true")
    }
}

/// A route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The handler's name as written (`CreateOrder`, `getForm`).
    pub handler: String,
    /// The HTTP method, lower case.
    pub method: String,
    /// The path without the group's prefix.
    pub path: String,
    /// The request type.
    pub request: Option<BodyRef>,
    /// The response type.
    pub response: Option<BodyRef>,
    /// `@doc` pairs (`@doc "x"` is `summary: x`).
    pub doc: Vec<(String, String)>,
    /// Comments above the route.
    pub comments: Vec<String>,
}

impl Route {
    /// The `:params` of the path, in order.
    pub fn path_params(&self) -> Vec<&str> {
        self.path
            .split('/')
            .filter_map(|s| s.strip_prefix(':'))
            .collect()
    }

    /// The `@doc` summary.
    pub fn summary(&self) -> Option<&str> {
        self.doc
            .iter()
            .find(|(k, _)| k == "summary" || k == "desc")
            .map(|(_, v)| v.as_str())
    }
}

/// A request or response type of a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyRef {
    /// The type's name (a declared type, or a base type in `[]string`).
    pub name: String,
    /// `[]T`.
    pub slice: bool,
    /// `*T`.
    pub pointer: bool,
}

/// Parses a Go duration (`3s`, `100ms`, `1h30m`, `500us`).
pub fn parse_duration(s: &str) -> Option<Duration> {
    let mut total = Duration::ZERO;
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let n: u64 = rest.get(..digits)?.parse().ok()?;
        rest = rest.get(digits..)?;
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = rest.get(..unit_len)?;
        rest = rest.get(unit_len..)?;
        let d = match unit {
            "ns" => Duration::from_nanos(n),
            "us" | "µs" => Duration::from_micros(n),
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.checked_mul(60)?),
            "h" => Duration::from_secs(n.checked_mul(3600)?),
            _ => return None,
        };
        total = total.checked_add(d)?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_options() {
        let o = TagOpts::parse("page,optional,default=1,range=[1:100],options=a|b");
        assert_eq!(o.name, "page");
        assert!(o.optional);
        assert_eq!(o.default.as_deref(), Some("1"));
        assert_eq!(o.range.as_deref(), Some("[1:100]"));
        assert_eq!(o.options, vec!["a", "b"]);
        let o = TagOpts::parse("kind,options=[x,y]");
        assert_eq!(o.options, vec!["x", "y"]);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("100ms"), Some(Duration::from_millis(100)));
        assert_eq!(parse_duration("3x"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("99999999999999999999h"), None);
    }
}
