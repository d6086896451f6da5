//! The order system for tests: the three services started in process on loopback
//! ports, on a chosen backend, exporting to an in-test rzero-collector; an HTTP helper;
//! and a TCP proxy that can cut the database away.

// Each test binary (system, faults) uses its own part of this module.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use rzero_collector::{Collector, CollectorConfig, RunningCollector};
use rzero_conf::Loader;
use rzero_telemetry::{Telemetry, TelemetryGuard};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What the services store their data in.
#[derive(Clone, Debug)]
pub(crate) enum Backend {
    /// SQLite files in the test's temp dir and in-process caches.
    Embedded,
    /// MariaDB databases `<name>_user` and `<name>_order` (created fresh), Redis, and
    /// discovery through a real etcd.
    Distributed(&'static str),
}

/// How services find each other: fixed addresses, or etcd.
#[derive(Clone, Debug)]
pub(crate) enum Discovery {
    Static,
    Etcd(String),
}

impl Discovery {
    /// The server's registration section for `key`.
    pub(crate) fn register(&self, key: &str) -> String {
        match self {
            Discovery::Static => String::new(),
            Discovery::Etcd(ep) => format!("Etcd:\n  Hosts: [\"{ep}\"]\n  Key: {key}\n"),
        }
    }

    /// The body of a client section reaching `key`, served at `addr`.
    pub(crate) fn client(&self, key: &str, addr: SocketAddr) -> String {
        match self {
            Discovery::Static => format!("  Endpoints: [\"{addr}\"]\n"),
            Discovery::Etcd(ep) => {
                format!("  Etcd:\n    Hosts: [\"{ep}\"]\n    Key: {key}\n  NonBlock: false\n")
            }
        }
    }
}

impl Backend {
    /// The `Mysql` (and `Redis`) sections of service `svc` (`user` or `order`), reaching
    /// MariaDB at `mysql` and Redis at `redis` (proxies the test can cut, or the real ones).
    pub(crate) fn sections(
        &self,
        svc: &str,
        dir: &std::path::Path,
        mysql: &str,
        redis: &str,
    ) -> String {
        match self {
            Backend::Embedded => format!(
                "Mysql:\n  DataSource: sqlite://{}/{svc}.db\n  Migrate: true\n",
                dir.display()
            ),
            Backend::Distributed(name) => format!(
                "Mysql:\n  DataSource: root:@tcp({mysql})/{name}_{svc}\n  Migrate: true\n  ConnectTimeout: 1000\n\
                 Redis:\n  Host: {redis}\n  Type: node\n"
            ),
        }
    }

    /// The data source of service `svc`'s database.
    pub(crate) fn data_source(&self, svc: &str, dir: &std::path::Path) -> String {
        match self {
            Backend::Embedded => format!("sqlite://{}/{svc}.db", dir.display()),
            Backend::Distributed(name) => format!("root:@tcp(127.0.0.1:3306)/{name}_{svc}"),
        }
    }

    /// Fresh databases, and no cached rows of an earlier run.
    pub(crate) async fn reset(&self) {
        let Backend::Distributed(name) = self else {
            return;
        };
        let admin = rzero_stores::sql::SqlPool::connect(&rzero_stores::sql::SqlPoolConf::new(
            "root:@tcp(127.0.0.1:3306)/test",
        ))
        .await
        .expect("MariaDB on 127.0.0.1:3306 (cargo xtask test starts it)");
        for svc in ["user", "order"] {
            let db = format!("{name}_{svc}");
            admin
                .query(&format!("DROP DATABASE IF EXISTS {db}"))
                .execute()
                .await
                .expect("drop");
            admin
                .query(&format!("CREATE DATABASE {db}"))
                .execute()
                .await
                .expect("create");
        }
        let redis = rzero_stores::redis::RedisStore::connect(&rzero_conf::RedisConf {
            host: "127.0.0.1:6379".into(),
            ..Default::default()
        })
        .await
        .expect("Redis on 127.0.0.1:6379 (cargo xtask test starts it)");
        for family in ["cache:users:*", "cache:orders:*", "cache:products:*"] {
            let keys: Vec<String> = redis
                .query(rzero_stores::redis::cmd("KEYS").arg(family))
                .await
                .expect("KEYS");
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            if !keys.is_empty() {
                redis.del(&keys).await.expect("DEL");
            }
        }
    }
}

pub(crate) struct System {
    pub(crate) backend: Backend,
    pub(crate) discovery: Discovery,
    pub(crate) _etcd: Option<rzero_rpc::testing::Etcd>,
    pub(crate) otel: String,
    pub(crate) api: SocketAddr,
    pub(crate) user_addr: SocketAddr,
    pub(crate) collector: RunningCollector,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) stops: Vec<tokio::sync::oneshot::Sender<()>>,
    /// order-api's serve task: ends when it has drained and flushed its telemetry.
    pub(crate) api_task: tokio::task::JoinHandle<()>,
}

