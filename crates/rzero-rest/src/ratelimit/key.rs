//! Which bucket a request takes from: a rule's `Key:` (or its older `KeyHeader:`).
//!
//! A key is the value of a header, the client's address, or a claim of the route's JWT.
//! What reaches a bucket table or a Redis key is bounded whatever the client sends: a
//! value of at most [`MAX_KEY`] visible ASCII bytes is used as is, anything longer or
//! with other bytes becomes `# ` and the hex of its SHA-256 (first 16 bytes), so a
//! client cannot grow memory or Redis with long keys, nor pick its way into another
//! key. Derived keys (the hash, the IP fallback) carry a space, which a key used as is
//! never has, so they cannot collide with one.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use http::{HeaderName, Request};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::config::MissingKey;
use crate::jwt::Claims;

/// The longest key used as sent; longer ones are hashed.
pub const MAX_KEY: usize = 64;

/// Where a rule's key comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum KeySource {
    /// The value of a request header (an API key, a tenant id).
    Header(HeaderName),
    /// The client's IP address (the peer of the connection); IPv6 by its /64, which one
    /// host can rotate through.
    ClientIp,
    /// A claim of the verified JWT: the route's group must set `jwt`.
    Claim(String),
}

impl KeySource {
    /// `header:<Name>`, `ip` or `claim:<name>`; the error says what is accepted.
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "Key {s:?} is not a key source; write header:<Name> (e.g. header:X-Api-Key), \
                 ip (the client's address) or claim:<name> (a JWT claim, e.g. claim:userId)"
            )
        };
        let (kind, arg) = match s.split_once(':') {
            Some((k, a)) => (k.trim(), a.trim()),
            None => (s.trim(), ""),
        };
        match (kind.to_ascii_lowercase().as_str(), arg) {
            ("ip", "") => Ok(KeySource::ClientIp),
            ("header", h) if !h.is_empty() => HeaderName::try_from(h)
                .map(KeySource::Header)
                .map_err(|e| format!("Key {s:?}: {h:?} is not a header name: {e}")),
            ("claim", c) if !c.is_empty() => Ok(KeySource::Claim(c.to_owned())),
            _ => Err(bad()),
        }
    }

    /// What the 429 and the span say the limit is per (never a key's value).
    pub(crate) fn describe(&self) -> String {
        match self {
            KeySource::Header(h) => format!("header {h}"),
            KeySource::ClientIp => "client IP".into(),
            KeySource::Claim(c) => format!("JWT claim {c}"),
        }
    }
}

/// A rule's key: its source and what a request without one gets.
#[derive(Clone, Debug)]
pub(crate) struct KeyRule {
    pub(crate) source: KeySource,
    pub(crate) missing: MissingKey,
}

impl KeyRule {
    /// The request's key, bounded; `None` when it has none and the rule shares one
    /// bucket among those.
    pub(crate) fn key<'r, B>(&self, req: &'r Request<B>) -> Option<Cow<'r, str>> {
        let found = match &self.source {
            KeySource::Header(h) => req.headers().get(h).map(|v| bounded(v.as_bytes())),
            KeySource::ClientIp => client_ip(req).map(|ip| Cow::Owned(ip_key(ip))),
            KeySource::Claim(name) => req
                .extensions()
                .get::<Claims>()
                .and_then(|c| c.get(name))
                .and_then(claim_key),
        };
        match (found, self.missing) {
            (Some(k), _) => Some(k),
            (None, MissingKey::Shared) => None,
            // A space: never in a key used as is (see the module docs).
            (None, MissingKey::Ip) => client_ip(req).map(|ip| Cow::Owned(format!("ip {ip}"))),
        }
    }
}

fn client_ip<B>(req: &Request<B>) -> Option<IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_canonical())
}

fn ip_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

fn claim_key(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(bounded(s.as_bytes())),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Null => None,
        other => Some(Cow::Owned(hashed(other.to_string().as_bytes()))),
    }
}

/// `raw` as is when short and visible ASCII, else its hash.
pub(crate) fn bounded(raw: &[u8]) -> Cow<'_, str> {
    if raw.len() <= MAX_KEY && raw.iter().all(u8::is_ascii_graphic) {
        // Checked ASCII just above, so this cannot fail; the hash is the fallback anyway.
        if let Ok(s) = std::str::from_utf8(raw) {
            return Cow::Borrowed(s);
        }
    }
    Cow::Owned(hashed(raw))
}

