//! OTLP protobuf (`ExportTraceServiceRequest`) written straight from [`SpanData`].
//!
//! Why not opentelemetry-proto's types and prost: the SDK's exporter converts every span
//! into owned proto structs first (a `String` per attribute key and string value, a `Vec`
//! per id, per attribute list, per event) and then encodes those, and its gRPC exporter
//! also clones the whole batch to keep it for retries.
//!
//! Here each span is written when it ends, on the thread that ended it ([`Encoded::push`]),
//! in one pass straight into the buffer's tail: a nested message whose size is not known
//! before it is written (an attribute, event, link) gets a one-byte length that is
//! patched when the message ends, and widened, its bytes moved right, in the rare case
//! that it is 128 bytes or more (a long attribute value). A sizing pass before the
//! writing one cost more than the writing (about 900 of 2,200 instructions a span, by
//! callgrind). Then the `SpanData` is dropped where its strings and vectors were
//! allocated, so the allocator takes them back into that thread's cache; handed to the
//! export thread, each span's memory went to another thread's free lists, and the next
//! span's allocations missed the cache (about 1,000 instructions a span, by callgrind).
//! What is queued is then a few hundred bytes a span, not a `SpanData` and its heap.
//!
//! The export thread ([`Encoder::encode_batch`]) only frames: the resource (encoded once
//! per resource), each scope and the spans' bytes, copied whole. Nothing is allocated per
//! span (the one exception: a span or link with a non-empty `tracestate` has it rendered
//! to a string). Every length is written in protobuf's shortest form, as prost writes it.
//!
//! The wire format is the one opentelemetry-proto 0.33 produces: the same fields, the same
//! defaults left out, the same span flags; only the order of scopes in a batch may differ
//! (first seen first, where the SDK's grouping uses a hash map). The tests decode what is
//! written here with prost and compare it to the SDK's own conversion.

use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanId, SpanKind, Status};
use opentelemetry::{Array, InstrumentationScope, KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;

use super::worker::LOG_TARGET;

const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LEN: u32 = 2;
const FIXED32: u32 = 5;

/// `SpanFlags.SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK` and `..._IS_REMOTE_MASK`.
const HAS_IS_REMOTE: u32 = 0x100;
const IS_REMOTE: u32 = 0x200;

// The export thread's half: requests framed from the spans written here.
#[path = "frame.rs"]
mod frame;

pub(crate) use frame::Encoder;

/// Ended spans, each written as the content of an OTLP `Span` message, back to back, with
/// the scope each belongs to: what a shard of the processor buffers. Keeps its buffers
/// when cleared.
#[derive(Debug, Default)]
pub(crate) struct Encoded {
    bytes: Vec<u8>,
    entries: Vec<Entry>,
    /// The distinct scopes of `entries`, first seen first.
    scopes: Vec<InstrumentationScope>,
}

/// Where one span's bytes are, and its scope.
#[derive(Debug, Clone, Copy)]
struct Entry {
    scope: usize,
    at: usize,
    len: usize,
}

// === impl Encoded ===

impl Encoded {
    /// Spans held.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets every span, keeping the buffers' capacity.
    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
        self.entries.clear();
        self.scopes.clear();
    }

    /// Writes `span` after the others.
    pub(crate) fn push(&mut self, span: &SpanData) {
        let at = self.bytes.len();
        Out::new(&mut self.bytes).span(span);
        let scope = self.scope_index(&span.instrumentation_scope);
        self.entries.push(Entry {
            scope,
            at,
            len: self.bytes.len() - at,
        });
    }

    /// Moves every span of `other` after these, leaving `other` empty (its buffers kept).
    pub(crate) fn append(&mut self, other: &mut Encoded) {
        if self.is_empty() {
            // Taken whole: its buffers swapped in, nothing copied.
            std::mem::swap(&mut self.bytes, &mut other.bytes);
            std::mem::swap(&mut self.entries, &mut other.entries);
            std::mem::swap(&mut self.scopes, &mut other.scopes);
            other.clear();
            return;
        }
        let remap: Vec<usize> = other.scopes.iter().map(|s| self.scope_index(s)).collect();
        let base = self.bytes.len();
        self.bytes.extend_from_slice(&other.bytes);
        self.entries.extend(other.entries.iter().map(|e| Entry {
            scope: remap[e.scope],
            at: base + e.at,
            len: e.len,
        }));
        other.clear();
    }

    /// The index of `scope` in `scopes`, added if new. Services have one or a few scopes,
    /// so a linear search beats hashing the scope (name, version, attributes).
    fn scope_index(&mut self, scope: &InstrumentationScope) -> usize {
        match self.scopes.iter().position(|s| same_scope(s, scope)) {
            Some(i) => i,
            None => {
                self.scopes.push(scope.clone());
                self.scopes.len() - 1
            }
        }
    }
}

