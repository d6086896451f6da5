//! Turns serde's errors into [`ConfError`]s a person can act on.
//!
//! serde_yaml_ng says what is wrong, `serde_path_to_error` says at which key, and the
//! [`tree`](crate::tree) says where that key is. Three gaps are filled here:
//!
//! - inside a `#[serde(flatten)]` part serde buffers the map and forgets the key path;
//!   its message still quotes the value (`string "abc"`) or key (`missing field `Key``),
//!   and the tree finds it again when exactly one place matches;
//! - a wrong type points at the value (`Port: abc` at `abc`), a missing key at its
//!   section, a typo'd required key at the typo;
//! - serde's type names get a plain-words hint (`u16` -> a whole number from 0 to 65535).

use serde_path_to_error::Segment;

use crate::error::{ConfError, ErrorKind};
use crate::keys::close_to;
use crate::tree::{Kind, Node, Pos};

type SerdeError = serde_path_to_error::Error<serde_yaml_ng::Error>;

/// What a failed deserialization is explained with.
pub(crate) struct Input<'a> {
    /// The file's name.
    pub(crate) source: &'a str,
    /// The (expanded) text serde read.
    pub(crate) text: &'a str,
    /// Its tree.
    pub(crate) root: &'a Node,
    /// Deserializes another text the same way: `None` when it succeeds, else the message.
    pub(crate) retry: &'a dyn Fn(&str) -> Option<String>,
}

/// The [`ConfError`] for a failed deserialization.
pub(crate) fn serde_error(input: &Input<'_>, err: SerdeError) -> ConfError {
    let (source, root) = (input.source, input.root);
    let mut path = String::new();
    for segment in err.path().iter() {
        match segment {
            Segment::Seq { index } => path.push_str(&format!("[{index}]")),
            Segment::Map { key } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Segment::Enum { .. } => {}
            // Past an unknown segment the rest of the path cannot be trusted.
            Segment::Unknown => break,
        }
    }
    let inner = err.into_inner();
    let message = strip_location(&inner.to_string(), &path);
    if let Some(field) = between(&message, "missing field `", "`") {
        return missing(input, &path, &field);
    }
    if let Some(field) = between(&message, "unknown field `", "`") {
        // A user struct with deny_unknown_fields: answer as our own check does. The path
        // ends with the unknown key, or (inside flatten) is lost.
        let place = match root.entry_at(&path) {
            Some(e) if !path.is_empty() && e.key == field => Some((path.clone(), e.key_pos)),
            _ => root
                .find_one(&mut |_, e| e.is_some_and(|e| e.key == field))
                .and_then(|(p, _)| Some((p.clone(), root.entry_at(&p)?.key_pos))),
        };
        if let Some((p, (line, col))) = place {
            let kind = ErrorKind::UnknownKey {
                expected: expected_fields(&message),
                did_you_mean: None,
            };
            return ConfError::new(source, kind).at(line, col).key(p);
        }
    }
    let mut at: Option<Pos> = None;
    if path.is_empty() {
        if let Some((p, pos)) = find_quoted(root, &message) {
            (path, at) = (p, Some(pos));
        }
    } else {
        at = root
            .node_at(&path)
            .map(|n| n.pos)
            .or_else(|| root.entry_at(&path).map(|e| e.key_pos));
    }
    // The start of the document is where serde_yaml_ng points when it lost track (a
    // flattened part): it says nothing, so drop it.
    let at = at.or_else(|| {
        let l = inner.location()?;
        Some((l.line(), l.column())).filter(|&p| p != root.pos && p != (1, 1))
    });
    let message = match hint(&message) {
        Some(hint) => format!("{message} ({hint})"),
        None => message,
    };
    // The tree has parsed the file already: what serde_yaml_ng's parser still refuses
    // is its own limits (nesting, alias expansion) and a second document.
    let parser_error = ["limit exceeded", "more than one document", "while parsing"]
        .iter()
        .any(|m| message.contains(m));
    let kind = if parser_error && path.is_empty() {
        ErrorKind::Syntax(message)
    } else {
        ErrorKind::Invalid(message)
    };
    let mut error = ConfError::new(source, kind).key(path);
    if let Some((line, col)) = at {
        error = error.at(line, col);
    }
    error
}

