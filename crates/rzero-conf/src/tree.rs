//! The file as a tree of keys and values with their positions.
//!
//! serde's YAML deserializer says *what* is wrong but often not *where*: inside a
//! `#[serde(flatten)]` part it forgets the key path, and it never knows which keys it
//! ignored. This tree, built from `saphyr-parser`'s events (which carry positions), is
//! what the loader asks: where is `Redis.Host`, which key holds the value `"abc"`, which
//! keys does the file have at `Etcd`.

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, StrInput};

use crate::error::{ConfError, ErrorKind};

/// Deeper than this is not a config file; refusing it keeps the parser's stack bounded.
const MAX_DEPTH: usize = 64;

/// A 1-based line and column.
pub(crate) type Pos = (usize, usize);

/// A YAML node and where it starts.
pub(crate) struct Node {
    pub(crate) pos: Pos,
    pub(crate) kind: Kind,
}

/// What a node holds; mapping entries keep the position of their key.
pub(crate) enum Kind {
    Map(Vec<Entry>),
    Seq(Vec<Node>),
    /// A scalar's text; `plain` when unquoted (a plain empty, `~` or `null` is null).
    Scalar {
        text: String,
        plain: bool,
    },
    /// An alias (`*name`): its value lives elsewhere.
    Alias,
}

/// One `key: value` of a mapping.
pub(crate) struct Entry {
    pub(crate) key: String,
    pub(crate) key_pos: Pos,
    pub(crate) value: Node,
}

/// Parses the one document of `text`; `None` for a file with no document.
pub(crate) fn parse(source: &str, text: &str) -> Result<Option<Node>, ConfError> {
    let mut events = Parser::new_from_str(text);
    loop {
        match next((source, text), &mut events)? {
            Some((Event::StreamStart | Event::DocumentStart(_), _)) => continue,
            Some((Event::StreamEnd, _)) | None => return Ok(None),
            Some((event, span)) => {
                let root = node((source, text), &mut events, event, span, 0)?;
                return second_document((source, text), &mut events).map(|()| Some(root));
            }
        }
    }
}

/// serde_yaml_ng reads the first document only when it fails; say it here, with the line.
fn second_document<'a>(
    ctx: (&str, &'a str),
    events: &mut Parser<'a, StrInput<'a>>,
) -> Result<(), ConfError> {
    while let Some((event, span)) = next(ctx, events)? {
        match event {
            Event::DocumentEnd => continue,
            Event::StreamEnd => break,
            _ => {
                let (line, col) = pos(span);
                return Err(ConfError::new(
                    ctx.0,
                    ErrorKind::Syntax(
                        "a second YAML document (after `---`): expected one document per \
                         config file"
                            .into(),
                    ),
                )
                .at(line, col));
            }
        }
    }
    Ok(())
}

fn next<'a>(
    (source, text): (&str, &'a str),
    events: &mut Parser<'a, StrInput<'a>>,
) -> Result<Option<(Event<'a>, Span)>, ConfError> {
    match events.next_event() {
        None => Ok(None),
        Some(Ok(pair)) => Ok(Some(pair)),
        Some(Err(e)) => Err(scan_error(source, text, &e)),
    }
}

fn scan_error(source: &str, text: &str, e: &ScanError) -> ConfError {
    let m = e.marker();
    let (mut line, mut col) = (m.line(), m.col() + 1);
    let mut message = format!("invalid YAML: {}", e.info());
    if message.contains("tab") {
        // The scanner points at the token it was reading; the tab is what to fix.
        let tab = text
            .lines()
            .enumerate()
            .skip(line.saturating_sub(1))
            .find_map(|(i, l)| {
                let col = l.chars().position(|c| c == '\t')?;
                Some((i + 1, col + 1))
            });
        if let Some(at) = tab {
            (line, col) = at;
        }
        message.push_str(" (indent with spaces: YAML does not allow tabs there)");
    }
    ConfError::new(source, ErrorKind::Syntax(message)).at(line, col)
}

fn pos(span: Span) -> Pos {
    (span.start.line(), span.start.col() + 1)
}