/// Whether two spans' scopes are equal. The SDK gives every span a clone of its tracer's
/// scope, whose strings are usually `&'static` and attributes none: then the same
/// addresses answer at once, where `==` compares each string and the attributes
/// (about 200 instructions a span).
fn same_scope(a: &InstrumentationScope, b: &InstrumentationScope) -> bool {
    fn same(x: &str, y: &str) -> bool {
        std::ptr::eq(x, y)
    }
    let fast = same(a.name(), b.name())
        && same(
            a.version().unwrap_or_default(),
            b.version().unwrap_or_default(),
        )
        && same(
            a.schema_url().unwrap_or_default(),
            b.schema_url().unwrap_or_default(),
        )
        && a.version().is_some() == b.version().is_some()
        && a.schema_url().is_some() == b.schema_url().is_some()
        && a.attributes().next().is_none()
        && b.attributes().next().is_none();
    fast || a == b
}

// === sizes (whole fields: tag, length and content), for what is framed per batch ===

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

// === impl Out ===

/// Appends protobuf to a buffer. A message whose size is known first is written with
/// [`Out::len`] and its content; one whose size is not, with [`Out::nested`].
struct Out<'a> {
    buf: &'a mut Vec<u8>,
}

impl<'a> Out<'a> {
    fn new(buf: &'a mut Vec<u8>) -> Self {
        Out { buf }
    }

    #[inline(always)]
    fn byte(&mut self, b: u8) {
        self.buf.push(b);
    }

