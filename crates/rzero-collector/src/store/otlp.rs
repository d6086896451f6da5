//! A stored trace back to OTLP (for "download as OTLP JSON"): what the viewer offers so
//! that a trace can be kept, attached to an issue or sent to another backend. What the
//! store cut on the way in (long strings, attribute counts) stays cut.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use serde_json::Value;

use super::model::{Attributes, StoredSpan, Trace};

fn bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

fn any(v: &Value) -> Option<AnyValue> {
    let value = match v {
        Value::Null => return None,
        Value::String(s) => any_value::Value::StringValue(s.clone()),
        Value::Bool(b) => any_value::Value::BoolValue(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => any_value::Value::IntValue(i),
            None => any_value::Value::DoubleValue(n.as_f64().unwrap_or(0.0)),
        },
        Value::Array(a) => any_value::Value::ArrayValue(ArrayValue {
            values: a.iter().filter_map(any).collect(),
        }),
        Value::Object(o) => any_value::Value::KvlistValue(KeyValueList {
            values: o
                .iter()
                .map(|(k, v)| KeyValue {
                    key: k.clone(),
                    value: any(v),
                    ..Default::default()
                })
                .collect(),
        }),
    };
    Some(AnyValue { value: Some(value) })
}

fn attributes(a: &Attributes) -> Vec<KeyValue> {
    a.iter()
        .map(|(k, v)| KeyValue {
            key: k.clone(),
            value: any(v),
            ..Default::default()
        })
        .collect()
}

fn span(s: &StoredSpan) -> Span {
    let kind = match s.kind.as_str() {
        "Internal" => 1,
        "Server" => 2,
        "Client" => 3,
        "Producer" => 4,
        "Consumer" => 5,
        _ => 0,
    };
    let code = match s.status_code.as_str() {
        "Ok" => 1,
        "Error" => 2,
        _ => 0,
    };
    Span {
        trace_id: bytes(&s.trace_id),
        span_id: bytes(&s.span_id),
        parent_span_id: s.parent_span_id.as_deref().map(bytes).unwrap_or_default(),
        name: s.name.clone(),
        kind,
        start_time_unix_nano: s.start_unix_nanos,
        end_time_unix_nano: s.end_unix_nanos,
        attributes: attributes(&s.attributes),
        events: s
            .events
            .iter()
            .map(|e| span::Event {
                time_unix_nano: e.time_unix_nanos,
                name: e.name.clone(),
                attributes: attributes(&e.attributes),
                ..Default::default()
            })
            .collect(),
        links: s
            .links
            .iter()
            .map(|l| span::Link {
                trace_id: bytes(&l.trace_id),
                span_id: bytes(&l.span_id),
                attributes: attributes(&l.attributes),
                ..Default::default()
            })
            .collect(),
        status: (code != 0 || !s.status_message.is_empty()).then(|| Status {
            code,
            message: s.status_message.clone(),
        }),
        ..Default::default()
    }
}

/// The trace as one export request: a `ResourceSpans` per resource, a `ScopeSpans` per
/// scope name within it.
pub fn to_otlp(t: &Trace) -> ExportTraceServiceRequest {
    let mut out: Vec<ResourceSpans> = t
        .resources
        .iter()
        .map(|r| ResourceSpans {
            resource: Some(Resource {
                attributes: attributes(r),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    for s in &t.spans {
        let Some(rs) = out.get_mut(s.resource_index) else {
            continue;
        };
        let at = match rs
            .scope_spans
            .iter()
            .position(|ss| ss.scope.as_ref().is_some_and(|sc| sc.name == s.scope))
        {
            Some(i) => i,
            None => {
                rs.scope_spans.push(ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: s.scope.clone(),
                        ..Default::default()
                    }),
                    ..Default::default()
                });
                rs.scope_spans.len() - 1
            }
        };
        rs.scope_spans[at].spans.push(span(s));
    }
    ExportTraceServiceRequest {
        resource_spans: out,
    }
}
