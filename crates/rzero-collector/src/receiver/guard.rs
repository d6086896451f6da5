//! What a request must pass before it is decoded: the bearer token, if one is set, and
//! the decode budgets — per request (what one decode may build) and in flight (what all
//! decodes at once may hold), both counted in decoded bytes as the pre-scan estimates
//! them, not in bytes sent.

use std::sync::Arc;

use subtle::ConstantTimeEq;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::scan::{self, Scan, Signal};

/// Permits of the in-flight budget are KiB, so that a `u32` count covers terabytes.
const UNIT: u64 = 1024;

/// Shared by the gRPC and HTTP receivers.
#[derive(Clone, Debug)]
pub(crate) struct Guard {
    token: Option<Arc<[u8]>>,
    max_decoded: u64,
    inflight_limit: u64,
    inflight: Arc<Semaphore>,
}

/// Why a request was refused before decoding.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not valid protobuf: 400 / INVALID_ARGUMENT.
    Malformed(String),
    /// Would decode to more than one request may: 413 / RESOURCE_EXHAUSTED (not retried).
    TooLarge(String),
    /// Other decodes hold the in-flight budget: 503 / UNAVAILABLE (retried by exporters).
    Busy(String),
    /// Missing or wrong bearer token: 401 / UNAUTHENTICATED.
    Unauthenticated(String),
}

impl Refusal {
    pub(crate) fn message(&self) -> &str {
        match self {
            Refusal::Malformed(m)
            | Refusal::TooLarge(m)
            | Refusal::Busy(m)
            | Refusal::Unauthenticated(m) => m,
        }
    }

    pub(crate) fn into_status(self) -> tonic::Status {
        match self {
            Refusal::Malformed(m) => tonic::Status::invalid_argument(m),
            Refusal::TooLarge(m) => tonic::Status::resource_exhausted(m),
            Refusal::Busy(m) => tonic::Status::unavailable(m),
            Refusal::Unauthenticated(m) => tonic::Status::unauthenticated(m),
        }
    }
}

/// A request let through: what the scan found, and its share of the in-flight budget,
/// given back when this is dropped (after decode and ingest).
#[derive(Debug)]
pub(crate) struct Admitted {
    pub(crate) scan: Scan,
    _permit: OwnedSemaphorePermit,
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}

impl Guard {
    pub(crate) fn new(token: Option<&str>, max_decoded: usize, inflight: usize) -> Self {
        let inflight_limit = (inflight as u64).max(max_decoded as u64).max(UNIT);
        let permits = usize::try_from(inflight_limit / UNIT)
            .unwrap_or(Semaphore::MAX_PERMITS)
            .min(Semaphore::MAX_PERMITS);
        Guard {
            token: token.map(|t| Arc::from(t.as_bytes())),
            max_decoded: max_decoded as u64,
            inflight_limit,
            inflight: Arc::new(Semaphore::new(permits)),
        }
    }

    /// Checks `authorization: Bearer <token>` (in constant time) when a token is set.
    pub(crate) fn authorize(&self, header: Option<&[u8]>) -> Result<(), Refusal> {
        let Some(token) = &self.token else {
            return Ok(());
        };
        let given = header
            .and_then(|h| {
                h.strip_prefix(b"Bearer ")
                    .or_else(|| h.strip_prefix(b"bearer "))
            })
            .unwrap_or(b"");
        // `ct_eq` of different lengths is false without looking at the bytes; the
        // length of the token is not the secret.
        if bool::from(given.ct_eq(token)) {
            Ok(())
        } else {
            Err(Refusal::Unauthenticated(
                "this collector needs `authorization: Bearer <token>` (the token given to \
                 --auth-token); set the exporter's headers, e.g. \
                 OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20<token>"
                    .to_owned(),
            ))
        }
    }

    /// Scans `body` and takes its share of the in-flight budget, or says why not.
    pub(crate) fn admit(
        &self,
        signal: Signal,
        body: &[u8],
        json: bool,
    ) -> Result<Admitted, Refusal> {
        let scan = if json {
            scan::json(body)
        } else {
            scan::protobuf(signal, body)
                .map_err(|e| Refusal::Malformed(format!("the payload does not decode: {}", e.0)))?
        };
        if scan.decoded_bytes > self.max_decoded {
            let what = match signal {
                Signal::Traces => "spans",
                Signal::Metrics => "data points",
                Signal::Logs => "log records",
            };
            return Err(Refusal::TooLarge(format!(
                "the request holds {} {what}, {} attributes and {} events, about {} once \
                 decoded, over this collector's limit of {} per request: send smaller \
                 batches (the SDK's max_export_batch_size)",
                scan.items,
                scan.attributes,
                scan.events,
                mib(scan.decoded_bytes),
                mib(self.max_decoded),
            )));
        }
        let units = u32::try_from(scan.decoded_bytes.div_ceil(UNIT).max(1)).unwrap_or(u32::MAX);
        let permit = self
            .inflight
            .clone()
            .try_acquire_many_owned(units)
            .map_err(|_| {
                Refusal::Busy(format!(
                    "the collector is decoding up to {} of other requests already: retry later",
                    mib(self.inflight_limit)
                ))
            })?;
        Ok(Admitted {
            scan,
            _permit: permit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_must_match_exactly() {
        let g = Guard::new(Some("s3cret"), 1 << 20, 1 << 20);
        assert!(g.authorize(Some(b"Bearer s3cret")).is_ok());
        for bad in [
            &b"Bearer s3cre"[..],
            b"Bearer s3cret2",
            b"s3cret",
            b"Basic s3cret",
            b"",
        ] {
            let e = g.authorize(Some(bad)).expect_err("refused");
            assert!(e.message().contains("--auth-token"), "{e:?}");
        }
        assert!(g.authorize(None).is_err());
        assert!(
            Guard::new(None, 1, 1).authorize(None).is_ok(),
            "no token: open"
        );
    }

    #[test]
    fn the_in_flight_budget_is_given_back() {
        // Room for one 600 KiB decode at a time.
        let g = Guard::new(None, 1 << 20, 1 << 20);
        let body = vec![b'{'; 3000];
        let first = g.admit(Signal::Traces, &body, true).expect("first");
        assert!(first.scan.decoded_bytes > 500 << 10, "{:?}", first.scan);
        let busy = g.admit(Signal::Traces, &body, true).expect_err("busy");
        assert!(matches!(busy, Refusal::Busy(_)), "{busy:?}");
        drop(first);
        assert!(g.admit(Signal::Traces, &body, true).is_ok(), "given back");
        let big = vec![b'{'; 10_000];
        let e = g.admit(Signal::Traces, &big, true).expect_err("too large");
        assert!(e.message().contains("smaller batches"), "{e:?}");
        assert!(matches!(
            e.into_status().code(),
            tonic::Code::ResourceExhausted
        ));
    }
}
