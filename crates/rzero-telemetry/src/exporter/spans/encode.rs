//! OTLP protobuf (`ExportTraceServiceRequest`) written straight from [`SpanData`].
//!
//! Why not opentelemetry-proto's types and prost: the SDK's exporter converts every span
//! into owned proto structs first (a `String` per attribute key and string value, a `Vec`
//! per id, per attribute list, per event) and then encodes those, and its gRPC exporter
//! also clones the whole batch to keep it for retries. Here the message is written in
//! one pass into one reused buffer: the sizes that protobuf puts before every nested
//! message are computed first (span sizes are kept, the small messages below a span are
//! cheap to size again), so no byte is written twice and nothing is allocated per span
//! (the one exception: a span with a non-empty `tracestate` has it rendered to a string).
//!
//! The wire format is the one opentelemetry-proto 0.33 produces: the same fields, the same
//! defaults left out, the same span flags; only the order of scopes in a batch may differ
//! (first seen first, where the SDK's grouping uses a hash map). The tests decode what is
//! written here with prost and compare it to the SDK's own conversion.

use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanId, SpanKind, Status};
use opentelemetry::{Array, InstrumentationScope, KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SpanData;

const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LEN: u32 = 2;
const FIXED32: u32 = 5;

/// `SpanFlags.SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK` and `..._IS_REMOTE_MASK`.
const HAS_IS_REMOTE: u32 = 0x100;
const IS_REMOTE: u32 = 0x200;

/// Encodes batches of spans for one resource; keeps its buffers between batches.
#[derive(Debug, Default)]
pub(crate) struct Encoder {
    /// The encoded `Resource` message (its content, without tag and length).
    resource: Vec<u8>,
    resource_schema: String,
    /// The last request written.
    buf: Vec<u8>,
    /// The content size of each span of the batch being written.
    sizes: Vec<usize>,
    /// Spans grouped by scope: the indices of the spans of each scope, first seen first.
    groups: Vec<Vec<usize>>,
}

// === impl Encoder ===

impl Encoder {
    /// Sets the resource every later batch is reported under.
    pub(crate) fn set_resource(&mut self, resource: &Resource) {
        self.resource.clear();
        for (k, v) in resource.iter() {
            let len = kv_len(k.as_str(), v);
            put_len(&mut self.resource, 1, len);
            put_kv(&mut self.resource, k.as_str(), v);
        }
        self.resource_schema = resource.schema_url().unwrap_or_default().to_owned();
    }

    /// Writes one `ExportTraceServiceRequest` holding `spans`; the bytes stay valid until
    /// the next call.
    pub(crate) fn encode(&mut self, spans: &[SpanData]) -> &[u8] {
        self.group(spans);
        self.sizes.clear();
        self.sizes.extend(spans.iter().map(span_len));

        let mut scope_spans_len = Vec::with_capacity(self.groups.len());
        let mut resource_spans =
            len_field(1, self.resource.len()) + str_field(3, &self.resource_schema);
        for group in &self.groups {
            let scope = &spans[group[0]].instrumentation_scope;
            let mut len = len_field(1, scope_len(scope))
                + str_field(3, scope.schema_url().unwrap_or_default());
            len += group
                .iter()
                .map(|&i| len_field(2, self.sizes[i]))
                .sum::<usize>();
            scope_spans_len.push(len);
            resource_spans += len_field(2, len);
        }

        let buf = &mut self.buf;
        buf.clear();
        buf.reserve(len_field(1, resource_spans));
        put_len(buf, 1, resource_spans);
        put_len(buf, 1, self.resource.len());
        buf.extend_from_slice(&self.resource);
        for (group, len) in self.groups.iter().zip(scope_spans_len) {
            put_len(buf, 2, len);
            let scope = &spans[group[0]].instrumentation_scope;
            put_len(buf, 1, scope_len(scope));
            put_scope(buf, scope);
            for &i in group {
                put_len(buf, 2, self.sizes[i]);
                put_span(buf, &spans[i]);
            }
            put_str(buf, 3, scope.schema_url().unwrap_or_default());
        }
        put_str(buf, 3, &self.resource_schema);
        &self.buf
    }

    /// Fills `groups` with the span indices of each scope. Services have one or a few
    /// scopes, so a linear search beats hashing the scope (name, version, attributes).
    fn group(&mut self, spans: &[SpanData]) {
        for g in &mut self.groups {
            g.clear();
        }
        let mut used = 0;
        for (i, span) in spans.iter().enumerate() {
            let scope = &span.instrumentation_scope;
            let found = self.groups[..used]
                .iter()
                .position(|g| spans[g[0]].instrumentation_scope == *scope);
            match found {
                Some(g) => self.groups[g].push(i),
                None => {
                    if used == self.groups.len() {
                        self.groups.push(Vec::new());
                    }
                    self.groups[used].push(i);
                    used += 1;
                }
            }
        }
        self.groups.truncate(used);
    }
}

// === sizes (whole fields: tag, length and content) ===

fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

fn tag_len(field: u32) -> usize {
    varint_len(u64::from(field << 3))
}

fn len_field(field: u32, len: usize) -> usize {
    tag_len(field) + varint_len(len as u64) + len
}

fn str_field(field: u32, s: &str) -> usize {
    if s.is_empty() {
        0
    } else {
        len_field(field, s.len())
    }
}

fn u32_field(field: u32, v: u32) -> usize {
    if v == 0 {
        0
    } else {
        tag_len(field) + varint_len(u64::from(v))
    }
}

fn fixed64_field(field: u32, v: u64) -> usize {
    if v == 0 { 0 } else { tag_len(field) + 8 }
}

fn fixed32_field(field: u32, v: u32) -> usize {
    if v == 0 { 0 } else { tag_len(field) + 4 }
}

/// The content of an `AnyValue` (a oneof: written even when it holds a default).
fn any_len(v: &Value) -> usize {
    match v {
        Value::Bool(_) => 2,
        Value::I64(i) => 1 + varint_len(*i as u64),
        Value::F64(_) => 9,
        Value::String(s) => len_field(1, s.as_str().len()),
        Value::Array(a) => len_field(5, array_len(a)),
        _ => 0,
    }
}

/// The content of an `ArrayValue`: each element an `AnyValue` in field 1.
fn array_len(a: &Array) -> usize {
    match a {
        Array::Bool(v) => v.len() * len_field(1, 2),
        Array::I64(v) => v
            .iter()
            .map(|i| len_field(1, 1 + varint_len(*i as u64)))
            .sum(),
        Array::F64(v) => v.len() * len_field(1, 9),
        Array::String(v) => v
            .iter()
            .map(|s| len_field(1, len_field(1, s.as_str().len())))
            .sum(),
        _ => 0,
    }
}

fn kv_len(key: &str, value: &Value) -> usize {
    str_field(1, key) + len_field(2, any_len(value))
}

fn attrs_len(field: u32, attrs: &[KeyValue]) -> usize {
    attrs
        .iter()
        .map(|kv| len_field(field, kv_len(kv.key.as_str(), &kv.value)))
        .sum()
}

fn scope_len(scope: &InstrumentationScope) -> usize {
    let attrs: usize = scope
        .attributes()
        .map(|kv| len_field(3, kv_len(kv.key.as_str(), &kv.value)))
        .sum();
    str_field(1, scope.name()) + str_field(2, scope.version().unwrap_or_default()) + attrs
}

fn status_len(status: &Status) -> usize {
    match status {
        Status::Unset => 0,
        Status::Ok => u32_field(3, 1),
        Status::Error { description } => str_field(2, description) + u32_field(3, 2),
    }
}

fn event_len(e: &opentelemetry::trace::Event) -> usize {
    fixed64_field(1, nanos(e.timestamp))
        + str_field(2, &e.name)
        + attrs_len(3, &e.attributes)
        + u32_field(4, e.dropped_attributes_count)
}

fn link_len(l: &opentelemetry::trace::Link) -> usize {
    let cx = &l.span_context;
    len_field(1, 16)
        + len_field(2, 8)
        + str_field(3, &cx.trace_state().header())
        + attrs_len(4, &l.attributes)
        + u32_field(5, l.dropped_attributes_count)
        + fixed32_field(6, flags(cx.is_remote(), cx.trace_flags().to_u8()))
}

fn span_len(s: &SpanData) -> usize {
    let cx = &s.span_context;
    let parent = if s.parent_span_id == SpanId::INVALID {
        0
    } else {
        len_field(4, 8)
    };
    len_field(1, 16)
        + len_field(2, 8)
        + str_field(3, &cx.trace_state().header())
        + parent
        + str_field(5, &s.name)
        + u32_field(6, kind(&s.span_kind))
        + fixed64_field(7, nanos(s.start_time))
        + fixed64_field(8, nanos(s.end_time))
        + attrs_len(9, &s.attributes)
        + u32_field(10, s.dropped_attributes_count)
        + s.events
            .iter()
            .map(|e| len_field(11, event_len(e)))
            .sum::<usize>()
        + u32_field(12, s.events.dropped_count)
        + s.links
            .iter()
            .map(|l| len_field(13, link_len(l)))
            .sum::<usize>()
        + u32_field(14, s.links.dropped_count)
        + len_field(15, status_len(&s.status))
        + fixed32_field(16, flags(s.parent_span_is_remote, cx.trace_flags().to_u8()))
}

// === writers ===

fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn put_tag(buf: &mut Vec<u8>, field: u32, wire: u32) {
    put_varint(buf, u64::from((field << 3) | wire));
}

fn put_len(buf: &mut Vec<u8>, field: u32, len: usize) {
    put_tag(buf, field, LEN);
    put_varint(buf, len as u64);
}

fn put_bytes(buf: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_len(buf, field, bytes.len());
    buf.extend_from_slice(bytes);
}

fn put_str(buf: &mut Vec<u8>, field: u32, s: &str) {
    if !s.is_empty() {
        put_bytes(buf, field, s.as_bytes());
    }
}

fn put_u32(buf: &mut Vec<u8>, field: u32, v: u32) {
    if v != 0 {
        put_tag(buf, field, VARINT);
        put_varint(buf, u64::from(v));
    }
}

fn put_fixed64(buf: &mut Vec<u8>, field: u32, v: u64) {
    if v != 0 {
        put_tag(buf, field, FIXED64);
        buf.extend_from_slice(&v.to_le_bytes());
    }
}

fn put_fixed32(buf: &mut Vec<u8>, field: u32, v: u32) {
    if v != 0 {
        put_tag(buf, field, FIXED32);
        buf.extend_from_slice(&v.to_le_bytes());
    }
}

fn put_any(buf: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Bool(b) => {
            put_tag(buf, 2, VARINT);
            buf.push(u8::from(*b));
        }
        Value::I64(i) => {
            put_tag(buf, 3, VARINT);
            put_varint(buf, *i as u64);
        }
        Value::F64(f) => {
            put_tag(buf, 4, FIXED64);
            buf.extend_from_slice(&f.to_le_bytes());
        }
        Value::String(s) => put_bytes(buf, 1, s.as_str().as_bytes()),
        Value::Array(a) => {
            put_len(buf, 5, array_len(a));
            put_array(buf, a);
        }
        _ => {}
    }
}