/// A required key is absent: point at the section, or at the typo that was meant.
///
/// Inside a flattened part the path is lost, and several sections may hold a key close
/// to the missing one (`Etcd.Hostz`, but also `Redis.Host` for a missing `Hosts`). Then
/// each typo is tried: the one whose correction makes serde stop missing the key is it.
fn missing(input: &Input<'_>, path: &str, field: &str) -> ConfError {
    let root = input.root;
    let near_miss =
        |node: &Node| node.keys().all(|k| k != field) && node.keys().any(|k| close_to(k, field));
    let mut sections = Vec::new();
    if !path.is_empty() {
        sections.extend(
            root.node_at(path)
                .filter(|n| near_miss(n))
                .map(|_| path.to_owned()),
        );
    } else {
        root.walk(&mut |p, n, _| {
            if near_miss(n) {
                sections.push(p.to_owned());
            }
        });
    }
    let typo = |section: &str| {
        let Kind::Map(entries) = &root.node_at(section)?.kind else {
            return None;
        };
        entries.iter().find(|e| close_to(&e.key, field))
    };
    if path.is_empty() {
        // Best: the correction makes the file load; next best: it fails for another
        // reason than a missing key (renaming a right key makes *that* one missing).
        let score = |section: &String| {
            let fixed = typo(section).and_then(|e| rename(input.text, e.key_pos, &e.key, field));
            match fixed.map(|f| (input.retry)(&f)) {
                Some(None) => 0,
                Some(Some(m)) if !m.contains("missing field") => 1,
                _ => 2,
            }
        };
        let scores: Vec<u8> = sections.iter().map(score).collect();
        let best = scores.iter().copied().min().unwrap_or(2);
        let mut scores = scores.into_iter();
        sections.retain(|_| scores.next() == Some(best) && best < 2);
    }
    if let [section] = &sections[..]
        && let Some(found) = typo(section)
    {
        let (line, col) = found.key_pos;
        return ConfError::new(
            input.source,
            ErrorKind::Invalid(format!(
                "this key is required but missing; found `{}`: did you mean `{field}`? \
                 (keys are case-sensitive)",
                found.key
            )),
        )
        .key(join(section, field))
        .at(line, col);
    }
    let section = if path.is_empty() {
        lost_section(input, field).unwrap_or_default()
    } else {
        path.to_owned()
    };
    let mut error = ConfError::new(input.source, ErrorKind::MissingKey).key(join(&section, field));
    if let Some((line, col)) = root.entry_at(&section).map(|e| e.key_pos)
        && !section.is_empty()
    {
        error = error.at(line, col);
    }
    error
}

/// The section a flattened part misses `field` in: the one mapping where adding
/// `field: ~` changes serde's complaint. `None` when no mapping or several do (a user's
/// map of strings would complain too).
fn lost_section(input: &Input<'_>, field: &str) -> Option<String> {
    // Enough for any config; bounds the retries on a pathological file.
    const MAX_TRIES: usize = 64;
    let mut candidates = Vec::new();
    input.root.walk(&mut |p, n, _| {
        if matches!(n.kind, Kind::Map(_)) && n.keys().all(|k| k != field) {
            candidates.push((p.to_owned(), n.pos));
        }
    });
    if candidates.len() > MAX_TRIES {
        return None;
    }
    let needle = format!("missing field `{field}`");
    let mut hits = candidates.into_iter().filter(|(_, pos)| {
        insert_key(input.text, *pos, field)
            .is_some_and(|t| (input.retry)(&t).is_none_or(|m| !m.contains(&needle)))
    });
    match (hits.next(), hits.next()) {
        (Some((p, _)), None) => Some(p),
        _ => None,
    }
}

/// `text` with `field: ~` added to the mapping that starts at `pos`.
fn insert_key(text: &str, (line, col): Pos, field: &str) -> Option<String> {
    let offset = byte_offset(text, line, col)?;
    Some(if text[offset..].starts_with('{') {
        format!("{}{{{field}: ~, {}", &text[..offset], &text[offset + 1..])
    } else {
        // Write the key where the first one was, then bring that one back to its column.
        let indent = " ".repeat(col - 1);
        format!("{}{field}: ~\n{indent}{}", &text[..offset], &text[offset..])
    })
}

fn byte_offset(text: &str, line: usize, col: usize) -> Option<usize> {
    let start: usize = text
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum();
    let rest = text.get(start..)?;
    Some(
        start
            + rest
                .char_indices()
                .nth(col - 1)
                .map_or(rest.len(), |(i, _)| i),
    )
}

/// `text` with the key `old` at `pos` (1-based line and column) written as `new`.
fn rename(text: &str, (line, col): Pos, old: &str, new: &str) -> Option<String> {
    let offset = byte_offset(text, line, col)?;
    text[offset..]
        .starts_with(old)
        .then(|| format!("{}{new}{}", &text[..offset], &text[offset + old.len()..]))
}

