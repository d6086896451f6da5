//! `http::HeaderMap` as a propagation carrier (HTTP headers and gRPC metadata).
//!
//! Written here rather than taken from `opentelemetry-http` because its extractor skips
//! a field whose value is not visible ASCII: of two `tracestate` fields, one with a
//! stray byte, it would hand over the other as if it were the whole list, and the broken
//! list would be forwarded in part. Here such a field reads as a value no grammar
//! accepts, so the list it belongs to is rejected as the spec asks.

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector};

/// What a field that is not visible ASCII reads as: invalid in every format.
pub(crate) const UNREADABLE: &str = "\u{0}";

/// Reads propagation fields from request headers; every repeated field is seen.
#[derive(Debug)]
pub struct HeaderExtractor<'a>(pub &'a HeaderMap);

/// The W3C `traceparent` field as a header name made at compile time: looked up by
/// `&str`, a header map parses and validates the name on every call, and the W3C fields
/// are read on every request.
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
/// The W3C `tracestate` field, made at compile time as [`TRACEPARENT`] is.
pub const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
pub(crate) const BAGGAGE: HeaderName = HeaderName::from_static("baggage");

fn known(key: &str) -> Option<HeaderName> {
    match key {
        "traceparent" => Some(TRACEPARENT),
        "tracestate" => Some(TRACESTATE),
        "baggage" => Some(BAGGAGE),
        _ => None,
    }
}

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        let value = match known(key) {
            Some(name) => self.0.get(name),
            None => self.0.get(key),
        };
        value.map(|v| v.to_str().unwrap_or(UNREADABLE))
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let all = match known(key) {
            Some(name) => self.0.get_all(name),
            None => self.0.get_all(key),
        };
        let mut values = all.iter().peekable();
        values.peek()?;
        Some(values.map(|v| v.to_str().unwrap_or(UNREADABLE)).collect())
    }
}

/// Writes propagation fields into request headers, replacing any field of the same name.
#[derive(Debug)]
pub struct HeaderInjector<'a>(pub &'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        // Names are the propagators' own constants; a value is dropped only if a
        // propagator produced bytes no header may carry (it validates before). The W3C
        // names are static: parsing a name that is not a standard header copies it.
        let name = match known(key) {
            Some(name) => Ok(name),
            None => HeaderName::from_bytes(key.as_bytes()),
        };
        // The value keeps the string's buffer instead of copying it.
        let value = HeaderValue::from_maybe_shared(bytes::Bytes::from(value));
        if let (Ok(name), Ok(value)) = (name, value) {
            self.0.insert(name, value);
        }
    }

    fn reserve(&mut self, additional: usize) {
        self.0.reserve(additional);
    }
}
