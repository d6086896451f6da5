//! A YAML writer for the document, small on purpose: serde_yaml_ng (the workspace's
//! YAML crate) leaves strings such as `on`, `off`, `yes` and `no` unquoted, which is
//! right for YAML 1.2 but turns them into booleans for the YAML 1.1 readers much
//! OpenAPI tooling uses (PyYAML, SnakeYAML). Here every string value is double-quoted
//! (JSON's string syntax is a valid YAML double-quoted scalar), so no reader can take
//! one for anything else; keys are quoted unless they are plain words.

use serde_json::Value;

/// `value` as a YAML document.
pub(super) fn to_string(value: &Value) -> String {
    let mut out = String::new();
    node(value, 0, &mut out);
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => Value::String(s.clone()).to_string(),
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Object(o) if o.is_empty() => "{}".into(),
        Value::Array(_) | Value::Object(_) => String::new(),
    }
}

fn key(k: &str) -> String {
    let plain = k.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !matches!(
            k.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        );
    if plain {
        k.to_string()
    } else {
        Value::String(k.to_string()).to_string()
    }
}

fn is_block(v: &Value) -> bool {
    matches!(v, Value::Array(a) if !a.is_empty()) || matches!(v, Value::Object(o) if !o.is_empty())
}

/// Writes `v` whose first line continues the current one (after `key:` or `- `).
fn node(v: &Value, indent: usize, out: &mut String) {
    let pad = "  ".repeat(indent);
    match v {
        Value::Object(o) if !o.is_empty() => {
            for (i, (k, v)) in o.iter().enumerate() {
                if i > 0 {
                    out.push_str(&pad);
                }
                out.push_str(&key(k));
                out.push(':');
                if is_block(v) {
                    out.push('\n');
                    out.push_str(&"  ".repeat(indent + 1));
                    node(v, indent + 1, out);
                } else {
                    out.push(' ');
                    out.push_str(&scalar(v));
                    out.push('\n');
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(&pad);
                }
                out.push_str("- ");
                if is_block(v) {
                    node(v, indent + 1, out);
                } else {
                    out.push_str(&scalar(v));
                    out.push('\n');
                }
            }
        }
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}