fn put_array(buf: &mut Vec<u8>, a: &Array) {
    let mut each = |v: &Value| {
        put_len(buf, 1, any_len(v));
        put_any(buf, v);
    };
    match a {
        Array::Bool(v) => v.iter().for_each(|b| each(&Value::Bool(*b))),
        Array::I64(v) => v.iter().for_each(|i| each(&Value::I64(*i))),
        Array::F64(v) => v.iter().for_each(|f| each(&Value::F64(*f))),
        Array::String(v) => {
            for s in v {
                put_len(buf, 1, len_field(1, s.as_str().len()));
                put_bytes(buf, 1, s.as_str().as_bytes());
            }
        }
        _ => {}
    }
}

fn put_kv(buf: &mut Vec<u8>, key: &str, value: &Value) {
    put_str(buf, 1, key);
    put_len(buf, 2, any_len(value));
    put_any(buf, value);
}

fn put_attrs(buf: &mut Vec<u8>, field: u32, attrs: &[KeyValue]) {
    for kv in attrs {
        put_len(buf, field, kv_len(kv.key.as_str(), &kv.value));
        put_kv(buf, kv.key.as_str(), &kv.value);
    }
}

fn put_scope(buf: &mut Vec<u8>, scope: &InstrumentationScope) {
    put_str(buf, 1, scope.name());
    put_str(buf, 2, scope.version().unwrap_or_default());
    for kv in scope.attributes() {
        put_len(buf, 3, kv_len(kv.key.as_str(), &kv.value));
        put_kv(buf, kv.key.as_str(), &kv.value);
    }
}

