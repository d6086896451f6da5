//! Jaeger's propagation format: `uber-trace-id: {trace-id}:{span-id}:{parent-id}:{flags}`
//! and baggage as `uberctx-{key}: {url-encoded value}`
//! (<https://www.jaegertracing.io/docs/latest/client-libraries/#propagation-format>).
//!
//! Written here because the maintained crate, `opentelemetry-jaeger-propagator`, is
//! deprecated and its last release (0.32) is built on opentelemetry 0.32, whose
//! `TextMapPropagator` is another trait than 0.33's. The format is small: ids are hex of
//! up to 32 / 16 digits (shorter ones are left-padded), the parent id is ignored, flags
//! are hex with bit 1 sampled and bit 2 debug (which implies sampled). Like
//! OpenTelemetry's other Jaeger propagators, `uberctx-*` is read as baggage, within the
//! same limits as W3C baggage.

use opentelemetry::Context;
use opentelemetry::baggage::{BaggageExt, KeyValueMetadata};
use opentelemetry::propagation::{
    Extractor, Injector, TextMapPropagator, text_map_propagator::FieldIter,
};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};

use super::baggage::{MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBERS, MAX_MEMBER_BYTES};

const HEADER: &str = "uber-trace-id";
const BAGGAGE_PREFIX: &str = "uberctx-";

/// Extracts and injects Jaeger's `uber-trace-id` and `uberctx-*` fields.
#[derive(Clone, Debug)]
pub struct JaegerPropagator {
    fields: [String; 1],
}

impl Default for JaegerPropagator {
    fn default() -> Self {
        JaegerPropagator::new()
    }
}

impl JaegerPropagator {
    /// The propagator.
    pub fn new() -> Self {
        JaegerPropagator {
            fields: [HEADER.to_owned()],
        }
    }
}

impl TextMapPropagator for JaegerPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if sc.is_valid() {
            let flags = if sc.is_sampled() { 1 } else { 0 };
            injector.set(
                HEADER,
                format!("{}:{}:0:{flags}", sc.trace_id(), sc.span_id()),
            );
        }
        let mut total = 0;
        for (count, (key, (value, _))) in cx.baggage().into_iter().enumerate() {
            let value = encode(value.as_str());
            let size = key.as_str().len() + value.len();
            if count == MAX_BAGGAGE_MEMBERS || size > MAX_MEMBER_BYTES {
                break;
            }
            total += size;
            if total > MAX_BAGGAGE_BYTES {
                break;
            }
            injector.set(&format!("{BAGGAGE_PREFIX}{}", key.as_str()), value);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let mut cx = cx.clone();
        if let Some(fields) = extractor.get_all(HEADER)
            && let [field] = fields.as_slice()
            && let Some(sc) = parse(field)
        {
            cx = cx.with_remote_span_context(sc);
        }
        let mut members = Vec::new();
        let mut total = 0;
        for key in extractor.keys() {
            let Some(name) = key.strip_prefix(BAGGAGE_PREFIX).filter(|n| !n.is_empty()) else {
                continue;
            };
            let value = extractor.get(key).unwrap_or_default();
            total += key.len() + value.len();
            if members.len() == MAX_BAGGAGE_MEMBERS || total > MAX_BAGGAGE_BYTES {
                // Over a limit: none of it, as for W3C baggage.
                return cx;
            }
            if key.len() + value.len() <= MAX_MEMBER_BYTES
                && let Some(value) = decode(value)
            {
                members.push(KeyValueMetadata::new(name.to_owned(), value, ""));
            }
        }
        if members.is_empty() {
            cx
        } else {
            cx.with_baggage(members)
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields)
    }
}

/// `trace:span:parent:flags`, also URL-encoded (`%3A` for `:`), as some clients send it.
fn parse(field: &str) -> Option<SpanContext> {
    let field = field.trim();
    let decoded;
    let field = if field.contains(':') {
        field
    } else {
        decoded = field.replace("%3A", ":").replace("%3a", ":");
        &decoded
    };
    let mut parts = field.split(':');
    let (trace, span, _parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let trace_id = hex(trace, 32)?;
    let span_id = hex(span, 16)? as u64;
    let flags = hex(flags, 2)? as u8;
    if trace_id == 0 || span_id == 0 {
        return None;
    }
    // Bit 1 sampled, bit 2 debug (sampled too); firehose and the rest have no W3C
    // counterpart and are not carried.
    let sampled = flags & 0x03 != 0;
    Some(SpanContext::new(
        TraceId::from(trace_id),
        SpanId::from(span_id),
        if sampled {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::NOT_SAMPLED
        },
        true,
        TraceState::NONE,
    ))
}

/// 1 to `max` hex digits, either case.
fn hex(s: &str, max: usize) -> Option<u128> {
    if s.is_empty() || s.len() > max {
        return None;
    }
    u128::from_str_radix(s, 16)
        .ok()
        .filter(|_| s.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// URL-decoding; `None` when the result is not UTF-8.
fn decode(value: &str) -> Option<String> {
    let b = value.trim().as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// URL-encoding of everything but unreserved characters.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.bytes() {
        if c.is_ascii_alphanumeric() || b"-._~".contains(&c) {
            out.push(char::from(c));
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}
