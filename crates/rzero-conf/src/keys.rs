//! Unknown-key detection that survives `#[serde(flatten)]`.
//!
//! go-zero configs are composed by embedding (`rest.RestConf` inside the service's
//! `Config`); in Rust that is `#[serde(flatten)]`, and serde's `deny_unknown_fields` does
//! not work with flatten. So the check runs after deserializing: the value is serialized
//! back, and every key of the file that did not come back is unknown. The file's keys come
//! from a YAML event parser that knows their positions, so the error can point at the line.
//!
//! The constraint this puts on config structs: what is read must be written back under
//! the same name (no `skip_serializing`, no `skip_serializing_if` that drops a key that was
//! in the file, no `alias`). Map-typed fields are data, and come back with their keys.

use saphyr_parser::{Event, Parser, ScanError, Span};
use serde_json::Value;

use crate::error::{ConfError, ErrorKind};

/// Deeper than this is not a config file; refusing it keeps the parser's stack bounded.
const MAX_DEPTH: usize = 64;

/// A YAML node with the position of each mapping key.
enum Node {
    Map(Vec<(String, Span, Node)>),
    Seq(Vec<Node>),
    Scalar(String, Span),
}

/// Reports the first key of `text` that does not appear in `value`, or a syntax error.
pub(crate) fn check(source: &str, text: &str, value: &Value) -> Result<(), ConfError> {
    let mut events = Parser::new_from_str(text);
    let root = loop {
        match next(source, &mut events)? {
            Some((Event::StreamStart | Event::DocumentStart(_), _)) => continue,
            Some((event, span)) => break parse(source, &mut events, event, span, 0)?,
            None => return Ok(()),
        }
    };
    walk(source, &root, value, &mut String::new())
}

fn next<'a>(
    source: &str,
    events: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
) -> Result<Option<(Event<'a>, Span)>, ConfError> {
    match events.next_event() {
        None => Ok(None),
        Some(Ok(pair)) => Ok(Some(pair)),
        Some(Err(e)) => Err(scan_error(source, &e)),
    }
}

fn scan_error(source: &str, e: &ScanError) -> ConfError {
    let m = e.marker();
    ConfError::new(
        source,
        ErrorKind::Syntax(format!("invalid YAML: {}", e.info())),
    )
    .at(m.line(), m.col() + 1)
}

fn parse<'a>(
    source: &str,
    events: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
    event: Event<'a>,
    span: Span,
    depth: usize,
) -> Result<Node, ConfError> {
    if depth > MAX_DEPTH {
        let m = span.start;
        return Err(ConfError::new(
            source,
            ErrorKind::Syntax(format!("nested deeper than {MAX_DEPTH} levels")),
        )
        .at(m.line(), m.col() + 1));
    }
    let unexpected_end = || ConfError::new(source, ErrorKind::Syntax("unexpected end".into()));
    match event {
        Event::MappingStart(..) => {
            let mut entries = Vec::new();
            loop {
                let (key_event, key_span) = next(source, events)?.ok_or_else(unexpected_end)?;
                let key = match key_event {
                    Event::MappingEnd => break,
                    Event::Scalar(k, ..) => k.into_owned(),
                    // A complex key cannot name a field; let the value decide below.
                    other => {
                        parse(source, events, other, key_span, depth + 1)?;
                        String::from("?")
                    }
                };
                let (value_event, value_span) = next(source, events)?.ok_or_else(unexpected_end)?;
                let value = parse(source, events, value_event, value_span, depth + 1)?;
                entries.push((key, key_span, value));
            }
            Ok(Node::Map(entries))
        }
        Event::SequenceStart(..) => {
            let mut items = Vec::new();
            loop {
                let (item_event, item_span) = next(source, events)?.ok_or_else(unexpected_end)?;
                if matches!(item_event, Event::SequenceEnd) {
                    break;
                }
                items.push(parse(source, events, item_event, item_span, depth + 1)?);
            }
            Ok(Node::Seq(items))
        }
        Event::Scalar(v, ..) => Ok(Node::Scalar(v.into_owned(), span)),
        _ => Ok(Node::Scalar(String::new(), span)),
    }
}

