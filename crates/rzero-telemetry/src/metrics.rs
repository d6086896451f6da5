//! Metrics: one meter provider feeding two readers, OTLP (pushed on an interval) and
//! Prometheus (pulled by a scrape), so the same instruments serve both worlds.
//!
//! The Prometheus side is the official `opentelemetry-prometheus` reader over a
//! `prometheus::Registry` that belongs to this instance, not to the process.

use std::net::SocketAddr;
use std::sync::Arc;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use prometheus::{Encoder, TextEncoder};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::config::PrometheusConf;
use crate::error::TelemetryError;
use crate::exporter;
use crate::settings::Settings;

/// Renders the current metrics in the Prometheus text format. Cheap to clone; mount
/// [`PrometheusHandle::render`] on any route, or let [`PrometheusHandle::serve`] do it.
#[derive(Clone, Debug)]
pub struct PrometheusHandle {
    registry: Arc<prometheus::Registry>,
}

/// The content type of [`PrometheusHandle::render`]'s output.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Takes connections from `accept` for good: a failed accept (out of file descriptors,
/// most often) is logged and retried after a pause that doubles from 5 ms to 1 s, instead
/// of ending the listener and every later scrape with it.
async fn accept_loop<S, F, Fut>(mut accept: F, mut serve: impl FnMut(S))
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = std::io::Result<S>>,
{
    let mut pause = ACCEPT_PAUSE;
    loop {
        match accept().await {
            Ok(stream) => {
                pause = ACCEPT_PAUSE;
                serve(stream);
            }
            Err(e) => {
                tracing::warn!(error = %e, ?pause, "Prometheus listener: accept failed; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// The first pause after a failed accept.
const ACCEPT_PAUSE: Duration = Duration::from_millis(5);

// === impl PrometheusHandle ===

impl PrometheusHandle {
    /// The text exposition of every instrument of the meter provider.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        // Encoding into a Vec fails only on a broken metric family; show what we have.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// Serves `render()` on `conf.path` at `conf.host:conf.port` until the returned task is
    /// aborted. go-zero's `Prometheus: {Host, Port, Path}`; deployments scrape port 9090.
    pub async fn serve(
        &self,
        conf: &PrometheusConf,
    ) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), TelemetryError> {
        let addr = format!("{}:{}", conf.host, conf.port);
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(|e| TelemetryError::Prometheus {
                addr: addr.clone(),
                reason: format!("cannot listen ({e}); is the port taken?"),
            })?;
        let local = listener
            .local_addr()
            .map_err(|e| TelemetryError::Prometheus {
                addr,
                reason: e.to_string(),
            })?;
        let (handle, path) = (self.clone(), Arc::<str>::from(conf.path.as_str()));
        let task = tokio::spawn(accept_loop(
            {
                let listener = Arc::new(listener);
                move || {
                    let listener = listener.clone();
                    async move { listener.accept().await.map(|(stream, _)| stream) }
                }
            },
            move |stream| {
                let (handle, path) = (handle.clone(), path.clone());
                let service = service_fn(move |req: Request<Incoming>| {
                    let answer = handle.answer(&req, &path);
                    async move { Ok::<_, std::convert::Infallible>(answer) }
                });
                tokio::spawn(async move {
                    let conn = http1::Builder::new()
                        .header_read_timeout(Duration::from_secs(10))
                        .timer(TokioTimer::new())
                        .serve_connection(TokioIo::new(stream), service);
                    // A scrape that takes a minute is a stuck client: drop it.
                    let _ = tokio::time::timeout(Duration::from_secs(60), conn).await;
                });
            },
        ));
        Ok((local, task))
    }

    fn answer(&self, req: &Request<Incoming>, path: &str) -> Response<Full<Bytes>> {
        let (status, ctype, body) = if req.method() != Method::GET {
            (
                StatusCode::METHOD_NOT_ALLOWED,
                "text/plain",
                "use GET\n".to_owned(),
            )
        } else if req.uri().path() != path {
            (
                StatusCode::NOT_FOUND,
                "text/plain",
                format!("metrics are at {path}\n"),
            )
        } else {
            (StatusCode::OK, PROMETHEUS_CONTENT_TYPE, self.render())
        };
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(ctype));
        response
    }
}

/// The meter provider with its readers, and the Prometheus handle.
pub(crate) fn provider(
    settings: &Settings,
    resource: Resource,
) -> Result<(SdkMeterProvider, PrometheusHandle), TelemetryError> {
    let registry = prometheus::Registry::new();
    let prom = opentelemetry_prometheus::exporter()
        .with_registry(registry.clone())
        .scope_info_enabled(false)
        .build()
        .map_err(|e| TelemetryError::Prometheus {
            addr: "registry".to_owned(),
            reason: e.to_string(),
        })?;
    let mut builder = SdkMeterProvider::builder()
        .with_resource(resource)
        .with_reader(prom);
    if let Some(target) = &settings.metrics {
        let reader = PeriodicReader::builder(exporter::metrics(target)?)
            .with_interval(settings.metric_interval)
            .build();
        builder = builder.with_reader(reader);
    }
    let handle = PrometheusHandle {
        registry: Arc::new(registry),
    };
    Ok((builder.build(), handle))
}

#[cfg(test)]
mod accept_tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Three failed accepts (as when the process is out of file descriptors), then a
    /// real connection: it is still served.
    #[tokio::test]
    async fn the_listener_keeps_accepting_after_accept_errors() {
        let listener = Arc::new(TcpListener::bind("127.0.0.1:0").await.expect("bind"));
        let addr = listener.local_addr().expect("addr");
        let failures = Arc::new(AtomicUsize::new(0));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let f = failures.clone();
        let task = tokio::spawn(accept_loop(
            move || {
                let (listener, f) = (listener.clone(), f.clone());
                async move {
                    if f.fetch_add(1, Ordering::SeqCst) < 3 {
                        return Err(std::io::Error::other("Too many open files"));
                    }
                    listener.accept().await.map(|(s, _)| s)
                }
            },
            move |stream| {
                let _ = tx.send(stream);
            },
        ));
        let _client = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let served = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await;
        assert!(matches!(served, Ok(Some(_))), "the connection was served");
        assert!(failures.load(Ordering::SeqCst) > 3);
        task.abort();
    }
}
