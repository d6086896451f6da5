//! rzero-collector: an OTLP collector inside rzero, so that a newcomer sees traces with
//! nothing installed (Jaeger all-in-one's ports: 4317, 4318, 16686).
//!
//! Map of the crate:
//! - `receiver`: OTLP/gRPC (`grpc.rs`) and OTLP/HTTP with protobuf or JSON (`http.rs`),
//!   each request through `guard.rs` (bearer token, the pre-scan of `scan.rs` that
//!   bounds what a request decodes to, the in-flight decode budget) before decoding;
//! - [`tail`]: tail-aware sampling (hold each trace until complete, judge it by policy);
//! - [`store`]: the bounded in-memory store, its model and queries, its SQLite mirror
//!   (`--data`) and its way back to OTLP;
//! - `analytics`: the service map and RED series computed from the stored spans;
//! - `jaeger`: Jaeger's HTTP query API on the UI port (`/api/*`), for Grafana's Jaeger
//!   data source, Jaeger tooling and the viewer's trace list and trace pages alike;
//! - `api`: rzero's JSON API beside it (`/rzero/api/*`), for what Jaeger's model has no
//!   place for (a trace's OTLP logs and OTLP JSON, the map and RED views, the store's
//!   counts) and for scripts;
//! - `ui`: the trace viewer (list with filters, waterfall with critical path, span
//!   details, logs, service map, RED charts, trace comparison);
//! - `forward`: optional forwarding of everything received to an upstream OTLP/gRPC
//!   endpoint, through a bounded queue that drops rather than waits;
//! - [`config`]: ports and limits.
//!
//! In a test: start on free loopback ports, point an exporter at it, wait for the spans
//! (no blind sleeps), read them back.
//!
//! ```
//! use std::time::Duration;
//! use rzero_collector::{Collector, CollectorConfig, TraceQuery};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), rzero_collector::CollectorError> {
//! let any = "127.0.0.1:0".parse().ok();
//! let collector = Collector::start(CollectorConfig {
//!     otlp_grpc: any,
//!     otlp_http: any,
//!     ui: any,
//!     ..CollectorConfig::default()
//! })
//! .await?;
//! let endpoint = format!("http://{}", collector.grpc_addr().expect("gRPC is on"));
//! // ... export spans to `endpoint` ...
//! # let _ = endpoint;
//! let store = collector.store();
//! if store.wait_for_spans(1, Duration::from_millis(10)).await {
//!     for summary in store.traces(&TraceQuery::default()) {
//!         let trace = store.trace(&summary.trace_id);
//!         println!("{} {} {:?}", summary.root_service, summary.root_operation, trace);
//!     }
//! }
//! collector.shutdown().await;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod analytics;
mod api;
pub mod config;
mod error;
mod forward;
mod jaeger;
mod receiver;
pub mod store;
pub mod tail;
mod ui;

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{CollectorConfig, StoreLimits};
pub use error::CollectorError;
pub use forward::ForwardStats;
pub use store::{LogRecord, Store, StoreStats, StoredSpan, Trace, TraceQuery, TraceSummary};
pub use tail::{TailConfig, TailStats};

/// HTTP/2 pings on idle gRPC connections, so that a peer that vanished (no FIN) does
/// not hold a connection and its streams forever.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a shutdown waits for requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Starts collectors.
#[derive(Debug)]
pub struct Collector;