fn walk(source: &str, node: &Node, value: &Value, path: &mut String) -> Result<(), ConfError> {
    match (node, value) {
        (Node::Map(entries), Value::Object(fields)) => {
            for (key, span, child) in entries {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                match fields.get(key) {
                    Some(v) => walk(source, child, v, path)?,
                    None => {
                        let mut expected: Vec<String> = fields.keys().cloned().collect();
                        expected.sort();
                        return Err(ConfError::new(source, ErrorKind::UnknownKey { expected })
                            .at(span.start.line(), span.start.col() + 1)
                            .key(path.clone()));
                    }
                }
                path.truncate(len);
            }
            Ok(())
        }
        (Node::Seq(items), Value::Array(values)) => {
            for (i, (item, v)) in items.iter().zip(values).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(source, item, v, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        // Scalars, and values serialized differently from how they were written (a
        // duration written as "5s" and serialized as a number), have no keys to check.
        _ => Ok(()),
    }
}

fn tree(text: &str) -> Option<Node> {
    let mut events = Parser::new_from_str(text);
    loop {
        match events.next_event()?.ok()? {
            (Event::StreamStart | Event::DocumentStart(_), _) => continue,
            (event, span) => return parse("", &mut events, event, span, 0).ok(),
        }
    }
}

/// A place in the file: the dotted key path and its 1-based line and column.
pub(crate) type Place = (String, usize, usize);

/// The 1-based position of the key at `path` (`A.B[2].C`), for errors from serde that
/// name the key but not its place.
pub(crate) fn locate(text: &str, path: &str) -> Option<(usize, usize)> {
    let root = tree(text)?;
    let mut node = &root;
    let mut found = None;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (name, indexes) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        let Node::Map(entries) = node else { break };
        let Some((_, span, child)) = entries.iter().find(|(k, ..)| k == name) else {
            break;
        };
        found = Some((span.start.line(), span.start.col() + 1));
        node = child;
        for index in indexes
            .split(['[', ']'])
            .filter_map(|i| i.parse::<usize>().ok())
        {
            match node {
                Node::Seq(items) if index < items.len() => node = &items[index],
                _ => return found,
            }
        }
    }
    found
}

/// The first place whose key is `name` (`by_key`) or whose scalar value is `name`.
///
/// serde loses the key path of errors inside `#[serde(flatten)]` parts (it buffers them);
/// its messages still quote the offending key or value, and this finds it again.
pub(crate) fn find(text: &str, name: &str, by_key: bool) -> Option<Place> {
    fn go(node: &Node, name: &str, by_key: bool, path: &mut String) -> Option<Place> {
        match node {
            Node::Map(entries) => {
                for (key, span, child) in entries {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                    if by_key && key == name {
                        return Some((path.clone(), span.start.line(), span.start.col() + 1));
                    }
                    if let Some(hit) = go(child, name, by_key, path) {
                        return Some(hit);
                    }
                    path.truncate(len);
                }
                None
            }
            Node::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    if let Some(hit) = go(item, name, by_key, path) {
                        return Some(hit);
                    }
                    path.truncate(len);
                }
                None
            }
            Node::Scalar(value, span) if !by_key && value == name => {
                Some((path.clone(), span.start.line(), span.start.col() + 1))
            }
            Node::Scalar(..) => None,
        }
    }
    go(&tree(text)?, name, by_key, &mut String::new())
}

/// The keys of the mapping at `path` (the root for an empty path).
pub(crate) fn keys_at(text: &str, path: &str) -> Vec<String> {
    let Some(root) = tree(text) else {
        return Vec::new();
    };
    let mut node = &root;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let Node::Map(entries) = node else {
            return Vec::new();
        };
        match entries.iter().find(|(k, ..)| k == part) {
            Some((_, _, child)) => node = child,
            None => return Vec::new(),
        }
    }
    match node {
        Node::Map(entries) => entries.iter().map(|(k, ..)| k.clone()).collect(),
        _ => Vec::new(),
    }
}