fn put_span(buf: &mut Vec<u8>, s: &SpanData) {
    let cx = &s.span_context;
    put_bytes(buf, 1, &cx.trace_id().to_bytes());
    put_bytes(buf, 2, &cx.span_id().to_bytes());
    put_str(buf, 3, &cx.trace_state().header());
    if s.parent_span_id != SpanId::INVALID {
        put_bytes(buf, 4, &s.parent_span_id.to_bytes());
    }
    put_str(buf, 5, &s.name);
    put_u32(buf, 6, kind(&s.span_kind));
    put_fixed64(buf, 7, nanos(s.start_time));
    put_fixed64(buf, 8, nanos(s.end_time));
    put_attrs(buf, 9, &s.attributes);
    put_u32(buf, 10, s.dropped_attributes_count);
    for e in s.events.iter() {
        put_len(buf, 11, event_len(e));
        put_fixed64(buf, 1, nanos(e.timestamp));
        put_str(buf, 2, &e.name);
        put_attrs(buf, 3, &e.attributes);
        put_u32(buf, 4, e.dropped_attributes_count);
    }
    put_u32(buf, 12, s.events.dropped_count);
    for l in s.links.iter() {
        let lcx = &l.span_context;
        put_len(buf, 13, link_len(l));
        put_bytes(buf, 1, &lcx.trace_id().to_bytes());
        put_bytes(buf, 2, &lcx.span_id().to_bytes());
        put_str(buf, 3, &lcx.trace_state().header());
        put_attrs(buf, 4, &l.attributes);
        put_u32(buf, 5, l.dropped_attributes_count);
        put_fixed32(buf, 6, flags(lcx.is_remote(), lcx.trace_flags().to_u8()));
    }
    put_u32(buf, 14, s.links.dropped_count);
    put_len(buf, 15, status_len(&s.status));
    match &s.status {
        Status::Unset => {}
        Status::Ok => put_u32(buf, 3, 1),
        Status::Error { description } => {
            put_str(buf, 2, description);
            put_u32(buf, 3, 2);
        }
    }
    put_fixed32(
        buf,
        16,
        flags(s.parent_span_is_remote, cx.trace_flags().to_u8()),
    );
}

// === field values ===

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// `Span.SpanKind`: INTERNAL 1, SERVER 2, CLIENT 3, PRODUCER 4, CONSUMER 5.
fn kind(k: &SpanKind) -> u32 {
    match k {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    }
}

/// The W3C trace flags plus OTLP's "is the parent (or link) remote" bits.
fn flags(remote: bool, trace_flags: u8) -> u32 {
    u32::from(trace_flags) | HAS_IS_REMOTE | if remote { IS_REMOTE } else { 0 }
}

#[cfg(test)]
#[path = "encode_tests.rs"]
mod tests;
