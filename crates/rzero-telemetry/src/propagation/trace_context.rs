//! W3C Trace Context Level 2 (<https://www.w3.org/TR/trace-context-2/>), strict.
//!
//! Written by hand because `opentelemetry_sdk::propagation::TraceContextPropagator`
//! (0.33) fails 13 of the 41 cases of the W3C test suite at SPEC_LEVEL=2 STRICT_LEVEL=2:
//!
//! - it splits `traceparent` on `-` and parses each part with `from_str_radix` /
//!   `from_hex`, which accept any length, so `0-…`, `000-…`, a 15-digit parent id and
//!   flags `1` or `001` are taken (`version_too_short/too_long`,
//!   `parent_id_too_short`, `trace_flags_too_short/too_long`), and `00-1-1-01` becomes
//!   trace `000…001`;
//! - it reads only the first of repeated fields (`Extractor::get`): two `traceparent`
//!   fields continue the first instead of restarting the trace (`traceparent_duplicated`),
//!   and several `tracestate` fields are not combined (`multiple_headers_different_keys`,
//!   `member_count_limit`, `key_length_limit`, `empty_header`);
//! - `TraceState::from_str` keeps the first 32 members and drops the rest instead of
//!   rejecting a 33-member list, and checks values only for `,` and `=`, so
//!   `foo=bar=baz`-like and empty values are forwarded (`value_illegal_characters`);
//! - `TraceState`'s key rule is Level 1's `tenant@vendor` (one `@`, a vendor of at most
//!   13 characters), so the Level 2 keys `foo@@bar`, `foo@bar@baz`, `t@` + 15 characters
//!   and 241 + `@` + 14 characters are refused and the whole list with them
//!   (`key_illegal_vendor_format`, `key_length_limit`);
//! - it keeps only the sampled flag, so Level 2's random flag (`0x02`) is lost
//!   (`propagates_random_flag`). The SDK tracer loses it too, for a span it does not
//!   sample (`TraceFlags::default()`), so the flag rides in the context as a
//!   [`RandomTraceId`] and is set on every outgoing `traceparent` of that trace, as the
//!   spec's MUST says.
//!
//! The SDK types stay at the boundary: the result is a remote `SpanContext` whose
//! `TraceState` holds every member. A Level 2 key that `TraceState` cannot hold is kept
//! beside it in the context (see [`super::tracestate`]) and written back in place on
//! injection, so the list leaves as it came.

use opentelemetry::Context;
use opentelemetry::propagation::{
    Extractor, Injector, TextMapPropagator, text_map_propagator::FieldIter,
};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId};

use super::tracestate::{self, Received};

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";
/// `version "-" trace-id "-" parent-id "-" trace-flags`: 2 + 1 + 32 + 1 + 16 + 1 + 2.
pub const TRACEPARENT_LEN: usize = 55;
/// The flags Level 2 defines: sampled and random. Others are zeroed when forwarded.
const KNOWN_FLAGS: u8 = 0x03;
/// The random flag (Level 2): the trace id's right 7 bytes are random.
pub(crate) const RANDOM: TraceFlags = TraceFlags::new(0x02);

/// The received trace id had the random flag: it goes out on every `traceparent` of that
/// trace, whatever the span in between did with its flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RandomTraceId(TraceId);

/// Extracts and injects W3C `traceparent` and `tracestate`, Level 2, strictly.
#[derive(Clone, Debug)]
pub struct TraceContextPropagator {
    fields: &'static [String; 2],
}

/// The field names `fields()` lends out, made once: the gateway makes a propagator for
/// every answer it stamps, and that must not cost two allocations.
static FIELDS: std::sync::LazyLock<[String; 2]> =
    std::sync::LazyLock::new(|| [TRACEPARENT.to_owned(), TRACESTATE.to_owned()]);

impl Default for TraceContextPropagator {
    fn default() -> Self {
        TraceContextPropagator::new()
    }
}

impl TraceContextPropagator {
    /// The propagator.
    pub fn new() -> Self {
        TraceContextPropagator { fields: &FIELDS }
    }
}