/// A started collector: its addresses, its store, and its shutdown.
#[derive(Debug)]
pub struct RunningCollector {
    grpc: Option<SocketAddr>,
    http: Option<SocketAddr>,
    ui: Option<SocketAddr>,
    store: Store,
    forward: Option<forward::Forwarder>,
    tail: Option<tail::TailSampler>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

async fn bind(addr: SocketAddr, what: &'static str) -> Result<TcpListener, CollectorError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| CollectorError::Bind { addr, what, source })
}

fn local(
    l: &TcpListener,
    addr: SocketAddr,
    what: &'static str,
) -> Result<SocketAddr, CollectorError> {
    l.local_addr()
        .map_err(|source| CollectorError::Bind { addr, what, source })
}

impl Collector {
    /// Binds every configured port, then serves until [`RunningCollector::shutdown`].
    pub async fn start(config: CollectorConfig) -> Result<RunningCollector, CollectorError> {
        let store = Store::new(config.limits);
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();
        if let Some(dir) = &config.data_dir {
            let (pool, spans) = store::persist::open(dir)
                .await
                .map_err(CollectorError::Data)?;
            let max_bytes = u64::try_from(config.data_max_bytes).unwrap_or(u64::MAX);
            let (persister, task) = store::persist::start(pool, max_bytes, stop.subscribe());
            store.persist_to(persister);
            store.restore(spans);
            tasks.push(task);
        }
        let signal = move || {
            let mut rx = stopped.clone();
            async move {
                let _ = rx.wait_for(|s| *s).await;
            }
        };
        let (mut grpc, mut http, mut ui) = (None, None, None);
        let forward = match &config.forward {
            Some(endpoint) => {
                let (f, task) = forward::Forwarder::start(
                    endpoint,
                    config.forward_queue_bytes,
                    stop.subscribe(),
                )?;
                tasks.push(task);
                Some(f)
            }
            None => None,
        };
        let sink = receiver::Sink {
            store: store.clone(),
            forward: forward.clone(),
        };
        let tail = config.tail_sampling.clone().map(|t| {
            let sampler = tail::TailSampler::new(t, sink.clone());
            tasks.push(tokio::spawn(sampler.clone().run(stop.subscribe())));
            sampler
        });
        let receiver = receiver_for(&config, sink, tail.clone());
        let timeout = config.request_timeout;

        if let Some(addr) = config.otlp_grpc {
            let listener = bind(addr, "OTLP/gRPC").await?;
            grpc = Some(local(&listener, addr, "OTLP/gRPC")?);
            let routes = receiver::grpc::routes(receiver.clone());
            let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
            let shutdown = signal();
            let streams = config.max_streams_per_connection.max(1);
            tasks.push(tokio::spawn(async move {
                let _ = tonic::transport::Server::builder()
                    .timeout(timeout)
                    .max_concurrent_streams(streams)
                    .concurrency_limit_per_connection(streams as usize)
                    .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
                    .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
                    .tcp_keepalive(Some(KEEPALIVE_INTERVAL))
                    .add_routes(routes)
                    .serve_with_incoming_shutdown(incoming, shutdown)
                    .await;
            }));
        }
        if let Some(addr) = config.otlp_http {
            let listener = bind(addr, "OTLP/HTTP").await?;
            http = Some(local(&listener, addr, "OTLP/HTTP")?);
            let app = receiver::http::router(receiver.clone());
            tasks.push(tokio::spawn(serve(listener, app, timeout, signal())));
        }
        if let Some(addr) = config.ui {
            let listener = bind(addr, "the API").await?;
            ui = Some(local(&listener, addr, "the API")?);
            let app = api::router(store.clone(), forward.clone(), tail.clone())
                .merge(jaeger::router(store.clone()))
                .merge(ui::router());
            tasks.push(tokio::spawn(serve(listener, app, timeout, signal())));
        }
        Ok(RunningCollector {
            grpc,
            http,
            ui,
            store,
            forward,
            tail,
            stop,
            tasks,
        })
    }
}

/// The receiver both OTLP servers share: the guard and limits of `config` over `sink`.
fn receiver_for(
    config: &CollectorConfig,
    sink: receiver::Sink,
    tail: Option<tail::TailSampler>,
) -> receiver::Receiver {
    receiver::Receiver {
        sink,
        tail,
        guard: receiver::guard::Guard::new(
            config.auth_token.as_deref(),
            config.max_decoded_bytes,
            config.max_inflight_decoded_bytes,
        ),
        max_body_bytes: config.max_body_bytes,
    }
}

/// The OTLP receivers without their listeners: the HTTP routes (`POST /v1/traces`,
/// `/v1/metrics`, `/v1/logs`) and the gRPC services, as routers that write to `store`
/// under `config`'s limits and token (its ports, forwarding, tail sampling and data dir
/// are not used). For calling the decode path without sockets (the fuzz targets in
/// `fuzz/`, property tests) or mounting it behind a listener of one's own.
#[derive(Debug, Clone)]
pub struct OtlpRouters {
    /// OTLP/HTTP, protobuf or JSON, gzip or not.
    pub http: axum::Router,
    /// OTLP/gRPC (needs HTTP/2 framing: `application/grpc` bodies).
    pub grpc: axum::Router,
}

impl Collector {
    /// The OTLP receivers over `store` (see [`OtlpRouters`]).
    pub fn otlp_routers(config: &CollectorConfig, store: Store) -> OtlpRouters {
        let sink = receiver::Sink {
            store,
            forward: None,
        };
        let receiver = receiver_for(config, sink, None);
        OtlpRouters {
            http: receiver::http::router(receiver.clone()),
            grpc: receiver::grpc::routes(receiver).into_axum_router(),
        }
    }
}

async fn serve(
    listener: TcpListener,
    app: axum::Router,
    timeout: Duration,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let app = app.layer(axum::middleware::from_fn_with_state(timeout, bounded));
    let _ = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
}

/// The longest a request may take, reading its body included; a slow or stuck client
/// gets 408 and its connection back.
async fn bounded(
    axum::extract::State(timeout): axum::extract::State<Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => (
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request took longer than {} s (a body sent too slowly?)",
                timeout.as_secs_f64()
            ),
        )
            .into_response(),
    }
}

impl RunningCollector {
    /// The bound OTLP/gRPC address.
    pub fn grpc_addr(&self) -> Option<SocketAddr> {
        self.grpc
    }

    /// The bound OTLP/HTTP address.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http
    }

    /// The bound API address.
    pub fn ui_addr(&self) -> Option<SocketAddr> {
        self.ui
    }

    /// The store the receivers write to.
    pub fn store(&self) -> Store {
        self.store.clone()
    }

    /// What forwarding did so far (`None` when it is off).
    pub fn forward_stats(&self) -> Option<ForwardStats> {
        self.forward.as_ref().map(forward::Forwarder::stats)
    }

    /// What tail sampling did so far (`None` when it is off).
    pub fn tail_stats(&self) -> Option<TailStats> {
        self.tail.as_ref().map(tail::TailSampler::stats)
    }

    /// Stops accepting, lets requests in flight finish and the forward queue drain (at
    /// most 5 s each), and returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let abort = task.abort_handle();
            if tokio::time::timeout(SHUTDOWN_GRACE, task).await.is_err() {
                abort.abort();
            }
        }
    }
}