/// The place of the value serde's message quotes, when only one place has it.
fn find_quoted(root: &Node, message: &str) -> Option<(String, Pos)> {
    let quoted = between(message, "string \"", "\"")
        .or_else(|| between(message, "found \"", "\""))
        .or_else(|| between(message, "variant `", "`"))
        .or_else(|| between(message, "integer `", "`"))
        .or_else(|| between(message, "floating point `", "`"))
        .or_else(|| between(message, "boolean `", "`"))
        .or_else(|| {
            let (_, after) = message.rsplit_once("found ")?;
            let token = after.split_whitespace().next()?;
            Some(token.trim_matches(['"', '`', ',']).to_owned()).filter(|t| !t.is_empty())
        });
    if let Some(value) = quoted {
        return root
            .find_one(&mut |n, _| matches!(&n.kind, Kind::Scalar { text, .. } if *text == value));
    }
    // "invalid type: sequence" quotes nothing; one list (or section) in the file is enough.
    let found = message.strip_prefix("invalid type: ")?;
    let is_seq = found.starts_with("sequence");
    if !is_seq && !found.starts_with("map") {
        return None;
    }
    let hit = root.find_one(&mut |n, e| {
        e.is_some()
            && match n.kind {
                Kind::Seq(_) => is_seq,
                Kind::Map(_) => !is_seq,
                _ => false,
            }
    })?;
    Some(hit)
}

/// serde_yaml_ng writes "PATH: message at line L column C[, while ...]"; the position
/// and the path are printed apart, so drop them from the message.
fn strip_location(full: &str, path: &str) -> String {
    let message = match full.find(" at line ") {
        Some(i) => {
            let rest = &full[i + 1..];
            let tail = rest.find(", ").map(|j| &rest[j..]).unwrap_or("");
            format!("{}{tail}", &full[..i])
        }
        None => full.to_owned(),
    };
    // serde_yaml_ng's own path may stop short of ours (an unknown field's is its map).
    match message.split_once(": ") {
        Some((head, rest))
            if !head.is_empty()
                && !head.contains(' ')
                && (path == head
                    || path.starts_with(&format!("{head}."))
                    || path.starts_with(&format!("{head}["))) =>
        {
            rest.to_owned()
        }
        _ => message,
    }
}

/// Plain words for the type serde expected.
fn hint(message: &str) -> Option<String> {
    let (_, expected) = message.rsplit_once("expected ")?;
    let range = |min: i128, max: i128| format!("a whole number from {min} to {max}");
    Some(match expected {
        "u8" => range(0, u8::MAX.into()),
        "u16" => range(0, u16::MAX.into()),
        "u32" => range(0, u32::MAX.into()),
        "i8" => range(i8::MIN.into(), i8::MAX.into()),
        "i16" => range(i16::MIN.into(), i16::MAX.into()),
        "i32" => range(i32::MIN.into(), i32::MAX.into()),
        "u64" | "u128" | "usize" => "a whole number that is not negative".into(),
        "i64" | "i128" | "isize" => "a whole number".into(),
        "f32" | "f64" => "a number, e.g. 0.5".into(),
        "a boolean" => "true or false".into(),
        "a sequence" => "a list: `[a, b]`, or one `- item` per line".into(),
        "a map" => "a section of `Key: value` lines".into(),
        s if s.starts_with("struct ") => "a section of `Key: value` lines".into(),
        "a string" if !message.contains("invalid type: string") => {
            "quote the value if it starts with `[`, `{`, `*` or `&`, or has `: ` in it".into()
        }
        _ => return None,
    })
}

fn between(message: &str, open: &str, close: &str) -> Option<String> {
    let start = message.find(open)? + open.len();
    let len = message[start..].find(close)?;
    Some(message[start..start + len].to_owned())
}

fn join(path: &str, key: &str) -> String {
    match (path.is_empty(), key.is_empty()) {
        (true, _) => key.to_owned(),
        (_, true) => path.to_owned(),
        _ => format!("{path}.{key}"),
    }
}

/// The field list of serde's "expected `A`", "expected `A` or `B`" and "expected one
/// of `A`, `B`" messages.
fn expected_fields(message: &str) -> Vec<String> {
    let list = message.rsplit_once("expected ").map_or("", |(_, l)| l);
    let list = list.strip_prefix("one of ").unwrap_or(list);
    let mut fields: Vec<String> = list
        .split([',', ' '])
        .filter(|f| f.starts_with('`'))
        .map(|f| f.trim_matches('`').to_owned())
        .filter(|f| !f.is_empty())
        .collect();
    fields.sort();
    fields
}
