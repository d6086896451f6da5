//! rzero-collector: an OTLP collector inside rzero, so that a newcomer sees traces with
//! nothing installed (Jaeger all-in-one's ports: 4317, 4318, 16686).
//!
//! Map of the crate:
//! - `receiver`: OTLP/gRPC (`grpc.rs`) and OTLP/HTTP with protobuf or JSON (`http.rs`);
//! - [`store`]: the bounded in-memory store, its model and queries;
//! - `api`: the JSON API on the UI port;
//! - `ui`: the trace viewer (list with filters, waterfall, span details, logs);
//! - [`config`]: ports and limits.
//!
//! Not built yet: forwarding to an upstream collector.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use rzero_collector::{Collector, CollectorConfig};
//! let collector = Collector::start(CollectorConfig::default()).await?;
//! println!("OTLP/gRPC on {:?}", collector.grpc_addr());
//! let store = collector.store();
//! # let _ = store; collector.shutdown().await; Ok(()) }
//! ```
#![warn(missing_docs)]

mod api;
pub mod config;
mod error;
mod receiver;
pub mod store;
mod ui;

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{CollectorConfig, StoreLimits};
pub use error::CollectorError;
pub use store::{LogRecord, Store, StoredSpan, Trace, TraceQuery, TraceSummary};

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
        let signal = move || {
            let mut rx = stopped.clone();
            async move {
                let _ = rx.wait_for(|s| *s).await;
            }
        };
        let mut tasks = Vec::new();
        let (mut grpc, mut http, mut ui) = (None, None, None);

        if let Some(addr) = config.otlp_grpc {
            let listener = bind(addr, "OTLP/gRPC").await?;
            grpc = Some(local(&listener, addr, "OTLP/gRPC")?);
            let routes = receiver::grpc::Grpc::router(store.clone(), config.max_body_bytes);
            let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
            let shutdown = signal();
            tasks.push(tokio::spawn(async move {
                let _ = tonic::transport::Server::builder()
                    .add_routes(routes)
                    .serve_with_incoming_shutdown(incoming, shutdown)
                    .await;
            }));
        }
        if let Some(addr) = config.otlp_http {
            let listener = bind(addr, "OTLP/HTTP").await?;
            http = Some(local(&listener, addr, "OTLP/HTTP")?);
            let app = receiver::http::router(store.clone(), config.max_body_bytes);
            tasks.push(tokio::spawn(serve(listener, app, signal())));
        }
        if let Some(addr) = config.ui {
            let listener = bind(addr, "the API").await?;
            ui = Some(local(&listener, addr, "the API")?);
            let app = api::router(store.clone()).merge(ui::router());
            tasks.push(tokio::spawn(serve(listener, app, signal())));
        }
        Ok(RunningCollector {
            grpc,
            http,
            ui,
            store,
            stop,
            tasks,
        })
    }
}

async fn serve(
    listener: TcpListener,
    app: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let _ = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
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

    /// Stops accepting, lets requests in flight finish (at most 5 s), and returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let abort = task.abort_handle();
            if tokio::time::timeout(std::time::Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}