impl TextMapPropagator for TraceContextPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let Some((traceparent, state)) = fields(cx) else {
            return;
        };
        // Only ASCII digits, letters and dashes: always valid UTF-8.
        let traceparent = std::str::from_utf8(&traceparent).map(str::to_owned);
        injector.set(TRACEPARENT, traceparent.unwrap_or_default());
        if !state.is_empty() {
            injector.set(TRACESTATE, state);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        // Exactly one field: two `traceparent` fields (or one with a comma-joined pair)
        // cannot be told apart from a forgery, and the spec restarts the trace.
        let Some(fields) = extractor.get_all(TRACEPARENT) else {
            return cx.clone();
        };
        let [field] = fields.as_slice() else {
            return cx.clone();
        };
        let Some(parsed) = parse_traceparent(field.as_bytes()) else {
            return cx.clone();
        };
        let states = extractor.get_all(TRACESTATE).unwrap_or_default();
        continued(cx, parsed, &states)
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields[..])
    }
}

/// [`TraceContextPropagator::extract_with_context`] reading an `http::HeaderMap` itself:
/// the same fields and the same rules, without the [`Extractor`]'s `Vec` for each field
/// and its character check of each value (the parse checks every byte anyway). The rest
/// and rpc servers read every request's headers with it.
pub(crate) fn extract_headers(cx: &Context, headers: &http::HeaderMap) -> Context {
    use super::headers::{TRACEPARENT as TRACEPARENT_NAME, TRACESTATE as TRACESTATE_NAME};
    let mut fields = headers.get_all(TRACEPARENT_NAME).into_iter();
    let (Some(field), None) = (fields.next(), fields.next()) else {
        return cx.clone();
    };
    let Some(parsed) = parse_traceparent(field.as_bytes()) else {
        return cx.clone();
    };
    let states: Vec<&str> = headers
        .get_all(TRACESTATE_NAME)
        .into_iter()
        .map(|v| v.to_str().unwrap_or(super::headers::UNREADABLE))
        .collect();
    continued(cx, parsed, &states)
}

/// `cx` continuing the caller's trace: its `traceparent`, read, and `tracestate` fields.
fn continued(cx: &Context, (trace_id, span_id, flags): Parsed, states: &[&str]) -> Context {
    let Received { state, beside } = tracestate::parse(states, trace_id);
    let sc = SpanContext::new(trace_id, span_id, flags, true, state);
    let mut cx = cx.with_remote_span_context(sc);
    if flags & RANDOM == RANDOM {
        cx = cx.with_value(RandomTraceId(trace_id));
    }
    match beside {
        Some(beside) => cx.with_value(beside),
        None => cx,
    }
}

type Parsed = (TraceId, SpanId, TraceFlags);

/// `traceparent` with the OWS around it: `None` when it is not exactly Level 2's form.
/// Bytes, not `&str`: every byte is checked here, so a header's value needs no UTF-8 or
/// visible-character check first.
fn parse_traceparent(field: &[u8]) -> Option<Parsed> {
    let ows = |c: &u8| *c == b' ' || *c == b'\t';
    let start = field.iter().position(|c| !ows(c)).unwrap_or(field.len());
    let end = field.iter().rposition(|c| !ows(c)).map_or(start, |i| i + 1);
    let b = &field[start..end];
    if b.len() < TRACEPARENT_LEN || b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
        return None;
    }
    let version = hex(&b[0..2])? as u8;
    match version {
        // Version 00 is exactly 55 characters.
        0x00 if b.len() != TRACEPARENT_LEN => return None,
        0xff => return None,
        // A later version may append fields, after a `-`; the four known ones are read.
        _ if b.len() > TRACEPARENT_LEN && b[TRACEPARENT_LEN] != b'-' => return None,
        _ => {}
    }
    let trace_id = u128::from(hex(&b[3..19])?) << 64 | u128::from(hex(&b[19..35])?);
    let span_id = hex(&b[36..52])?;
    let flags = hex(&b[53..55])? as u8;
    if trace_id == 0 || span_id == 0 {
        return None;
    }
    Some((
        TraceId::from(trace_id),
        SpanId::from(span_id),
        TraceFlags::new(flags & KNOWN_FLAGS),
    ))
}

/// Lowercase hex digits (`HEXDIGLC`) as a number; at most 16 of them.
///
/// A table lookup per digit, the check folded into one `or` (a valid digit's value has no
/// high bits, an invalid one is `0xff`): every request's `traceparent` is 50 digits, and
/// the match-per-digit version cost twice the instructions.
fn hex(digits: &[u8]) -> Option<u64> {
    debug_assert!(digits.len() <= 16);
    let mut n = 0u64;
    let mut bad = 0u8;
    for &d in digits {
        let v = HEX_VALUE[usize::from(d)];
        bad |= v;
        n = n << 4 | u64::from(v & 0x0f);
    }
    (bad & 0xf0 == 0).then_some(n)
}

