//! The encoder against the SDK's own conversion: what `Encoder` writes, decoded by prost,
//! equals what opentelemetry-proto's `group_spans_by_resource_and_scope` builds.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    Event, Link, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Array, InstrumentationScope, KeyValue, StringValue, Value};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use prost::Message;

use super::{Encoded, Encoder};

fn context(trace: u128, span: u64, state: &str, remote: bool) -> SpanContext {
    let state = if state.is_empty() {
        TraceState::default()
    } else {
        state.parse().expect("tracestate")
    };
    SpanContext::new(
        TraceId::from(trace),
        SpanId::from(span),
        TraceFlags::SAMPLED,
        remote,
        state,
    )
}

fn every_value() -> Vec<KeyValue> {
    vec![
        KeyValue::new("http.request.method", "GET"),
        KeyValue::new("empty", ""),
        KeyValue::new("owned", String::from("an owned string")),
        // Lengths of two varint bytes: the attribute, its value and the span.
        KeyValue::new("long", "l".repeat(300)),
        KeyValue::new("yes", true),
        KeyValue::new("no", false),
        KeyValue::new("zero", 0_i64),
        KeyValue::new("negative", -42_i64),
        KeyValue::new("big", i64::MAX),
        KeyValue::new("pi", 3.25_f64),
        KeyValue::new("bools", Value::Array(Array::Bool(vec![true, false]))),
        KeyValue::new("ints", Value::Array(Array::I64(vec![0, -1, 300]))),
        KeyValue::new("floats", Value::Array(Array::F64(vec![0.0, 1.5]))),
        KeyValue::new(
            "strings",
            Value::Array(Array::String(vec![
                StringValue::from("a"),
                StringValue::from(""),
            ])),
        ),
        KeyValue::new("none", Value::Array(Array::I64(vec![]))),
    ]
}

fn span(i: u64, scope: &InstrumentationScope) -> SpanData {
    let start = SystemTime::UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789 + i);
    SpanData {
        span_context: context(0xabcdef + u128::from(i), 0x1000 + i, "", false),
        parent_span_id: if i.is_multiple_of(2) {
            SpanId::INVALID
        } else {
            SpanId::from(7)
        },
        parent_span_is_remote: i.is_multiple_of(3),
        span_kind: [
            SpanKind::Server,
            SpanKind::Client,
            SpanKind::Internal,
            SpanKind::Producer,
            SpanKind::Consumer,
        ][(i % 5) as usize]
            .clone(),
        name: Cow::Owned(format!("GET /api/v1/orders/{i}")),
        start_time: start,
        end_time: start + Duration::from_micros(250),
        attributes: every_value(),
        dropped_attributes_count: (i % 2) as u32,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: [Status::Unset, Status::Ok, Status::error("database is down")][(i % 3) as usize]
            .clone(),
        instrumentation_scope: scope.clone(),
    }
}

