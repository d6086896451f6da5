//! The store's traces in Jaeger's JSON model (`model/json` of Jaeger: what its HTTP query
//! API answers and its UI and Grafana's Jaeger data source read).
//!
//! OTLP to Jaeger as Jaeger's own OTLP translator does it: the parent becomes a
//! `CHILD_OF` reference; the span kind, status and scope become the tags `span.kind`,
//! `otel.status_code`, `otel.status_description`, `error` and `otel.scope.name`; events
//! become logs with an `event` field; each distinct resource becomes a process.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::store::{Attributes, StoredSpan, Trace};

/// `{key, type, value}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct KeyValue {
    pub(crate) key: String,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) value: Value,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Reference {
    pub(crate) ref_type: &'static str,
    #[serde(rename = "traceID")]
    pub(crate) trace_id: String,
    #[serde(rename = "spanID")]
    pub(crate) span_id: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Log {
    pub(crate) timestamp: u64,
    pub(crate) fields: Vec<KeyValue>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Span {
    #[serde(rename = "traceID")]
    pub(crate) trace_id: String,
    #[serde(rename = "spanID")]
    pub(crate) span_id: String,
    pub(crate) operation_name: String,
    pub(crate) references: Vec<Reference>,
    pub(crate) start_time: u64,
    pub(crate) duration: u64,
    pub(crate) tags: Vec<KeyValue>,
    pub(crate) logs: Vec<Log>,
    #[serde(rename = "processID")]
    pub(crate) process_id: String,
    pub(crate) warnings: Option<Vec<String>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Process {
    pub(crate) service_name: String,
    pub(crate) tags: Vec<KeyValue>,
}

#[derive(Debug, Serialize)]
pub(crate) struct JaegerTrace {
    #[serde(rename = "traceID")]
    pub(crate) trace_id: String,
    pub(crate) spans: Vec<Span>,
    pub(crate) processes: BTreeMap<String, Process>,
    pub(crate) warnings: Option<Vec<String>>,
}

/// One attribute as a Jaeger tag: strings, booleans, integers and floats keep their
/// type; arrays and maps become their JSON text (Jaeger has no such types).
pub(crate) fn tag(key: &str, v: &Value) -> KeyValue {
    let (kind, value) = match v {
        Value::String(_) => ("string", v.clone()),
        Value::Bool(_) => ("bool", v.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => ("int64", v.clone()),
        Value::Number(_) => ("float64", v.clone()),
        Value::Null => ("string", Value::String(String::new())),
        other => ("string", Value::String(other.to_string())),
    };
    KeyValue {
        key: key.to_owned(),
        kind,
        value,
    }
}

fn tags(a: &Attributes) -> Vec<KeyValue> {
    a.iter().map(|(k, v)| tag(k, v)).collect()
}

fn string_tag(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        kind: "string",
        value: Value::String(value.to_owned()),
    }
}

/// The tags Jaeger derives from a span's OTLP fields, after its attributes.
pub(crate) fn span_tags(s: &StoredSpan) -> Vec<KeyValue> {
    let mut out = tags(&s.attributes);
    if s.kind != "Unspecified" {
        out.push(string_tag("span.kind", &s.kind.to_ascii_lowercase()));
    }
    if !s.scope.is_empty() {
        out.push(string_tag("otel.scope.name", &s.scope));
    }
    match s.status_code.as_str() {
        "Error" => {
            out.push(string_tag("otel.status_code", "ERROR"));
            out.push(KeyValue {
                key: "error".to_owned(),
                kind: "bool",
                value: Value::Bool(true),
            });
        }
        "Ok" => out.push(string_tag("otel.status_code", "OK")),
        _ => {}
    }
    if !s.status_message.is_empty() {
        out.push(string_tag("otel.status_description", &s.status_message));
    }
    out
}

/// A value as Jaeger compares it with a tag filter: its text.
pub(crate) fn tag_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A stored trace in Jaeger's model.
pub(crate) fn trace(t: &Trace) -> JaegerTrace {
    let mut processes = BTreeMap::new();
    for (i, r) in t.resources.iter().enumerate() {
        let service = match r.get("service.name") {
            Some(Value::String(s)) => s.clone(),
            _ => "unknown_service".to_owned(),
        };
        let tags = r
            .iter()
            .filter(|(k, _)| k.as_str() != "service.name")
            .map(|(k, v)| tag(k, v))
            .collect();
        processes.insert(
            format!("p{}", i + 1),
            Process {
                service_name: service,
                tags,
            },
        );
    }
    let spans = t
        .spans
        .iter()
        .map(|s| Span {
            trace_id: s.trace_id.clone(),
            span_id: s.span_id.clone(),
            operation_name: s.name.clone(),
            // The parent, then the links, as Jaeger's OTLP translator makes them.
            references: s
                .parent_span_id
                .iter()
                .map(|p| Reference {
                    ref_type: "CHILD_OF",
                    trace_id: s.trace_id.clone(),
                    span_id: p.clone(),
                })
                .chain(s.links.iter().map(|l| Reference {
                    ref_type: "FOLLOWS_FROM",
                    trace_id: l.trace_id.clone(),
                    span_id: l.span_id.clone(),
                }))
                .collect(),
            start_time: s.start_unix_nanos / 1000,
            duration: s.duration_nanos() / 1000,
            tags: span_tags(s),
            logs: s
                .events
                .iter()
                .map(|e| Log {
                    timestamp: e.time_unix_nanos / 1000,
                    fields: std::iter::once(string_tag("event", &e.name))
                        .chain(tags(&e.attributes))
                        .collect(),
                })
                .collect(),
            process_id: format!("p{}", s.resource_index + 1),
            warnings: None,
        })
        .collect();
    JaegerTrace {
        trace_id: t.trace_id.clone(),
        spans,
        processes,
        warnings: None,
    }
}
