//! W3C Baggage (<https://www.w3.org/TR/baggage/>) with limits: at most 180 members (the
//! grammar's `list-member 0*179( "," list-member )`), 4096 bytes a member and 8192 bytes
//! for all `baggage` fields together. On extraction a header over the member count or
//! the total is dropped whole and an oversized member is dropped alone; on injection
//! whole members are left out until what is sent fits. Baggage over a limit is never
//! forwarded, in part or whole.
//!
//! Written by hand because the SDK's `BaggagePropagator` (0.33) reads only the first
//! `baggage` field, takes the first 64 members before checking any, cuts a value at its
//! second `=` (`k=a=b` arrives as `a`; the grammar allows `=` in values), drops a member
//! whose percent-decoding is not UTF-8 (the spec asks for U+FFFD) and sends whatever the
//! context holds without a size check.
//!
//! The SDK's `Baggage` keeps at most 64 entries, so of a valid header with more members
//! the first 64 are kept and forwarded: whole members, as the W3C Recommendation allows
//! (it asks every platform to carry at least 64 members and 8192 bytes).

use opentelemetry::Context;
use opentelemetry::baggage::{BaggageExt, KeyValueMetadata};
use opentelemetry::propagation::{
    Extractor, Injector, TextMapPropagator, text_map_propagator::FieldIter,
};

const BAGGAGE: &str = "baggage";
/// Members in one baggage, across all its fields.
pub const MAX_BAGGAGE_MEMBERS: usize = 180;
/// Bytes of one member, key, value and properties, as sent.
pub const MAX_MEMBER_BYTES: usize = 4096;
/// Bytes of all `baggage` fields together, with their separators.
pub const MAX_BAGGAGE_BYTES: usize = 8192;

/// Extracts and injects W3C `baggage`, within the limits.
#[derive(Clone, Debug)]
pub struct BaggagePropagator {
    fields: [String; 1],
}

impl Default for BaggagePropagator {
    fn default() -> Self {
        BaggagePropagator::new()
    }
}

impl BaggagePropagator {
    /// The propagator.
    pub fn new() -> Self {
        BaggagePropagator {
            fields: [BAGGAGE.to_owned()],
        }
    }
}

impl TextMapPropagator for BaggagePropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let baggage = cx.baggage();
        if baggage.is_empty() {
            return;
        }
        let mut header = String::new();
        let mut count = 0;
        for (key, (value, metadata)) in baggage {
            let member = encode_member(key.as_str(), value.as_str(), metadata.as_str());
            let Some(member) = member.filter(|m| m.len() <= MAX_MEMBER_BYTES) else {
                continue;
            };
            let extra = usize::from(!header.is_empty());
            if count == MAX_BAGGAGE_MEMBERS
                || header.len() + extra + member.len() > MAX_BAGGAGE_BYTES
            {
                continue;
            }
            if extra == 1 {
                header.push(',');
            }
            header.push_str(&member);
            count += 1;
        }
        if !header.is_empty() {
            injector.set(BAGGAGE, header);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let Some(fields) = extractor.get_all(BAGGAGE) else {
            return cx.clone();
        };
        match parse(&fields) {
            Some(members) if !members.is_empty() => cx.with_baggage(members),
            _ => cx.clone(),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields)
    }
}

/// The members of all `fields`; `None` when together they break a header limit.
/// Malformed and oversized members are skipped, the rest kept.
pub(crate) fn parse(fields: &[&str]) -> Option<Vec<KeyValueMetadata>> {
    let total = fields.iter().map(|f| f.len()).sum::<usize>() + fields.len().saturating_sub(1);
    if total > MAX_BAGGAGE_BYTES {
        return None;
    }
    let mut out = Vec::new();
    let mut count = 0;
    for member in fields.iter().flat_map(|f| f.split(',')) {
        let member = member.trim_matches([' ', '\t']);
        if member.is_empty() {
            continue;
        }
        count += 1;
        if count > MAX_BAGGAGE_MEMBERS {
            return None;
        }
        if member.len() > MAX_MEMBER_BYTES {
            continue;
        }
        if let Some(kv) = parse_member(member) {
            out.push(kv);
        }
    }
    Some(out)
}

/// `key OWS "=" OWS value *( OWS ";" OWS property )`.
fn parse_member(member: &str) -> Option<KeyValueMetadata> {
    let (pair, properties) = match member.split_once(';') {
        Some((pair, props)) => (pair, Some(props)),
        None => (member, None),
    };
    let (key, value) = pair.split_once('=')?;
    let (key, value) = (trim(key), trim(value));
    if !is_token(key) || !value.bytes().all(is_baggage_octet) {
        return None;
    }
    let metadata = match properties {
        Some(props) => {
            let props: Vec<&str> = props.split(';').map(trim).collect();
            if !props.iter().all(|p| valid_property(p)) {
                return None;
            }
            props.join(";")
        }
        None => String::new(),
    };
    Some(KeyValueMetadata::new(
        key.to_owned(),
        decode(value),
        metadata,
    ))
}

/// `key OWS "=" OWS value` or `key`.
fn valid_property(p: &str) -> bool {
    match p.split_once('=') {
        Some((k, v)) => is_token(trim(k)) && trim(v).bytes().all(is_baggage_octet),
        None => is_token(p),
    }
}

fn trim(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// RFC 7230 `token`: one or more `tchar`.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
}

/// `%x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E`.
fn is_baggage_octet(c: u8) -> bool {
    matches!(c, 0x21 | 0x23..=0x2b | 0x2d..=0x3a | 0x3c..=0x5b | 0x5d..=0x7e)
}

/// Percent-decoding; sequences that are not UTF-8 become U+FFFD, as the spec says.
fn decode(value: &str) -> String {
    let b = value.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let byte = match (b[i], b.get(i + 1..i + 3)) {
            (b'%', Some(hex)) => match std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(v) => {
                    i += 2;
                    v
                }
                None => b'%',
            },
            (c, _) => c,
        };
        out.push(byte);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `key=value;properties` with the value percent-encoded, or `None` when the key or the
/// properties could not be sent as they are.
fn encode_member(key: &str, value: &str, metadata: &str) -> Option<String> {
    if !is_token(key) {
        return None;
    }
    let metadata = trim(metadata);
    if !metadata.is_empty() && !metadata.split(';').map(trim).all(valid_property) {
        return None;
    }
    let mut out = String::with_capacity(key.len() + value.len() + metadata.len() + 2);
    out.push_str(key);
    out.push('=');
    for c in value.bytes() {
        if is_baggage_octet(c) && c != b'%' {
            out.push(char::from(c));
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    if !metadata.is_empty() {
        out.push(';');
        out.push_str(metadata);
    }
    Some(out)
}