fn rich(scope: &InstrumentationScope) -> SpanData {
    let mut s = span(11, scope);
    s.span_context = context(99, 98, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", true);
    s.events.events = vec![
        Event::new("exception", SystemTime::now(), every_value(), 2),
        Event::with_name("plain"),
    ];
    s.events.dropped_count = 3;
    s.links.links = vec![
        Link::new(
            context(5, 6, "k=v", true),
            vec![KeyValue::new("a", 1_i64)],
            1,
        ),
        Link::with_context(context(8, 9, "", false)),
    ];
    s.links.dropped_count = 4;
    s
}

fn resource() -> Resource {
    Resource::builder_empty()
        .with_attributes([
            KeyValue::new("service.name", "order-api"),
            KeyValue::new("service.version", "1.2.3"),
            KeyValue::new("host.cores", 2_i64),
        ])
        .build()
}

/// Decodes what `encoder` wrote for `spans` and what the SDK builds, scopes sorted by name.
fn both(
    spans: Vec<SpanData>,
    resource: &Resource,
) -> (ExportTraceServiceRequest, ExportTraceServiceRequest) {
    let mut encoder = Encoder::default();
    encoder.set_resource(resource);
    let ours = ExportTraceServiceRequest::decode(encoder.encode(&spans)).expect("valid protobuf");
    let theirs = ExportTraceServiceRequest {
        resource_spans: group_spans_by_resource_and_scope(
            spans,
            &ResourceAttributesWithSchema::from(resource),
        ),
    };
    let sort = |mut r: ExportTraceServiceRequest| {
        for rs in &mut r.resource_spans {
            rs.scope_spans
                .sort_by_key(|s| s.scope.as_ref().map(|s| s.name.clone()));
        }
        r
    };
    (sort(ours), sort(theirs))
}

#[test]
fn writes_what_the_sdk_would_send() {
    let scope = InstrumentationScope::builder("rzero")
        .with_version("0.1.0")
        .with_schema_url("https://opentelemetry.io/schemas/1.30.0")
        .with_attributes([KeyValue::new("scope.attr", "x")])
        .build();
    let spans: Vec<_> = (0..20).map(|i| span(i, &scope)).collect();
    let (ours, theirs) = both(spans, &resource());
    assert_eq!(ours, theirs);
}

#[test]
fn events_links_tracestate_and_remote_parents() {
    let scope = InstrumentationScope::builder("rzero").build();
    let (ours, theirs) = both(vec![rich(&scope), span(3, &scope)], &resource());
    assert_eq!(ours, theirs);
    let span = &ours.resource_spans[0].scope_spans[0].spans[0];
    assert_eq!(span.events.len(), 2);
    assert_eq!(span.links.len(), 2);
    assert_eq!(span.trace_state, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
}

#[test]
fn groups_spans_by_scope() {
    let a = InstrumentationScope::builder("rzero")
        .with_version("1")
        .build();
    let b = InstrumentationScope::builder("tracing").build();
    let c = InstrumentationScope::builder("rzero")
        .with_version("2")
        .build();
    let spans = vec![
        span(0, &a),
        span(1, &b),
        span(2, &a),
        span(3, &c),
        span(4, &b),
    ];
    let (ours, theirs) = both(spans, &resource());
    assert_eq!(ours.resource_spans[0].scope_spans.len(), 3);
    // Same groups; the SDK's hash-map order aside, the same spans in the same order.
    let key = |r: &ExportTraceServiceRequest| {
        let mut groups: Vec<_> = r.resource_spans[0]
            .scope_spans
            .iter()
            .map(|s| (format!("{:?}", s.scope), s.spans.clone()))
            .collect();
        groups.sort_by(|x, y| x.0.cmp(&y.0));
        groups
    };
    assert_eq!(key(&ours), key(&theirs));
}

#[test]
fn an_empty_resource_and_reuse_across_batches() {
    let scope = InstrumentationScope::builder("s").build();
    let mut encoder = Encoder::default();
    let first = encoder.encode(&[span(1, &scope), span(2, &scope)]).to_vec();
    let second = encoder.encode(&[span(3, &scope)]).to_vec();
    assert_eq!(
        ExportTraceServiceRequest::decode(&first[..])
            .expect("first")
            .resource_spans[0]
            .scope_spans[0]
            .spans
            .len(),
        2
    );
    let (ours, theirs) = both(vec![span(3, &scope)], &Resource::builder_empty().build());
    assert_eq!(
        ExportTraceServiceRequest::decode(&second[..]).expect("second"),
        ours
    );
    assert_eq!(ours, theirs);
}

#[test]
fn a_smaller_batch_over_a_larger_one_is_written_exactly() {
    // The buffers keep their capacity from batch to batch: a batch after a
    // larger one (with events, links and trace states) must not carry any of it over.
    let scope = InstrumentationScope::builder("rzero").build();
    // One resource for both encoders: its attributes' order is a hash map's.
    let resource = resource();
    let mut reused = Encoder::default();
    reused.set_resource(&resource);
    let mut big: Vec<_> = (0..30).map(|i| span(i, &scope)).collect();
    big.push(rich(&scope));
    let _ = reused.encode(&big);
    let small = [span(4, &scope), rich(&scope)];
    let mut fresh = Encoder::default();
    fresh.set_resource(&resource);
    assert_eq!(reused.encode(&small), fresh.encode(&small));
    let (ours, theirs) = both(small.to_vec(), &resource);
    assert_eq!(ours, theirs);
}

#[test]
fn equal_scopes_in_different_strings_are_one_group() {
    // The address check is only a shortcut: scopes equal by value, made from separate
    // strings (and with attributes), still share one `ScopeSpans`.
    let make = || {
        InstrumentationScope::builder(String::from("rzero"))
            .with_version(String::from("1"))
            .with_attributes([KeyValue::new("k", "v")])
            .build()
    };
    let (a, b) = (make(), make());
    let plain = InstrumentationScope::builder("plain").build();
    let spans = vec![span(0, &a), span(1, &b), span(2, &plain), span(3, &plain)];
    let (ours, theirs) = both(spans, &resource());
    assert_eq!(ours.resource_spans[0].scope_spans.len(), 2);
    assert_eq!(ours, theirs);
}

/// Scopes sorted by name and each scope's spans, for comparing groupings.
fn groups(r: &ExportTraceServiceRequest) -> Vec<(String, Vec<Vec<u8>>)> {
    let mut g: Vec<_> = r.resource_spans[0]
        .scope_spans
        .iter()
        .map(|s| {
            let ids = s.spans.iter().map(|sp| sp.span_id.clone()).collect();
            (format!("{:?}", s.scope), ids)
        })
        .collect();
    g.sort_by(|x, y| x.0.cmp(&y.0));
    g
}

#[test]
fn shards_appended_and_sent_in_chunks_write_what_the_sdk_would() {
    // Two shards met the scopes in opposite orders; the export thread appends them and
    // sends the batch in two requests of at most three spans.
    let a = InstrumentationScope::builder("rzero")
        .with_version("1")
        .build();
    let b = InstrumentationScope::builder("tracing").build();
    let (mut one, mut two) = (Encoded::default(), Encoded::default());
    let first = [span(0, &a), span(1, &b), rich(&a)];
    let second = [span(3, &b), span(4, &a)];
    for s in &first {
        one.push(s);
    }
    for s in &second {
        two.push(s);
    }
    let mut batch = Encoded::default();
    batch.append(&mut one);
    batch.append(&mut two);
    assert!(one.is_empty() && two.is_empty());
    assert_eq!(batch.len(), 5);
    let resource = resource();
    let mut encoder = Encoder::default();
    encoder.set_resource(&resource);
    let sdk = |spans: Vec<SpanData>| ExportTraceServiceRequest {
        resource_spans: group_spans_by_resource_and_scope(
            spans,
            &ResourceAttributesWithSchema::from(&resource),
        ),
    };
    let all: Vec<SpanData> = first.iter().chain(&second).cloned().collect();
    for range in [0..5, 0..3, 3..5] {
        let ours = ExportTraceServiceRequest::decode(encoder.encode_batch(&batch, range.clone()))
            .expect("valid protobuf");
        let theirs = sdk(all[range.clone()].to_vec());
        assert_eq!(groups(&ours), groups(&theirs), "{range:?}");
        let flat = |r: &ExportTraceServiceRequest| {
            let mut spans: Vec<_> = r.resource_spans[0]
                .scope_spans
                .iter()
                .flat_map(|s| s.spans.clone())
                .collect();
            spans.sort_by(|x, y| x.span_id.cmp(&y.span_id));
            spans
        };
        assert_eq!(
            flat(&ours),
            flat(&theirs),
            "{range:?}: every field of every span"
        );
    }
    // Cleared, the buffers are reused: a later batch carries nothing of this one.
    batch.clear();
    batch.push(&span(9, &b));
    let ours = ExportTraceServiceRequest::decode(encoder.encode_batch(&batch, 0..1)).expect("one");
    assert_eq!(groups(&ours), groups(&sdk(vec![span(9, &b)])));
}

#[test]
fn every_length_is_in_the_shortest_form_prost_writes() {
    // Lengths patched after the message: one byte, and widened to two (the 300-byte
    // attribute, the event holding it) and three (a 20,000-byte value) when longer.
    let scope = InstrumentationScope::builder("rzero")
        .with_version("1")
        .build();
    let mut huge = span(3, &scope);
    huge.attributes
        .push(KeyValue::new("huge", "h".repeat(20_000)));
    huge.events.events = vec![Event::new(
        "big",
        SystemTime::UNIX_EPOCH + Duration::from_secs(1),
        vec![KeyValue::new("v", "e".repeat(200))],
        0,
    )];
    let spans = vec![span(1, &scope), rich(&scope), huge, span(2, &scope)];
    let resource = resource();
    let mut encoder = Encoder::default();
    encoder.set_resource(&resource);
    let ours = encoder.encode(&spans).to_vec();
    let theirs = ExportTraceServiceRequest {
        resource_spans: group_spans_by_resource_and_scope(
            spans,
            &ResourceAttributesWithSchema::from(&resource),
        ),
    }
    .encode_to_vec();
    assert_eq!(ours.len(), theirs.len());
    assert!(ours == theirs, "byte for byte what prost writes");
}