fn node<'a>(
    ctx: (&str, &'a str),
    events: &mut Parser<'a, StrInput<'a>>,
    event: Event<'a>,
    span: Span,
    depth: usize,
) -> Result<Node, ConfError> {
    if depth > MAX_DEPTH {
        let (line, col) = pos(span);
        return Err(ConfError::new(
            ctx.0,
            ErrorKind::Syntax(format!(
                "nested deeper than {MAX_DEPTH} levels: expected a config file"
            )),
        )
        .at(line, col));
    }
    let unexpected_end = || ConfError::new(ctx.0, ErrorKind::Syntax("unexpected end".into()));
    let kind = match event {
        Event::MappingStart(..) => {
            let mut entries = Vec::new();
            loop {
                let (key_event, key_span) = next(ctx, events)?.ok_or_else(unexpected_end)?;
                let key = match key_event {
                    Event::MappingEnd => break,
                    Event::Scalar(k, ..) => k.into_owned(),
                    // A complex key cannot name a field; serde will say what it expected.
                    other => {
                        node(ctx, events, other, key_span, depth + 1)?;
                        String::from("?")
                    }
                };
                if let Some(first) = entries.iter().find(|e: &&Entry| e.key == key && key != "?") {
                    let (line, col) = pos(key_span);
                    return Err(ConfError::new(
                        ctx.0,
                        ErrorKind::Syntax(format!(
                            "duplicate key `{key}` (first at line {}): keep one",
                            first.key_pos.0
                        )),
                    )
                    .at(line, col));
                }
                let (value_event, value_span) = next(ctx, events)?.ok_or_else(unexpected_end)?;
                let value = node(ctx, events, value_event, value_span, depth + 1)?;
                entries.push(Entry {
                    key,
                    key_pos: pos(key_span),
                    value,
                });
            }
            Kind::Map(entries)
        }
        Event::SequenceStart(..) => {
            let mut items = Vec::new();
            loop {
                let (item_event, item_span) = next(ctx, events)?.ok_or_else(unexpected_end)?;
                if matches!(item_event, Event::SequenceEnd) {
                    break;
                }
                items.push(node(ctx, events, item_event, item_span, depth + 1)?);
            }
            Kind::Seq(items)
        }
        Event::Scalar(v, style, ..) => Kind::Scalar {
            text: v.into_owned(),
            plain: style == ScalarStyle::Plain,
        },
        _ => Kind::Alias,
    };
    Ok(Node {
        pos: pos(span),
        kind,
    })
}

// === impl Node ===

impl Node {
    /// A plain empty, `~` or `null` scalar: YAML's null.
    pub(crate) fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { text, plain: true }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The keys of this mapping (none for other nodes).
    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        let entries: &[Entry] = match &self.kind {
            Kind::Map(entries) => entries,
            _ => &[],
        };
        entries.iter().map(|e| e.key.as_str())
    }

    /// The entry at `path` (`A.B[2].C`), or the deepest one the file has on the way.
    pub(crate) fn entry_at(&self, path: &str) -> Option<&Entry> {
        self.descend(path).0
    }

    /// The node at `path` exactly, if the file has it.
    pub(crate) fn node_at(&self, path: &str) -> Option<&Node> {
        match self.descend(path) {
            (_, node, true) => Some(node),
            _ => None,
        }
    }

    /// Follows `path` as far as the file goes: the last entry passed, the node reached,
    /// and whether that is the whole path.
    fn descend(&self, path: &str) -> (Option<&Entry>, &Node, bool) {
        let mut node = self;
        let mut found = None;
        for part in path.split('.').filter(|p| !p.is_empty()) {
            let (name, indexes) = part.split_at(part.find('[').unwrap_or(part.len()));
            let Kind::Map(entries) = &node.kind else {
                return (found, node, false);
            };
            let Some(entry) = entries.iter().find(|e| e.key == name) else {
                return (found, node, false);
            };
            found = Some(entry);
            node = &entry.value;
            for index in indexes
                .split(['[', ']'])
                .filter_map(|i| i.parse::<usize>().ok())
            {
                match &node.kind {
                    Kind::Seq(items) if index < items.len() => node = &items[index],
                    _ => return (found, node, false),
                }
            }
        }
        (found, node, true)
    }

    /// Every node with its dotted path, depth first in file order.
    pub(crate) fn walk(&self, visit: &mut dyn FnMut(&str, &Node, Option<&Entry>)) {
        fn go(
            node: &Node,
            entry: Option<&Entry>,
            path: &mut String,
            visit: &mut dyn FnMut(&str, &Node, Option<&Entry>),
        ) {
            visit(path, node, entry);
            let len = path.len();
            match &node.kind {
                Kind::Map(entries) => {
                    for e in entries {
                        if !path.is_empty() {
                            path.push('.');
                        }
                        path.push_str(&e.key);
                        go(&e.value, Some(e), path, visit);
                        path.truncate(len);
                    }
                }
                Kind::Seq(items) => {
                    for (i, item) in items.iter().enumerate() {
                        path.push_str(&format!("[{i}]"));
                        go(item, None, path, visit);
                        path.truncate(len);
                    }
                }
                Kind::Scalar { .. } | Kind::Alias => {}
            }
        }
        go(self, None, &mut String::new(), visit);
    }

    /// The one place matching `pred`; `None` when there is none or more than one, since
    /// pointing at the wrong line is worse than pointing at none.
    pub(crate) fn find_one(
        &self,
        pred: &mut dyn FnMut(&Node, Option<&Entry>) -> bool,
    ) -> Option<(String, Pos)> {
        let mut hits = Vec::new();
        self.walk(&mut |path, node, entry| {
            if pred(node, entry) {
                hits.push((path.to_owned(), node.pos));
            }
        });
        (hits.len() == 1).then(|| hits.remove(0))
    }
}