fn hashed(raw: &[u8]) -> String {
    let digest = Sha256::digest(raw);
    let mut out = String::with_capacity(2 + 32);
    out.push_str("# ");
    for b in &digest[..16] {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(source: &str, missing: MissingKey) -> KeyRule {
        KeyRule {
            source: KeySource::parse(source).expect("source"),
            missing,
        }
    }

    fn req(headers: &[(&str, &[u8])], peer: Option<&str>) -> Request<()> {
        let mut r = Request::new(());
        for (k, v) in headers {
            r.headers_mut().insert(
                HeaderName::try_from(*k).expect("name"),
                http::HeaderValue::from_bytes(v).expect("value"),
            );
        }
        if let Some(p) = peer {
            r.extensions_mut()
                .insert(ConnectInfo(p.parse::<SocketAddr>().expect("addr")));
        }
        r
    }

    #[test]
    fn sources_parse_and_bad_ones_say_what_is_accepted() {
        assert_eq!(KeySource::parse("ip"), Ok(KeySource::ClientIp));
        assert_eq!(
            KeySource::parse("Header: X-Api-Key"),
            Ok(KeySource::Header(HeaderName::from_static("x-api-key")))
        );
        assert_eq!(
            KeySource::parse("claim:userId"),
            Ok(KeySource::Claim("userId".into()))
        );
        for bad in ["", "header:", "cookie:x", "ip:1", "header:bad header"] {
            let e = KeySource::parse(bad).expect_err(bad);
            assert!(
                e.contains("header:<Name>") || e.contains("not a header name"),
                "{e}"
            );
        }
    }

    #[test]
    fn a_short_header_is_the_key_and_a_long_or_binary_one_is_hashed() {
        let r = rule("header:x-api-key", MissingKey::Shared);
        let short = req(&[("x-api-key", b"abc-123")], None);
        assert_eq!(r.key(&short).as_deref(), Some("abc-123"));
        let long = vec![b'a'; 10_000];
        let long_req = req(&[("x-api-key", &long)], None);
        let k = r.key(&long_req).expect("key").into_owned();
        assert!(k.starts_with("# ") && k.len() == 34, "{k}");
        // Deterministic: every replica derives the same Redis key.
        assert_eq!(r.key(&long_req).as_deref(), Some(k.as_str()));
        let binary = req(&[("x-api-key", b"a\xffb")], None);
        assert!(r.key(&binary).expect("key").starts_with("# "));
        // A value that looks like a hash is hashed too: it has a space.
        let forged = req(&[("x-api-key", k.as_bytes())], None);
        assert_ne!(r.key(&forged).as_deref(), Some(k.as_str()));
    }

    #[test]
    fn a_missing_key_shares_a_bucket_or_falls_back_to_the_ip() {
        let none = req(&[], Some("10.0.0.7:5000"));
        assert_eq!(rule("header:x-k", MissingKey::Shared).key(&none), None);
        assert_eq!(
            rule("header:x-k", MissingKey::Ip).key(&none).as_deref(),
            Some("ip 10.0.0.7")
        );
        // No claims (the route has no JWT in this request): the same fallback.
        assert_eq!(
            rule("claim:sub", MissingKey::Ip).key(&none).as_deref(),
            Some("ip 10.0.0.7")
        );
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_slash_64() {
        let r = rule("ip", MissingKey::Shared);
        let a = req(&[], Some("[2001:db8:1:2:aaaa::1]:1"));
        let b = req(&[], Some("[2001:db8:1:2:bbbb::9]:1"));
        assert_eq!(r.key(&a), r.key(&b));
        assert_eq!(r.key(&a).as_deref(), Some("2001:db8:1:2::/64"));
        let mapped = req(&[], Some("[::ffff:10.1.2.3]:1"));
        assert_eq!(r.key(&mapped).as_deref(), Some("10.1.2.3"));
    }

    #[test]
    fn claims_of_every_json_type_give_a_bounded_key() {
        let r = rule("claim:uid", MissingKey::Shared);
        let with = |v: Value| {
            let mut q = req(&[], None);
            let mut m = serde_json::Map::new();
            m.insert("uid".into(), v);
            q.extensions_mut().insert(Claims(m));
            r.key(&q).map(Cow::into_owned)
        };
        assert_eq!(with(Value::from(42)).as_deref(), Some("42"));
        assert_eq!(with(Value::from("u-1")).as_deref(), Some("u-1"));
        assert_eq!(with(Value::Null), None);
        let obj = with(serde_json::json!({"a": "x".repeat(1000)})).expect("key");
        assert!(obj.len() <= 34, "{obj}");
    }
}
