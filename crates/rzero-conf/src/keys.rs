//! Unknown-key detection that survives `#[serde(flatten)]`.
//!
//! go-zero configs are composed by embedding (`rest.RestConf` inside the service's
//! `Config`); in Rust that is `#[serde(flatten)]`, and serde's `deny_unknown_fields` does
//! not work with flatten (nor does `serde_ignored`: flatten buffers the map and drops
//! what no part took without telling anyone). So the check runs after deserializing: the
//! value is serialized back, and every key of the file that did not come back is unknown.
//! The file's keys come from the position-carrying [`tree`](crate::tree), so the error
//! points at the line.
//!
//! The constraint this puts on config structs: what is read must be written back under
//! the same name. So no `skip_serializing`, no `skip_serializing_if` that drops a key the
//! file had, no `alias`, and a `deserialize_with` needs a `serialize_with` that writes
//! the same shape (or a scalar: scalars have no keys to check). Map-typed fields
//! (`HashMap<String, String>` headers) are data: they come back with their keys, so
//! their keys are never "unknown".

use serde_json::Value;

use crate::error::{ConfError, ErrorKind};
use crate::tree::{Kind, Node};

/// Reports the first key of the file that does not appear in `value`.
pub(crate) fn check(source: &str, root: &Node, value: &Value) -> Result<(), ConfError> {
    walk(source, root, value, &mut String::new())
}

fn walk(source: &str, node: &Node, value: &Value, path: &mut String) -> Result<(), ConfError> {
    match (&node.kind, value) {
        (Kind::Map(entries), Value::Object(fields)) => {
            for entry in entries {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&entry.key);
                match fields.get(&entry.key) {
                    Some(v) => walk(source, &entry.value, v, path)?,
                    None => {
                        let mut expected: Vec<String> = fields.keys().cloned().collect();
                        expected.sort();
                        let did_you_mean = expected
                            .iter()
                            .filter(|k| !entries.iter().any(|e| &e.key == *k))
                            .find(|k| close_to(k, &entry.key))
                            .cloned();
                        let (line, col) = entry.key_pos;
                        return Err(ConfError::new(
                            source,
                            ErrorKind::UnknownKey {
                                expected,
                                did_you_mean,
                            },
                        )
                        .at(line, col)
                        .key(path.clone()));
                    }
                }
                path.truncate(len);
            }
            Ok(())
        }
        (Kind::Seq(items), Value::Array(values)) => {
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

/// A likely typo: equal but for case, or a few edits apart (Damerau-Levenshtein, the
/// optimal string alignment variant: a swap of two neighbours is one edit).
pub(crate) fn close_to(a: &str, b: &str) -> bool {
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 2 || a.len() > 64 || b.len() > 64 {
        return false;
    }
    // Two edits turn `Name` into `Mode`: short keys get one.
    let limit = if a.len().min(b.len()) <= 4 { 1 } else { 2 };
    // d[i][j]: the distance between a[..i] and b[..j].
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()] <= limit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_are_close_and_other_keys_are_not() {
        assert!(close_to("Hostz", "Hosts"));
        assert!(close_to("host", "Host"));
        assert!(close_to("ListenOnn", "ListenOn"));
        assert!(close_to("Endpiont", "Endpoint"));
        assert!(close_to("Kye", "Key"), "a swap is one edit");
        assert!(!close_to("ID", "Tls"));
        assert!(!close_to("Key", "Pass"));
        assert!(!close_to("Name", "Mode"));
    }
}