/// Each byte's value as a lowercase hex digit, `0xff` for anything else.
static HEX_VALUE: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// What [`TraceContextPropagator`] injects for `cx`'s span: `traceparent` in a stack
/// array and `tracestate` (empty when there is none), or `None` for an invalid span.
///
/// For a caller that writes an `http::HeaderMap` itself (the rest server stamps every
/// answer): going through [`Injector`] costs a `String` per field and a second check of
/// every byte.
pub fn fields(cx: &Context) -> Option<([u8; TRACEPARENT_LEN], String)> {
    let span = cx.span();
    let sc = span.span_context();
    if !sc.is_valid() {
        return None;
    }
    let mut flags = sc.trace_flags().to_u8() & KNOWN_FLAGS;
    if cx.get::<RandomTraceId>() == Some(&RandomTraceId(sc.trace_id())) {
        flags |= RANDOM.to_u8();
    }
    Some((format_traceparent(sc, flags), tracestate::header(cx, sc)))
}

/// `00-{trace-id}-{parent-id}-{flags}`, written without the formatting machinery (pushing
/// the 55 characters one by one onto a `String` checks its capacity and encodes a `char`
/// for each).
fn format_traceparent(sc: &SpanContext, flags: u8) -> [u8; TRACEPARENT_LEN] {
    let mut out = *b"00-00000000000000000000000000000000-0000000000000000-00";
    let trace_id = u128::from_be_bytes(sc.trace_id().to_bytes());
    out[3..19].copy_from_slice(&hex16((trace_id >> 64) as u64));
    out[19..35].copy_from_slice(&hex16(trace_id as u64));
    out[36..52].copy_from_slice(&hex16(u64::from_be_bytes(sc.span_id().to_bytes())));
    out[53..55].copy_from_slice(&hex16(u64::from(flags))[14..]);
    out
}

/// `v` as 16 lowercase hex digits, eight at a time in a `u64` (one nibble spread to each
/// byte, then `'0'` or `'a' - 10` added to all eight at once) instead of a table lookup
/// and two bounds checks per byte.
fn hex16(v: u64) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&hex8((v >> 32) as u32));
    out[8..].copy_from_slice(&hex8(v as u32));
    out
}

fn hex8(v: u32) -> [u8; 8] {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut x = u64::from(v);
    x = (x | x << 16) & 0x0000_ffff_0000_ffff;
    x = (x | x << 8) & 0x00ff_00ff_00ff_00ff;
    x = (x | x << 4) & 0x0f0f_0f0f_0f0f_0f0f;
    // 1 in each byte whose nibble is 10 or more; `'a' - '0' - 10` is 39.
    let letters = ((x + 6 * ONES) >> 4) & ONES;
    (x + u64::from(b'0') * ONES + letters * 39).to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::{hex, hex16};

    #[test]
    fn hex16_writes_what_format_writes() {
        let mut v = 0x9e37_79b9_7f4a_7c15u64;
        let edges = [
            0,
            1,
            9,
            10,
            15,
            16,
            0xa0,
            u64::MAX,
            0x0123_4567_89ab_cdef,
            1 << 63,
        ];
        for x in edges.into_iter().chain((0..10_000).map(|_| {
            // xorshift: many values, every nibble in every position.
            v ^= v << 13;
            v ^= v >> 7;
            v ^= v << 17;
            v
        })) {
            assert_eq!(hex16(x), *format!("{x:016x}").as_bytes(), "{x:#x}");
        }
    }

    #[test]
    fn hex_reads_lowercase_digits_only() {
        assert_eq!(hex(b"0123456789abcdef"), Some(0x0123_4567_89ab_cdef));
        assert_eq!(hex(b"ffffffffffffffff"), Some(u64::MAX));
        assert_eq!(hex(b"00"), Some(0));
        assert_eq!(hex(b""), Some(0));
        for byte in 0..=255u8 {
            let valid = byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte);
            let digits = [b'0', byte, b'1'];
            assert_eq!(hex(&digits).is_some(), valid, "{byte:#x}");
        }
    }
}