/// Where the services reach their dependencies, for tests that break one of them.
#[derive(Clone, Debug)]
pub(crate) struct Reach {
    /// MariaDB, for order-rpc.
    pub(crate) mysql: String,
    /// Redis, for both rpc services.
    pub(crate) redis: String,
    /// The OTLP endpoint (`http://host:port`) instead of the test's collector.
    pub(crate) otlp: Option<String>,
    /// order-api's `Shutdown` section.
    pub(crate) api_shutdown: String,
    /// The collector's viewer and API on a free port (off by default).
    pub(crate) viewer: bool,
    /// Milliseconds between the services' OTLP metric exports (the SDK's 60 s default
    /// when `None`).
    pub(crate) metric_interval_ms: Option<u64>,
}

impl Default for Reach {
    fn default() -> Self {
        Reach {
            mysql: "127.0.0.1:3306".into(),
            redis: "127.0.0.1:6379".into(),
            otlp: None,
            api_shutdown: String::new(),
            viewer: false,
            metric_interval_ms: None,
        }
    }
}

pub(crate) fn telemetry(name: &str, conf: &rzero_telemetry::TelemetryConf) -> TelemetryGuard {
    Telemetry::new(name, "test")
        .conf(conf)
        .env(Vec::<(String, String)>::new())
        .without_subscriber()
        .init()
        .expect("telemetry")
}

pub(crate) fn otel_section(collector: &RunningCollector) -> String {
    let addr = collector.grpc_addr().expect("grpc");
    format!("OpenTelemetry:\n  Endpoint: http://{addr}\n  Batch:\n    ScheduleDelay: 100\n")
}

pub(crate) async fn start(backend: Backend) -> System {
    start_with(backend, "127.0.0.1:3306").await
}

/// [`start`], with order-rpc reaching MariaDB at `mysql` (a proxy the test can cut).
pub(crate) async fn start_with(backend: Backend, mysql: &str) -> System {
    start_reaching(
        backend,
        Reach {
            mysql: mysql.to_owned(),
            ..Reach::default()
        },
    )
    .await
}

/// [`start`], with the services reaching their dependencies as `reach` says.
pub(crate) async fn start_reaching(backend: Backend, reach: Reach) -> System {
    let mysql = reach.mysql.as_str();
    backend.reset().await;
    let any: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let collector = Collector::start(CollectorConfig {
        otlp_grpc: Some(any),
        otlp_http: None,
        ui: reach.viewer.then_some(any),
        ..CollectorConfig::default()
    })
    .await
    .expect("collector");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut otel = match &reach.otlp {
        Some(endpoint) => {
            format!("OpenTelemetry:\n  Endpoint: {endpoint}\n  Batch:\n    ScheduleDelay: 100\n")
        }
        None => otel_section(&collector),
    };
    if let Some(ms) = reach.metric_interval_ms {
        otel.push_str(&format!("  Metrics:\n    Interval: {ms}\n"));
    }
    let mut stops = Vec::new();
    let etcd = match backend {
        Backend::Embedded => None,
        Backend::Distributed(_) => Some(
            tokio::task::spawn_blocking(rzero_rpc::testing::Etcd::start)
                .await
                .expect("etcd"),
        ),
    };
    let discovery = match &etcd {
        None => Discovery::Static,
        Some(etcd) => Discovery::Etcd(etcd.endpoint.clone()),
    };

    let (user_addr, tx) = start_user_reaching(
        &backend,
        &discovery,
        "127.0.0.1:0",
        dir.path(),
        &otel,
        &reach.redis,
    )
    .await;
    stops.push(tx);

    let yaml = format!(
        "Name: order.rpc\nListenOn: 127.0.0.1:0\n{otel}{}{}UserRpc:\n{}",
        backend.sections("order", dir.path(), mysql, &reach.redis),
        discovery.register("order.rpc"),
        discovery.client("user.rpc", user_addr),
    );
    let conf: order_rpc::config::Config = Loader::new()
        .load_str("order.yaml", &yaml)
        .expect("order conf");
    let guard = telemetry("order.rpc", &conf.rpc.service.telemetry_conf());
    let order = order_rpc::server(conf, guard)
        .await
        .expect("order-rpc")
        .bind()
        .await
        .expect("bind");
    let order_addr = order.local_addr();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    stops.push(tx);
    tokio::spawn(order.serve(async move {
        let _ = rx.await;
    }));

    let yaml = format!(
        "Name: order-api\nHost: 127.0.0.1\nPort: 0\nCpuThreshold: 0\n{otel}{}OrderRpc:\n{}",
        reach.api_shutdown,
        discovery.client("order.rpc", order_addr),
    );
    let conf: order_api::config::Config = Loader::new()
        .load_str("order-api.yaml", &yaml)
        .expect("api conf");
    let guard = telemetry("order-api", &conf.rest.service.telemetry_conf());
    let server = order_api::server(conf, guard).await.expect("order-api");
    let listener = tokio::net::TcpListener::bind(any).await.expect("bind");
    let api = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    stops.push(tx);
    let api_task = tokio::spawn(async move {
        let _ = server
            .serve_on(listener, async move {
                let _ = rx.await;
            })
            .await;
    });
    System {
        api_task,
        backend,
        discovery,
        _etcd: etcd,
        otel,
        api,
        user_addr,
        collector,
        dir,
        stops,
    }
}

