//! OTLP protobuf messages to the store's model, applying the limits on the way in.

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::ResourceLogs;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, Span, status};
use serde_json::Value;

use super::model::{Attributes, LogRecord, SpanEvent, SpanLink, StoredSpan};
use crate::config::StoreLimits;

/// Lower-case hex of `bytes`, or `None` unless it has exactly `len` bytes and is not all
/// zeros (an invalid id per the OTLP specification).
pub(crate) fn hex_id(bytes: &[u8], len: usize) -> Option<String> {
    if bytes.len() != len || bytes.iter().all(|b| *b == 0) {
        return None;
    }
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(len * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    Some(out)
}

fn value(v: &AnyValue, limits: &StoreLimits, depth: usize) -> Value {
    let Some(inner) = &v.value else {
        return Value::Null;
    };
    // Nesting beyond a few levels is not something a viewer shows; cut it.
    if depth > 8 {
        return Value::String("…".into());
    }
    match inner {
        any_value::Value::StringValue(s) => Value::String(cut(s, limits.max_value_bytes)),
        any_value::Value::BoolValue(b) => Value::Bool(*b),
        any_value::Value::IntValue(i) => Value::from(*i),
        any_value::Value::DoubleValue(d) => serde_json::Number::from_f64(*d)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(d.to_string())),
        any_value::Value::ArrayValue(a) => Value::Array(
            a.values
                .iter()
                .take(limits.max_attributes)
                .map(|v| value(v, limits, depth + 1))
                .collect(),
        ),
        any_value::Value::KvlistValue(kv) => Value::Object(
            attributes_at(&kv.values, limits, depth + 1)
                .into_iter()
                .collect(),
        ),
        any_value::Value::BytesValue(b) => Value::String(format!("<{} bytes>", b.len())),
        #[allow(unreachable_patterns)]
        _ => Value::Null,
    }
}

/// `s`, cut to at most `max` bytes on a character boundary (with `…` when cut).
pub(crate) fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

fn attributes_at(kvs: &[KeyValue], limits: &StoreLimits, depth: usize) -> Attributes {
    kvs.iter()
        .take(limits.max_attributes)
        .map(|kv| {
            let v = kv
                .value
                .as_ref()
                .map(|v| value(v, limits, depth))
                .unwrap_or(Value::Null);
            (cut(&kv.key, 256), v)
        })
        .collect()
}

pub(crate) fn attributes(kvs: &[KeyValue], limits: &StoreLimits) -> Attributes {
    attributes_at(kvs, limits, 0)
}

/// The resource's attributes and its `service.name` (`unknown_service` when absent).
pub(crate) fn resource(r: Option<&Resource>, limits: &StoreLimits) -> (Attributes, String) {
    let attrs = r
        .map(|r| attributes(&r.attributes, limits))
        .unwrap_or_default();
    let service = match attrs.get("service.name") {
        Some(Value::String(s)) => s.clone(),
        _ => "unknown_service".to_owned(),
    };
    (attrs, service)
}

fn kind(k: i32) -> &'static str {
    match k {
        1 => "Internal",
        2 => "Server",
        3 => "Client",
        4 => "Producer",
        5 => "Consumer",
        _ => "Unspecified",
    }
}

/// The spans of a request, and how many were rejected (invalid ids).
pub(crate) fn spans(batch: &[ResourceSpans], limits: &StoreLimits) -> (Vec<StoredSpan>, i64) {
    let mut out = Vec::new();
    let mut rejected = 0;
    for rs in batch {
        let (res, service) = resource(rs.resource.as_ref(), limits);
        let res = std::sync::Arc::new(res);
        for ss in &rs.scope_spans {
            let scope = ss
                .scope
                .as_ref()
                .map(|s| cut(&s.name, 256))
                .unwrap_or_default();
            for span in &ss.spans {
                match stored(span, limits) {
                    Some(mut s) => {
                        s.resource = res.clone();
                        s.service = service.clone();
                        s.scope = scope.clone();
                        out.push(s);
                    }
                    None => rejected += 1,
                }
            }
        }
    }
    (out, rejected)
}

fn stored(span: &Span, limits: &StoreLimits) -> Option<StoredSpan> {
    let trace_id = hex_id(&span.trace_id, 16)?;
    let span_id = hex_id(&span.span_id, 8)?;
    let parent_span_id = if span.parent_span_id.is_empty() {
        None
    } else {
        Some(hex_id(&span.parent_span_id, 8)?)
    };
    let (status_code, status_message) = match &span.status {
        Some(s) => {
            let code = match status::StatusCode::try_from(s.code) {
                Ok(status::StatusCode::Ok) => "Ok",
                Ok(status::StatusCode::Error) => "Error",
                _ => "Unset",
            };
            (code, cut(&s.message, limits.max_value_bytes))
        }
        None => ("Unset", String::new()),
    };
    Some(StoredSpan {
        trace_id,
        span_id,
        parent_span_id,
        name: cut(&span.name, 512),
        kind: kind(span.kind).to_owned(),
        start_unix_nanos: span.start_time_unix_nano,
        end_unix_nanos: span.end_time_unix_nano.max(span.start_time_unix_nano),
        attributes: attributes(&span.attributes, limits),
        events: span
            .events
            .iter()
            .take(limits.max_events)
            .map(|e| SpanEvent {
                name: cut(&e.name, 512),
                time_unix_nanos: e.time_unix_nano,
                attributes: attributes(&e.attributes, limits),
            })
            .collect(),
        links: span
            .links
            .iter()
            .take(limits.max_events)
            .filter_map(|l| {
                Some(SpanLink {
                    trace_id: hex_id(&l.trace_id, 16)?,
                    span_id: hex_id(&l.span_id, 8)?,
                    attributes: attributes(&l.attributes, limits),
                })
            })
            .collect(),
        status_code: status_code.to_owned(),
        status_message,
        resource: Default::default(),
        resource_index: 0,
        scope: String::new(),
        service: String::new(),
    })
}

fn severity(number: i32, text: &str) -> String {
    if !text.is_empty() {
        return cut(text, 32);
    }
    match number {
        1..=4 => "TRACE",
        5..=8 => "DEBUG",
        9..=12 => "INFO",
        13..=16 => "WARN",
        17..=20 => "ERROR",
        21..=24 => "FATAL",
        _ => "UNSPECIFIED",
    }
    .to_owned()
}

/// The log records of a request.
pub(crate) fn logs(batch: &[ResourceLogs], limits: &StoreLimits) -> Vec<LogRecord> {
    let mut out = Vec::new();
    for rl in batch {
        let (_, service) = resource(rl.resource.as_ref(), limits);
        for sl in &rl.scope_logs {
            for r in &sl.log_records {
                let body = match r.body.as_ref().map(|b| value(b, limits, 0)) {
                    Some(Value::String(s)) => s,
                    Some(Value::Null) | None => String::new(),
                    Some(other) => other.to_string(),
                };
                let time = if r.time_unix_nano != 0 {
                    r.time_unix_nano
                } else {
                    r.observed_time_unix_nano
                };
                out.push(LogRecord {
                    time_unix_nanos: time,
                    severity: severity(r.severity_number, &r.severity_text),
                    body,
                    trace_id: hex_id(&r.trace_id, 16).unwrap_or_default(),
                    span_id: hex_id(&r.span_id, 8).unwrap_or_default(),
                    attributes: attributes(&r.attributes, limits),
                    service: service.clone(),
                });
            }
        }
    }
    out
}
