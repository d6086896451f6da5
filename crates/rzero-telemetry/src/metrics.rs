//! Metrics: one meter provider feeding two readers, OTLP (pushed on an interval) and
//! Prometheus (pulled by a scrape), so the same instruments serve both worlds.
//!
//! The Prometheus side is the official `opentelemetry-prometheus` reader over a
//! `prometheus::Registry` that belongs to this instance, not to the process.

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
use tokio::net::TcpListener;

use crate::config::PrometheusConf;
use crate::error::TelemetryError;
use crate::exporter;
use crate::settings::Settings;
use crate::side::{Handler, SideLimits, SidePort};

/// Renders the current metrics in the Prometheus text format. Cheap to clone; mount
/// [`PrometheusHandle::render`] on any route, or let [`PrometheusHandle::serve`] do it.
#[derive(Clone, Debug)]
pub struct PrometheusHandle {
    registry: Arc<prometheus::Registry>,
}

/// A scrape port's connections: a scraper or two, a minute at most each (a scrape that
/// takes longer is a stuck client).
const SCRAPE_LIMITS: SideLimits = SideLimits {
    name: "Prometheus",
    max_connections: 64,
    header_read_timeout: Duration::from_secs(10),
    connection_lifetime: Duration::from_secs(60),
    stop_wait: Duration::from_secs(1),
};

/// The content type of [`PrometheusHandle::render`]'s output.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

// === impl PrometheusHandle ===

impl PrometheusHandle {
    /// The text exposition of every instrument of the meter provider.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        // Encoding into a Vec fails only on a broken metric family; show what we have.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// Serves `render()` on `conf.path` at `conf.host:conf.port` until the returned port is
    /// stopped or dropped. go-zero's `Prometheus: {Host, Port, Path}`; deployments scrape
    /// port 9090.
    pub async fn serve(&self, conf: &PrometheusConf) -> Result<SidePort, TelemetryError> {
        let addr = format!("{}:{}", conf.host, conf.port);
        let failed = |reason: String| TelemetryError::Prometheus {
            addr: addr.clone(),
            reason,
        };
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(|e| failed(format!("cannot listen ({e}); is the port taken?")))?;
        let (handle, path) = (self.clone(), Arc::<str>::from(conf.path.as_str()));
        let handler: Handler = Arc::new(move |req, _stopping| {
            let answer = handle.answer(&req, &path);
            Box::pin(async move { answer })
        });
        SidePort::serve(listener, SCRAPE_LIMITS, handler).map_err(|e| failed(e.to_string()))
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