/// Starts user-rpc on `listen_on` with its database in `dir`; the sender stops it.
pub(crate) async fn start_user(
    backend: &Backend,
    discovery: &Discovery,
    listen_on: &str,
    dir: &std::path::Path,
    otel: &str,
) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    start_user_reaching(backend, discovery, listen_on, dir, otel, "127.0.0.1:6379").await
}

/// [`start_user`] with Redis at `redis`.
pub(crate) async fn start_user_reaching(
    backend: &Backend,
    discovery: &Discovery,
    listen_on: &str,
    dir: &std::path::Path,
    otel: &str,
    redis: &str,
) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let yaml = format!(
        "Name: user.rpc\nListenOn: {listen_on}\n{otel}{}{}",
        backend.sections("user", dir, "127.0.0.1:3306", redis),
        discovery.register("user.rpc"),
    );
    let conf: user_rpc::config::Config = Loader::new()
        .load_str("user.yaml", &yaml)
        .expect("user conf");
    let guard = telemetry("user.rpc", &conf.rpc.service.telemetry_conf());
    let user = user_rpc::server(conf, guard)
        .await
        .expect("user-rpc")
        .bind()
        .await
        .expect("bind");
    let addr = user.local_addr();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(user.serve(async move {
        let _ = rx.await;
    }));
    (addr, tx)
}

pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) trace_id: String,
    pub(crate) body: serde_json::Value,
}

pub(crate) async fn call(addr: SocketAddr, method: &str, path: &str, body: &str) -> Answer {
    call_with(addr, method, path, "", body).await
}

/// [`call`] with extra header lines (`name: value\r\n` each).
pub(crate) async fn call_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> Answer {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_string(&mut out))
        .await
        .expect("an answer within 20 s")
        .expect("read");
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    Answer {
        status: head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        trace_id: head
            .lines()
            .find_map(|l| l.strip_prefix("x-trace-id: "))
            .unwrap_or("")
            .to_owned(),
        body: serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}")),
    }
}

pub(crate) const ORDER: &str = r#"{"user_id": 1, "product_id": 1, "amount": 99.99}"#;

/// A TCP proxy to `upstream` that the test can cut (open connections dropped, new ones
/// refused) and restore: a database outage without stopping the machine's database.
pub(crate) struct Proxy {
    pub(crate) addr: SocketAddr,
    pub(crate) up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    pub(crate) conns: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    pub(crate) async fn start(upstream: &'static str) -> Proxy {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let conns = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (u, c) = (up.clone(), conns.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !u.load(Ordering::SeqCst) {
                    continue; // dropped: the client sees its connection closed
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                c.lock().expect("lock").push(task.abort_handle());
            }
        });
        Proxy { addr, up, conns }
    }

    pub(crate) fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for c in self.conns.lock().expect("lock").drain(..) {
            c.abort();
        }
    }

    pub(crate) fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}
