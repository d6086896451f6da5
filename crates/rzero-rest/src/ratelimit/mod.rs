//! Rate limits per route: go-zero's `core/limit` as a tower layer.
//!
//! A rule of `RateLimit:` (see [`RateLimitConf`]) limits one route with one of:
//!
//! - `local`: a token bucket in this process ([`TokenBucket`], GCRA with one atomic), or a
//!   bucket per key ([`KeyedBuckets`], at most `MaxKeys`); each replica counts alone;
//! - `token`: go-zero's `TokenLimiter`, one bucket in Redis for every replica;
//! - `period`: go-zero's `PeriodLimit`, a quota per fixed window in Redis.
//!
//! Over the limit, the answer is 429 with `Retry-After` (whole seconds, rounded up), the
//! refusal is counted in `rzero.http.server.refused{reason="rate_limit"}` and the server
//! span gets a `rate_limited` event. The Redis limits are bounded by `StoreTimeout`; when
//! Redis fails or is slow, `OnStoreError` lets the request through (`open`, the default)
//! or answers 503 (`closed`, counted as `reason="rate_limit_store"`), and the failure is
//! logged at most once every ten seconds, never per request.
//!
//! Any kind can be keyed (`Key: header:X-Api-Key`, `ip`, `claim:userId`): a bucket per
//! key, Redis keys `<KeyPrefix><METHOD path> <key>`, long keys hashed (see `key.rs`).
//!
//! goctl's `@server` has no rate-limit key, so the switch is the config file only.

mod bucket;
mod config;
mod key;
mod layer;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::response::IntoResponse;
use futures_util::future::BoxFuture;
use http::{HeaderValue, Request, Response, StatusCode};
use opentelemetry::KeyValue;
use opentelemetry::trace::TraceContextExt;
use pin_project_lite::pin_project;
use tower::Service;

pub use bucket::{Decision, KeyedBuckets, TokenBucket};
pub use config::{FailMode, LimitKind, MissingKey, RateLimitConf, RouteLimitConf};
pub use key::MAX_KEY;
pub(crate) use layer::Limits;
pub use layer::RateLimitLayer;

use crate::error::{Error, Refusal};
use layer::{Limiter, Shared};

/// A service whose requests are rate limited; see [`RateLimitLayer`].
#[derive(Clone, Debug)]
pub struct RateLimit<S> {
    inner: S,
    shared: std::sync::Arc<Shared>,
}

/// What a shared (Redis) limit said.
enum Verdict {
    Pass,
    Limited(Duration),
    StoreFailed,
}

impl<S, B> Service<Request<B>> for RateLimit<S>
where
    S: Service<Request<B>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let shared = &self.shared;
        let key = shared.key.as_ref().and_then(|k| k.key(&req));
        let decision = match &shared.limiter {
            Limiter::Local(bucket) => bucket.allow(),
            Limiter::Keyed(buckets) => buckets.allow(key.as_deref().unwrap_or("")),
            Limiter::Token(_) | Limiter::Period(_) => {
                let key = match key {
                    Some(k) => format!("{}{} {k}", shared.key_prefix, shared.route),
                    None => format!("{}{}", shared.key_prefix, shared.route),
                };
                // The readied service goes into the future; a clone takes its place.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                let shared = shared.clone();
                return ResponseFuture::Shared {
                    fut: Box::pin(async move {
                        match shared_verdict(&shared, &key).await {
                            Verdict::Pass => inner.call(req).await,
                            Verdict::Limited(wait) => Ok(limited(&shared, wait)),
                            Verdict::StoreFailed => Ok(store_failed(&shared)),
                        }
                    }),
                };
            }
        };
        match decision {
            Decision::Allowed => ResponseFuture::Inner {
                fut: self.inner.call(req),
            },
            Decision::Limited(wait) => ResponseFuture::Refused {
                answer: Some(limited(shared, wait)),
            },
        }
    }
}

async fn shared_verdict(shared: &Shared, key: &str) -> Verdict {
    let take = async {
        match &shared.limiter {
            Limiter::Token(t) => t.take(key, 1).await.map(|t| {
                if t.allowed {
                    Verdict::Pass
                } else {
                    Verdict::Limited(t.retry_after)
                }
            }),
            Limiter::Period(p) => p.take(key).await.map(|t| {
                if t.allowed() {
                    Verdict::Pass
                } else {
                    Verdict::Limited(t.resets_in)
                }
            }),
            Limiter::Local(_) | Limiter::Keyed(_) => Ok(Verdict::Pass),
        }
    };
    // The store bounds each command; this bounds the whole take (EVALSHA and EVAL).
    let result = match tokio::time::timeout(shared.store_timeout, take).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err(format!(
            "no answer within RateLimit.StoreTimeout ({:?})",
            shared.store_timeout
        )),
    };
    match result {
        Ok(v) => v,
        Err(e) => {
            shared.errors.error(&shared.route, shared.fail, &e);
            match shared.fail {
                FailMode::Open => Verdict::Pass,
                FailMode::Closed => Verdict::StoreFailed,
            }
        }
    }
}

/// The 429: counted, on the span, with `Retry-After`.
fn limited(shared: &Shared, wait: Duration) -> Response<Body> {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let secs = secs.max(1);
    shared.refusals.count(Refusal::RateLimit);
    let cx = opentelemetry::Context::current();
    cx.span().add_event(
        "rate_limited",
        vec![
            KeyValue::new("rzero.rate_limit.limit", shared.describe.clone()),
            KeyValue::new("rzero.rate_limit.retry_after", secs as i64),
        ],
    );
    let mut resp = Error::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!(
            "too many requests to {} (limit {}); retry after {secs}s",
            shared.route, shared.describe
        ),
    )
    .into_response();
    resp.headers_mut()
        .insert(http::header::RETRY_AFTER, HeaderValue::from(secs));
    resp
}

/// The 503 of `OnStoreError: closed`.
fn store_failed(shared: &Shared) -> Response<Body> {
    shared.refusals.count(Refusal::RateLimitStore);
    opentelemetry::Context::current()
        .span()
        .add_event("rate_limit_store_failed", vec![]);
    let mut resp = Error::unavailable(format!(
        "the rate limit of {} cannot be checked (its Redis failed) and RateLimit.OnStoreError \
         is closed; retry later",
        shared.route
    ))
    .into_response();
    resp.headers_mut()
        .insert(http::header::RETRY_AFTER, HeaderValue::from(1u64));
    resp
}

pin_project! {
    /// The future of a [`RateLimit`] call.
    #[project = Proj]
    #[allow(missing_docs)]
    pub enum ResponseFuture<F, E> {
        /// Allowed by a local limit: the inner call.
        Inner {
            #[pin]
            fut: F,
        },
        /// Refused by a local limit.
        Refused {
            answer: Option<Response<Body>>,
        },
        /// A shared limit's round trip, then the inner call.
        Shared {
            fut: BoxFuture<'static, Result<Response<Body>, E>>,
        },
    }
}

impl<F, E> Future for ResponseFuture<F, E>
where
    F: Future<Output = Result<Response<Body>, E>>,
{
    type Output = Result<Response<Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            Proj::Inner { fut } => fut.poll(cx),
            Proj::Refused { answer } => Poll::Ready(Ok(answer
                .take()
                .unwrap_or_else(|| Error::internal("polled after completion").into_response()))),
            Proj::Shared { fut } => fut.as_mut().poll(cx),
        }
    }
}
