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

/// Fields whose value names this request's span, so no two requests share one.
///
/// Their values are marked sensitive, which HTTP/2 sends as HPACK "never indexed"
/// literals: entered in the connection's dynamic table, such a value is never referenced
/// again, costs an insert and a clone on both ends, and (the table evicts oldest first)
/// pushes out the entries every call does reuse (`content-type`, `te`, `user-agent`).
/// HTTP/1.1 ignores the mark; the bytes on the wire are the same.
fn unique_per_request(key: &str) -> bool {
    matches!(
        key,
        "traceparent"
            | "uber-trace-id"
            | "b3"
            | "x-b3-traceid"
            | "x-b3-spanid"
            | "x-b3-parentspanid"
    )
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
        if let (Ok(name), Ok(mut value)) = (name, value) {
            if unique_per_request(key) {
                value.set_sensitive(true);
            }
            self.0.insert(name, value);
        }
    }

    fn reserve(&mut self, additional: usize) {
        self.0.reserve(additional);
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::propagation::Injector;

    use super::{HeaderInjector, TRACEPARENT, TRACESTATE};

    #[test]
    fn per_request_fields_are_never_indexed_and_the_rest_are() {
        let mut headers = http::HeaderMap::new();
        let mut injector = HeaderInjector(&mut headers);
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        injector.set("traceparent", traceparent.to_owned());
        injector.set("tracestate", "rzero=1".to_owned());
        injector.set(
            "x-b3-traceid",
            "4bf92f3577b34da6a3ce929d0e0e4736".to_owned(),
        );
        injector.set("baggage", "user=7".to_owned());
        assert!(headers[TRACEPARENT].is_sensitive());
        assert_eq!(headers[TRACEPARENT].to_str().ok(), Some(traceparent));
        assert!(headers["x-b3-traceid"].is_sensitive());
        assert!(!headers[TRACESTATE].is_sensitive());
        assert!(!headers["baggage"].is_sensitive());
    }
}
