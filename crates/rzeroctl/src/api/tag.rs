//! Struct tags, read as go-zero reads them.
//!
//! goctl checks nothing in a tag: its analyzer keeps the raw text
//! (`fieldToMember` in `tools/goctl/pkg/parser/api/parser/analyzer.go`) and the
//! generated Go code carries it, so what a tag means is what go-zero's request parser
//! finds in it, and that reads tags with Go's `reflect.StructTag.Get` / `Lookup`
//! (`core/mapping/utils.go`). Lookup (`src/reflect/type.go` in the Go repository)
//! scans `key:"value"` pairs from the left and silently stops at the first one that is
//! not well formed, so `form:"id":"id"` means `form:"id"` and nothing else. We read the
//! same pairs and say where the reading stopped, as a warning.
//!
//! Hand-written: no crate reads tags with Go's exact rules (byte-wise key scan,
//! `strconv.Unquote` values).

use std::collections::HashSet;

use super::spec::Tag;

/// The tag's pairs as `reflect.StructTag.Lookup` sees them, and, when the tag is not
/// well formed, what its reading stopped at.
pub fn parse_tag(raw: &str) -> (Tag, Option<String>) {
    let b = raw.as_bytes();
    let mut pairs = Vec::new();
    // A key whose first value does not unquote: Lookup answers "absent" for it even
    // when a later pair repeats the key.
    let mut poisoned: HashSet<&str> = HashSet::new();
    let mut problem = None;
    let mut i = 0;
    loop {
        while b.get(i) == Some(&b' ') {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let start = i;
        let mut j = i;
        while j < b.len() && b[j] > b' ' && b[j] != b':' && b[j] != b'"' && b[j] != 0x7f {
            j += 1;
        }
        if j == start || b.get(j) != Some(&b':') || b.get(j + 1) != Some(&b'"') {
            problem = Some(stopped(raw, start, "`key:\"value\"`"));
            break;
        }
        let mut k = j + 2;
        while k < b.len() && b[k] != b'"' {
            if b[k] == b'\\' {
                k += 1;
            }
            k += 1;
        }
        if k >= b.len() {
            problem = Some(stopped(raw, start, "a closing `\"`"));
            break;
        }
        // Every index here sits on an ASCII byte (or the end), so on a char boundary.
        let (key, quoted) = (&raw[start..j], &raw[j + 2..k]);
        i = k + 1;
        match go_unquote(quoted) {
            Ok(v) if !poisoned.contains(key) => pairs.push((key.to_string(), v)),
            Ok(_) => {}
            Err(why) => {
                poisoned.insert(key);
                problem.get_or_insert_with(|| {
                    format!("the value of `{key}` is not a Go string ({why}), so it is absent")
                });
            }
        }
    }
    let tag = Tag {
        raw: raw.to_string(),
        pairs,
    };
    (tag, problem.map(|p| format!("tag `{raw}`: {p}")))
}

fn stopped(raw: &str, at: usize, wanted: &str) -> String {
    let (read, rest) = raw.split_at(at);
    let read = read.trim_end();
    let (before, kept) = if read.is_empty() {
        (String::new(), "no pair of it".to_string())
    } else {
        (format!(" after `{read}`"), format!("only `{read}`"))
    };
    format!(
        "expected {wanted}{before}, found `{rest}`: Go's reflect.StructTag (go-zero's tag \
         reader) stops there, so rzeroctl reads {kept}"
    )
}

/// `strconv.Unquote` of a double-quoted Go string's content.
fn go_unquote(s: &str) -> Result<String, String> {
    let mut out: Vec<u8> = Vec::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\n' => return Err("a new line".into()),
            '\\' => {}
            c => {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                continue;
            }
        }
        let e = chars.next().ok_or("a lone `\\`")?;
        let simple = match e {
            'a' => Some(0x07),
            'b' => Some(0x08),
            'f' => Some(0x0c),
            'n' => Some(b'\n'),
            'r' => Some(b'\r'),
            't' => Some(b'\t'),
            'v' => Some(0x0b),
            '\\' => Some(b'\\'),
            '"' => Some(b'"'),
            _ => None,
        };
        if let Some(byte) = simple {
            out.push(byte);
            continue;
        }
        let (digits, radix) = match e {
            'x' => (2, 16),
            'u' => (4, 16),
            'U' => (8, 16),
            '0'..='7' => (2, 8),
            _ => return Err(format!("the escape `\\{e}`")),
        };
        let mut text: String = if radix == 8 {
            e.to_string()
        } else {
            String::new()
        };
        for _ in 0..digits {
            let d = chars.next().filter(|d| d.is_digit(radix));
            text.push(d.ok_or_else(|| format!("a short `\\{e}` escape"))?);
        }
        let n = u32::from_str_radix(&text, radix).map_err(|_| format!("the escape `{text}`"))?;
        match e {
            'x' | '0'..='7' => out.push(u8::try_from(n).map_err(|_| "an octal escape over 255")?),
            _ => {
                let c = char::from_u32(n).ok_or_else(|| format!("the escape `\\{e}{text}`"))?;
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    String::from_utf8(out).map_err(|_| "bytes that are not UTF-8".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(raw: &str) -> Vec<(String, String)> {
        parse_tag(raw).0.pairs
    }

    #[test]
    fn well_formed_tags_read_whole() {
        let (tag, problem) = parse_tag(r#"json:"name,optional"  form:"page,default=1""#);
        assert_eq!(problem, None);
        assert_eq!(tag.get("json"), Some("name,optional"));
        assert_eq!(tag.get("form"), Some("page,default=1"));
        assert_eq!(pairs(r#"a:"x\ty\u00e9\x41\101\"""#)[0].1, "x\tyéAA\"");
        assert_eq!(parse_tag("").0.pairs, vec![]);
    }

    #[test]
    fn reading_stops_where_go_reflect_stops() {
        let (tag, problem) = parse_tag(r#"form:"id":"id""#);
        assert_eq!(tag.pairs, vec![("form".into(), "id".into())]);
        assert_eq!(tag.raw, r#"form:"id":"id""#);
        let p = problem.unwrap_or_default();
        assert!(p.contains(r#"after `form:"id"`, found `:"id"`"#), "{p}");
        assert_eq!(pairs(r#"json:name form:"x""#), vec![]);
        assert_eq!(pairs(r#"json: "a""#), vec![]);
        assert_eq!(pairs(r#"json:"a"#), vec![]);
        assert_eq!(
            pairs(r#"a:"1" b:"2" c"#),
            vec![("a".into(), "1".into()), ("b".into(), "2".into())]
        );
    }

    #[test]
    fn a_bad_value_hides_its_key_only() {
        let (tag, problem) = parse_tag(r#"a:"\q" b:"2" a:"3""#);
        assert_eq!(tag.get("a"), None);
        assert_eq!(tag.get("b"), Some("2"));
        assert!(problem.is_some_and(|p| p.contains("`\\q`")));
        assert_eq!(pairs(r#"a:"\xff""#), vec![]);
        assert_eq!(pairs(r#"a:"\400""#), vec![]);
        assert_eq!(pairs(r#"a:"\ud800""#), vec![]);
        assert_eq!(pairs(r#"a:"\x+1""#), vec![]);
        assert_eq!(pairs("a:\"x\ny\""), vec![]);
    }

    #[test]
    fn any_text_reads_without_panicking() {
        for raw in [
            "\"",
            ":",
            "a:",
            "a:\"\\",
            "é:\"é\"",
            "a:\"\\u12",
            "\u{7f}:\"x\"",
            "  ",
        ] {
            let _ = parse_tag(raw);
        }
        assert_eq!(pairs(r#"é:"é""#), vec![("é".into(), "é".into())]);
    }
}
