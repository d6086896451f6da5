//! gRPC on the wire, as the layers see it at the HTTP level: where a call's status code
//! is, how `grpc-timeout` is written, and how a path names a service and a method.
//!
//! Every layer here answers refusals (open breaker, shed, timeout, panic) with a
//! trailers-only gRPC response rather than an error, so callers always get a proper
//! `tonic::Status` and never a reset stream. The table of what maps to which code:
//!
//! | cause | code |
//! |---|---|
//! | breaker open, no endpoint | UNAVAILABLE |
//! | shed by the adaptive shedder | RESOURCE_EXHAUSTED (as go-zero's zrpc) |
//! | deadline passed | DEADLINE_EXCEEDED |
//! | handler panicked | INTERNAL |

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use tonic::Code;

/// The `grpc-timeout` request header.
pub const GRPC_TIMEOUT: &str = "grpc-timeout";
/// The `grpc-status` header or trailer.
pub const GRPC_STATUS: &str = "grpc-status";

/// The two names parsed once: a lookup by `&str` parses the name on every call (about
/// 150 instructions each, and a hop looks the status up a dozen times).
pub(crate) static GRPC_TIMEOUT_NAME: HeaderName = HeaderName::from_static(GRPC_TIMEOUT);
static GRPC_STATUS_NAME: HeaderName = HeaderName::from_static(GRPC_STATUS);

/// The status code in `headers` (a trailers-only response) or trailers, if any.
pub fn code_in(headers: &HeaderMap) -> Option<Code> {
    find(headers, &GRPC_STATUS_NAME).map(|v| Code::from_bytes(v.as_bytes()))
}

/// A map of at most this many values is searched by comparing names.
const SCAN_MAX: usize = 8;

/// The first value of `name` in `headers`, as `HeaderMap::get` answers. A call's headers
/// and trailers hold a handful of entries, and every layer that watches a call's end
/// (span, metrics, breaker, balancer, shedder) looks its status up: by hash a lookup costs
/// about 190 instructions (the name hashed byte by byte, then probed), a scan comparing
/// names about 70. Callgrind, one HTTP -> gRPC hop: HeaderMap lookups -2,200, scans +900.
fn find<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a HeaderValue> {
    if headers.len() > SCAN_MAX {
        return headers.get(name);
    }
    headers.iter().find_map(|(n, v)| (n == name).then_some(v))
}

/// The gRPC code of an HTTP answer that carries none, as the gRPC spec maps them
/// (`doc/http-grpc-status-mapping.md`).
pub fn code_of_http(status: http::StatusCode) -> Code {
    match status.as_u16() {
        200 => Code::Unknown,
        400 => Code::Internal,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::Unimplemented,
        429 | 502 | 503 | 504 => Code::Unavailable,
        _ => Code::Unknown,
    }
}

/// True for the codes that mean the server failed (OpenTelemetry's rule for SERVER
/// spans): the others are the caller's mistakes or normal answers.
pub fn is_server_failure(code: Code) -> bool {
    matches!(
        code,
        Code::Unknown
            | Code::DeadlineExceeded
            | Code::Unimplemented
            | Code::Internal
            | Code::Unavailable
            | Code::DataLoss
    )
}

/// True for the codes go-zero's breaker and balancer count against a target
/// (`rzero_resilience::classify::grpc_code_is_failure`).
pub fn counts_against_target(code: Code) -> bool {
    rzero_resilience::classify::grpc_code_is_failure(code as i32)
}

/// The service and method of a gRPC path: `/order.Order/CreateOrder` gives
/// `("order.Order", "CreateOrder")`. Paths that are not gRPC's give `None`.
pub fn split_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix('/')?;
    let (service, method) = rest.split_once('/')?;
    if service.is_empty() || method.is_empty() || method.contains('/') {
        return None;
    }
    Some((service, method))
}

