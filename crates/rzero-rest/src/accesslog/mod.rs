//! One log line per request (go-zero's `LogHandler`): method, route, path, status and
//! duration, with the request's `trace_id` and `span_id` added by rzero-telemetry's log
//! layer (the server span is current while the line is written), at `info` under the target `rzero::access`; requests slower than
//! 500 ms (go-zero's slow threshold) at `warn`, 5xx answers at `error` with their message.
//! `Verbose` adds the user agent, the client address and the request body length.
//!
//! The line goes through `tracing`, so rzero-telemetry writes it to stdout (JSON or plain)
//! and to OTLP like any other log, and `Log: {Level: warn}` keeps only the slow and the
//! failed requests.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use axum::extract::MatchedPath;
use http::{Method, Request, Response, header};
use pin_project_lite::pin_project;
use rzero_resilience::clock::{call_time, end_time};
use smallvec::SmallVec;
use tower::{Layer, Service};

use crate::error::ErrorMessage;

/// Requests slower than this are logged at `warn`.
pub const SLOW_THRESHOLD: Duration = Duration::from_millis(500);

/// Adds [`AccessLog`] to services.
#[derive(Clone, Copy, Debug, Default)]
pub struct AccessLogLayer {
    verbose: bool,
}

impl AccessLogLayer {
    /// Brief lines; `verbose` adds the client's details.
    pub fn new(verbose: bool) -> Self {
        AccessLogLayer { verbose }
    }
}

impl<S> Layer<S> for AccessLogLayer {
    type Service = AccessLog<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AccessLog {
            inner,
            verbose: self.verbose,
        }
    }
}

/// A service whose requests are logged; see [`AccessLogLayer`].
#[derive(Clone, Debug)]
pub struct AccessLog<S> {
    inner: S,
    verbose: bool,
}

impl<S, B, ResB> Service<Request<B>> for AccessLog<S>
where
    S: Service<Request<B>, Response = Response<ResB>>,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let route = req.extensions().get::<MatchedPath>().cloned();
        let detail = self.verbose.then(|| {
            let h = req.headers();
            let get = |name| h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
            format!(
                "user_agent={:?} content_length={} client={:?}",
                get(header::USER_AGENT),
                get(header::CONTENT_LENGTH),
                req.extensions()
                    .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                    .map(|c| c.0.to_string())
                    .unwrap_or_default(),
            )
        });
        let line = Line {
            method: req.method().clone(),
            route,
            path: SmallVec::from_slice(req.uri().path().as_bytes()),
            detail,
            start: call_time(),
        };
        ResponseFuture {
            inner: self.inner.call(req),
            line: Some(line),
        }
    }
}

/// A path this long or shorter is copied into the line itself; a longer one goes to the heap.
const INLINE_PATH: usize = 48;

struct Line {
    method: Method,
    route: Option<MatchedPath>,
    /// The path's bytes, not a clone of the `Uri`: cloning hyper's parsed `Uri` turns its
    /// buffer into a shared one, an allocation and a free on every request, for a line
    /// that a `warn` level mostly never writes.
    path: SmallVec<[u8; INLINE_PATH]>,
    detail: Option<String>,
    start: Instant,
}

impl Line {
    fn write<B>(self, resp: &Response<B>) {
        use tracing::Level;
        let took = end_time().saturating_duration_since(self.start);
        let level = if resp.status().is_server_error() {
            Level::ERROR
        } else if took > SLOW_THRESHOLD {
            Level::WARN
        } else {
            Level::INFO
        };
        // Building the line costs more than the check: skip it when filtered out.
        let enabled = match level {
            Level::ERROR => tracing::enabled!(target: "rzero::access", Level::ERROR),
            Level::WARN => tracing::enabled!(target: "rzero::access", Level::WARN),
            _ => tracing::enabled!(target: "rzero::access", Level::INFO),
        };
        if !enabled {
            return;
        }
        let status = resp.status().as_u16();
        // Copied from a `&str`: always UTF-8.
        let path = std::str::from_utf8(&self.path).unwrap_or_default();
        let route = self.route.as_ref().map_or("", MatchedPath::as_str);
        let duration_ms = took.as_secs_f64() * 1e3;
        let detail = self.detail.map(|d| format!(": {d}")).unwrap_or_default();
        if level == Level::ERROR {
            let why = resp.extensions().get::<ErrorMessage>().map_or("", |m| &m.0);
            tracing::error!(target: "rzero::access", method = %self.method, route, path, status, duration_ms, error = why, "request failed{detail}");
        } else if level == Level::WARN {
            tracing::warn!(target: "rzero::access", method = %self.method, route, path, status, duration_ms, slow = true, "slow request{detail}");
        } else {
            tracing::info!(target: "rzero::access", method = %self.method, route, path, status, duration_ms, "request{detail}");
        }
    }
}

pin_project! {
    /// The future of an [`AccessLog`] call.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        line: Option<Line>,
    }
}

impl<F, ResB, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
{
    type Output = Result<Response<ResB>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let out = ready!(this.inner.poll(cx));
        if let (Ok(resp), Some(line)) = (&out, this.line.take()) {
            line.write(resp);
        }
        Poll::Ready(out)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use http::{Request, Response, StatusCode};
    use tower::{Layer, ServiceExt, service_fn};

    use super::{AccessLogLayer, INLINE_PATH};

    /// Every line written while `f` runs, as `fmt` prints it.
    async fn lines<F: std::future::Future<Output = ()>>(f: F) -> String {
        let out = Arc::new(Mutex::new(Vec::new()));
        let writer = {
            let out = out.clone();
            move || Writer(out.clone())
        };
        let subscriber = tracing_subscriber::fmt()
            .with_writer(writer)
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        let _default = tracing::subscriber::set_default(subscriber);
        f.await;
        let bytes = out.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    struct Writer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Writer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut b) = self.0.lock() {
                b.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    async fn call(path: &str, status: StatusCode) {
        let svc =
            AccessLogLayer::new(false).layer(service_fn(move |_req: Request<()>| async move {
                Ok::<_, std::convert::Infallible>(
                    Response::builder()
                        .status(status)
                        .body(())
                        .unwrap_or_default(),
                )
            }));
        let req = Request::get(path).body(()).unwrap_or_default();
        let _ = svc.oneshot(req).await;
    }

    #[tokio::test]
    async fn the_line_names_the_whole_path_short_or_long() {
        let long = format!("/api/v1/{}", "x".repeat(INLINE_PATH * 3));
        let out = lines(async {
            call("/api/v1/orders/7?verbose=1", StatusCode::OK).await;
            call(&long, StatusCode::OK).await;
            call("/boom", StatusCode::INTERNAL_SERVER_ERROR).await;
        })
        .await;
        let written: Vec<&str> = out.lines().collect();
        assert_eq!(written.len(), 3, "{out}");
        assert!(
            written[0].contains("INFO") && written[0].contains("path=\"/api/v1/orders/7\""),
            "{out}"
        );
        assert!(written[0].contains("status=200"), "{out}");
        assert!(written[1].contains(&format!("path=\"{long}\"")), "{out}");
        assert!(
            written[2].contains("ERROR") && written[2].contains("path=\"/boom\""),
            "{out}"
        );
        assert!(written[2].contains("status=500"), "{out}");
    }
}