    #[inline(always)]
    fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    #[inline(always)]
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.byte((v as u8) | 0x80);
            v >>= 7;
        }
        self.byte(v as u8);
    }

    /// Every tag here is a constant, so with this inlined the loop folds to one or two
    /// byte stores.
    #[inline(always)]
    fn tag(&mut self, field: u32, wire: u32) {
        self.varint(u64::from((field << 3) | wire));
    }

    #[inline(always)]
    fn len(&mut self, field: u32, len: usize) {
        self.tag(field, LEN);
        self.varint(len as u64);
    }

    /// A length-delimited `field` whose content `write` appends: its length is reserved
    /// as one byte and set once the content is written (most of a span's messages are
    /// under 128 bytes), or widened by [`Out::widen`].
    #[inline(always)]
    fn nested(&mut self, field: u32, write: impl FnOnce(&mut Self)) {
        self.tag(field, LEN);
        let at = self.buf.len();
        self.byte(0);
        write(self);
        let len = self.buf.len() - at - 1;
        match self.buf.get_mut(at) {
            Some(slot) if len < 0x80 => *slot = len as u8,
            _ => self.widen(at, len),
        }
    }

    /// Writes `len` as the varint at `at`, where one byte was reserved for it, moving the
    /// `len` bytes of content after it right to make room.
    #[cold]
    fn widen(&mut self, at: usize, len: usize) {
        let width = varint_len(len as u64);
        let end = self.buf.len();
        self.buf.resize(end + width - 1, 0);
        self.buf.copy_within(at + 1..end, at + width);
        let mut v = len as u64;
        for (i, slot) in self.buf.iter_mut().skip(at).take(width).enumerate() {
            let more = if i + 1 < width { 0x80 } else { 0 };
            *slot = (v as u8 & 0x7f) | more;
            v >>= 7;
        }
    }

    #[inline(always)]
    fn bytes(&mut self, field: u32, bytes: &[u8]) {
        self.len(field, bytes.len());
        self.raw(bytes);
    }

    #[inline(always)]
    fn str(&mut self, field: u32, s: &str) {
        if !s.is_empty() {
            self.bytes(field, s.as_bytes());
        }
    }

    #[inline(always)]
    fn u32(&mut self, field: u32, v: u32) {
        if v != 0 {
            self.tag(field, VARINT);
            self.varint(u64::from(v));
        }
    }

    #[inline(always)]
    fn fixed64(&mut self, field: u32, v: u64) {
        if v != 0 {
            self.tag(field, FIXED64);
            self.raw(&v.to_le_bytes());
        }
    }

    /// Written even when 0 (only the span and link flags use it, and they never are).
    #[inline(always)]
    fn fixed32(&mut self, field: u32, v: u32) {
        self.tag(field, FIXED32);
        self.raw(&v.to_le_bytes());
    }

    fn any(&mut self, v: &Value) {
        match v {
            Value::String(s) => self.bytes(1, s.as_str().as_bytes()),
            Value::Bool(b) => {
                self.tag(2, VARINT);
                self.byte(u8::from(*b));
            }
            Value::I64(i) => {
                self.tag(3, VARINT);
                self.varint(*i as u64);
            }
            Value::F64(f) => {
                self.tag(4, FIXED64);
                self.raw(&f.to_le_bytes());
            }
            Value::Array(a) => {
                self.len(5, array_len(a));
                self.array(a);
            }
            _ => {}
        }
    }

    fn array(&mut self, a: &Array) {
        let each = |out: &mut Self, v: &Value| {
            out.len(1, any_len(v));
            out.any(v);
        };
        match a {
            Array::Bool(v) => v.iter().for_each(|b| each(self, &Value::Bool(*b))),
            Array::I64(v) => v.iter().for_each(|i| each(self, &Value::I64(*i))),
            Array::F64(v) => v.iter().for_each(|f| each(self, &Value::F64(*f))),
            Array::String(v) => {
                for s in v {
                    self.len(1, len_field(1, s.as_str().len()));
                    self.bytes(1, s.as_str().as_bytes());
                }
            }
            _ => {}
        }
    }

    /// A `KeyValue`'s content. The `AnyValue`'s size is cheap to know first (a string's
    /// length, a number's varint), so it is not patched.
    #[inline(always)]
    fn kv(&mut self, key: &str, value: &Value) {
        self.str(1, key);
        self.len(2, any_len(value));
        self.any(value);
    }

    fn attrs(&mut self, field: u32, attrs: &[KeyValue]) {
        for kv in attrs {
            self.nested(field, |out| out.kv(kv.key.as_str(), &kv.value));
        }
    }

    fn scope(&mut self, scope: &InstrumentationScope) {
        self.str(1, scope.name());
        self.str(2, scope.version().unwrap_or_default());
        for kv in scope.attributes() {
            self.len(3, kv_len(kv.key.as_str(), &kv.value));
            self.kv(kv.key.as_str(), &kv.value);
        }
    }

    /// The content of the `Span` message (its tag and length are the batch's to write).
    fn span(&mut self, s: &SpanData) {
        let cx = &s.span_context;
        self.bytes(1, &cx.trace_id().to_bytes());
        self.bytes(2, &cx.span_id().to_bytes());
        self.str(3, &cx.trace_state().header());
        if s.parent_span_id != SpanId::INVALID {
            self.bytes(4, &s.parent_span_id.to_bytes());
        }
        self.str(5, &s.name);
        self.u32(6, kind(&s.span_kind));
        self.fixed64(7, nanos(s.start_time));
        self.fixed64(8, nanos(s.end_time));
        self.attrs(9, &s.attributes);
        self.u32(10, s.dropped_attributes_count);
        for e in s.events.iter() {
            self.nested(11, |out| {
                out.fixed64(1, nanos(e.timestamp));
                out.str(2, &e.name);
                out.attrs(3, &e.attributes);
                out.u32(4, e.dropped_attributes_count);
            });
        }
        self.u32(12, s.events.dropped_count);
        for l in s.links.iter() {
            let lcx = &l.span_context;
            self.nested(13, |out| {
                out.bytes(1, &lcx.trace_id().to_bytes());
                out.bytes(2, &lcx.span_id().to_bytes());
                out.str(3, &lcx.trace_state().header());
                out.attrs(4, &l.attributes);
                out.u32(5, l.dropped_attributes_count);
                out.fixed32(6, flags(lcx.is_remote(), lcx.trace_flags().to_u8()));
            });
        }
        self.u32(14, s.links.dropped_count);
        self.len(15, status_len(&s.status));
        match &s.status {
            Status::Unset => {}
            Status::Ok => self.u32(3, 1),
            Status::Error { description } => {
                self.str(2, description);
                self.u32(3, 2);
            }
        }
        self.fixed32(16, flags(s.parent_span_is_remote, cx.trace_flags().to_u8()));
    }
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