/// Reads `grpc-timeout` (`<up to 8 digits><H|M|S|m|u|n>`); malformed values are ignored,
/// as the gRPC spec asks.
pub fn timeout_in(headers: &HeaderMap) -> Option<Duration> {
    let v = find(headers, &GRPC_TIMEOUT_NAME)?.to_str().ok()?;
    if v.len() < 2 || v.len() > 9 {
        return None;
    }
    let (digits, unit) = v.split_at(v.len() - 1);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// Writes a duration as `grpc-timeout`: the finest unit that fits in 8 digits.
pub fn timeout_value(d: Duration) -> HeaderValue {
    const MAX: u128 = 99_999_999;
    let nanos = d.as_nanos();
    let (n, unit) = if nanos <= MAX {
        (nanos, 'n')
    } else if nanos / 1_000 <= MAX {
        (nanos.div_ceil(1_000), 'u')
    } else if nanos / 1_000_000 <= MAX {
        (nanos.div_ceil(1_000_000), 'm')
    } else if d.as_secs() as u128 <= MAX {
        (u128::from(d.as_secs()), 'S')
    } else {
        (MAX.min(u128::from(d.as_secs() / 3600)), 'H')
    };
    // At most 8 digits and a unit, written on the stack: no `format!` string per call.
    let mut buf = [0u8; 9];
    let mut at = buf.len() - 1;
    buf[at] = unit as u8;
    let mut n = n;
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 || at == 0 {
            break;
        }
    }
    // Digits and one ASCII letter are always a valid header value.
    HeaderValue::from_bytes(&buf[at..]).unwrap_or(HeaderValue::from_static("1S"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scan_answers_as_a_hashed_lookup_does() {
        // Small maps are scanned, larger ones hashed: both must give `get`'s answer,
        // first value of a repeated name included, for standard and custom names.
        for extra in [0, 3, SCAN_MAX, SCAN_MAX + 5] {
            let mut h = HeaderMap::new();
            h.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/grpc"),
            );
            for i in 0..extra {
                let name = HeaderName::try_from(format!("x-extra-{i}")).expect("name");
                h.append(name, HeaderValue::from_static("v"));
            }
            h.append(GRPC_STATUS, HeaderValue::from_static("14"));
            h.append(GRPC_STATUS, HeaderValue::from_static("0"));
            assert_eq!(code_in(&h), Some(Code::Unavailable), "{extra} extra");
            for name in [GRPC_STATUS_NAME.clone(), http::header::CONTENT_TYPE] {
                assert_eq!(find(&h, &name), h.get(&name), "{name} with {extra} extra");
            }
            assert_eq!(find(&h, &GRPC_TIMEOUT_NAME), None);
            assert_eq!(timeout_in(&h), None);
        }
        assert_eq!(code_in(&HeaderMap::new()), None);
    }

    #[test]
    fn grpc_timeouts_round_trip() {
        for d in [
            Duration::from_millis(1500),
            Duration::from_nanos(7),
            Duration::from_secs(3600 * 24),
            Duration::from_micros(123_456_789),
        ] {
            let mut h = HeaderMap::new();
            h.insert(GRPC_TIMEOUT, timeout_value(d));
            let back = timeout_in(&h).expect("parses");
            assert_eq!(
                h.get(GRPC_TIMEOUT).map(|v| v.as_bytes().len() <= 9),
                Some(true)
            );
            assert!(
                back >= d && back - d < Duration::from_secs(1),
                "{d:?} -> {back:?}"
            );
        }
        let mut h = HeaderMap::new();
        for bad in ["", "5", "123456789S", "5x", "-5S"] {
            h.insert(GRPC_TIMEOUT, HeaderValue::from_static("1S"));
            h.insert(GRPC_TIMEOUT, HeaderValue::from_str(bad).expect("value"));
            assert_eq!(timeout_in(&h), None, "{bad}");
        }
    }

    #[test]
    fn grpc_timeouts_are_written_as_the_spec_says() {
        for (d, text) in [
            (Duration::ZERO, "0n"),
            (Duration::from_nanos(7), "7n"),
            (Duration::from_nanos(99_999_999), "99999999n"),
            (Duration::from_millis(1500), "1500000u"),
            (Duration::from_secs(2), "2000000u"),
            (Duration::from_secs(3600 * 24), "86400000m"),
            (Duration::from_secs(200_000), "200000S"),
            (Duration::from_secs(u64::MAX), "99999999H"),
        ] {
            assert_eq!(timeout_value(d), text, "{d:?}");
        }
    }

    #[test]
    fn paths_name_service_and_method() {
        assert_eq!(
            split_path("/order.Order/CreateOrder"),
            Some(("order.Order", "CreateOrder"))
        );
        assert_eq!(split_path("/nope"), None);
        assert_eq!(split_path("/a/b/c"), None);
        assert_eq!(split_path("a/b"), None);
    }
}
