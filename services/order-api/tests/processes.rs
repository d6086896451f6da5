//! The order system as three processes (the real binaries, built once by cargo) on
//! MariaDB and Redis, exporting to an in-test collector, while clients create orders as a
//! real client does: each order with its own `Idempotency-Key`, retried on any failure
//! (a 503, a refused or dropped connection) until it gets a 200.
//!
//! One system, five faults in turn, each bounded and each followed by a restart:
//! - `kill -9` of order-rpc, then of order-api: every order that got a 200 is in the
//!   database once, to the cent, under the id the 200 gave;
//! - SIGTERM to user-rpc, order-rpc and order-api: no request sent before the signal
//!   fails, the process exits 0 with no flush error in its stderr, and its spans reached
//!   the collector.
//!
//! The figures (requests sent, ok, failed attempts, orders in the database vs 200s) are
//! printed with `[processes]`.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Backend, otel_section};
use rzero_collector::{Collector, CollectorConfig, RunningCollector};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DB: &str = "rzero_processes";
/// The longest any wait of this suite lasts.
const BOUND: Duration = Duration::from_secs(60);

/// Builds the three binaries (once; cargo's no-op when they are fresh) and answers the
/// folder they are in: the one cargo put this package's binary in.
fn binaries() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "-p",
                "order-rpc",
                "-p",
                "user-rpc",
                "-p",
                "order-api",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "cargo build of the services failed");
        Path::new(env!("CARGO_BIN_EXE_order-api"))
            .parent()
            .expect("a folder")
            .to_path_buf()
    })
}

/// A free loopback port, for a service that must come back at the same address.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// One service as a process, restartable at its port with its config.
struct Service {
    name: &'static str,
    port: u16,
    config: PathBuf,
    dir: PathBuf,
    child: Option<Child>,
    runs: usize,
}

impl Service {
    fn new(name: &'static str, dir: &Path, yaml: String, port: u16) -> Service {
        let config = dir.join(format!("{name}.yaml"));
        std::fs::write(&config, yaml).expect("write config");
        Service {
            name,
            port,
            config,
            dir: dir.to_path_buf(),
            child: None,
            runs: 0,
        }
    }

    fn stderr_path(&self) -> PathBuf {
        self.dir.join(format!("{}.{}.stderr", self.name, self.runs))
    }

    /// Starts the process and waits (bounded) until its port accepts.
    async fn start(&mut self) {
        self.runs += 1;
        let stderr = std::fs::File::create(self.stderr_path()).expect("stderr file");
        let child = Command::new(binaries().join(self.name))
            .arg("-f")
            .arg(&self.config)
            .env("LOG_ENCODING", "plain")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.name));
        self.child = Some(child);
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let until = Instant::now() + BOUND;
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            assert!(
                exited.is_none(),
                "{} exited at start: {exited:?}: {}",
                self.name,
                self.stderr()
            );
            assert!(
                Instant::now() < until,
                "{} did not listen within {BOUND:?}",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.stderr_path()).unwrap_or_default()
    }

    fn kill9(&mut self) {
        let mut c = self.child.take().expect("running");
        c.kill().expect("SIGKILL");
        let _ = c.wait();
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    async fn terminate(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("running");
        let ok = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status()
            .expect("kill");
        assert!(ok.success());
        let until = Instant::now() + BOUND;
        loop {
            if let Some(status) = c.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > until {
                let _ = c.kill();
                panic!("{} did not exit within {BOUND:?} of SIGTERM", self.name);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// One POST with an idempotency key: the status and body, or `None` if the connection
/// failed (refused, reset, no answer within 20 s).
async fn post(api: SocketAddr, key: &str, cents: i64) -> Option<(u16, serde_json::Value)> {
    let body = format!(
        r#"{{"user_id": 1, "product_id": 1, "amount": {}.{:02}}}"#,
        cents / 100,
        cents % 100
    );
    let mut s = tokio::net::TcpStream::connect(api).await.ok()?;
    let req = format!(
        "POST /api/v1/orders HTTP/1.1\r\nhost: {api}\r\ncontent-type: application/json\r\n\
         idempotency-key: {key}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.ok()?;
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_string(&mut out))
        .await
        .ok()?
        .ok()?;
    let (head, body) = out.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, serde_json::from_str(body).unwrap_or_default()))
}

/// What a load saw: attempts, and the orders acknowledged (key -> (id, cents)).
#[derive(Default)]
struct Tally {
    attempts: usize,
    failed_attempts: usize,
    acked: HashMap<String, (i64, i64)>,
    /// Requests sent before `signal_at` that did not get a 200 (no retry counted).
    failed_before_signal: Vec<String>,
}

/// `tasks` clients, each creating orders one after another until `stop` (each retried
/// until it gets a 200, within [`BOUND`]). Orders are `{tag}-{task}-{n}`, a distinct
/// amount each. `signal_at`, once set, splits the first attempts into before and after.
async fn load(
    api: SocketAddr,
    tag: &'static str,
    tasks: usize,
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicUsize>,
    signal_at: Arc<std::sync::Mutex<Option<Instant>>>,
) -> Tally {
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let (stop, ok, signal_at) = (stop.clone(), ok.clone(), signal_at.clone());
            tokio::spawn(async move {
                let mut tally = Tally::default();
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let key = format!("{tag}-{t}-{n}");
                    let cents = 100 + (t as i64) * 10_000 + n;
                    let until = Instant::now() + BOUND;
                    let mut first = true;
                    loop {
                        let sent = Instant::now();
                        let answer = post(api, &key, cents).await;
                        tally.attempts += 1;
                        let before = signal_at.lock().expect("lock").is_none_or(|s| sent < s);
                        if let Some((200, body)) = &answer {
                            let id = body["order_id"].as_i64().expect("an order id");
                            tally.acked.insert(key.clone(), (id, cents));
                            ok.fetch_add(1, Ordering::SeqCst);
                            break;
                        }
                        tally.failed_attempts += 1;
                        if first && before && signal_at.lock().expect("lock").is_some() {
                            tally
                                .failed_before_signal
                                .push(format!("{key}: {answer:?}"));
                        }
                        first = false;
                        assert!(Instant::now() < until, "{key} got no 200 within {BOUND:?}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
                tally
            })
        })
        .collect();
    let mut all = Tally::default();
    for h in handles {
        let t = tokio::time::timeout(BOUND * 2, h)
            .await
            .expect("the clients finish")
            .expect("client");
        all.attempts += t.attempts;
        all.failed_attempts += t.failed_attempts;
        all.acked.extend(t.acked);
        all.failed_before_signal.extend(t.failed_before_signal);
    }
    all
}

/// The three services on MariaDB (`rzero_processes_*`) and Redis, exporting to `collector`.
async fn system(dir: &Path, collector: &RunningCollector) -> [Service; 3] {
    let backend = Backend::Distributed(DB);
    backend.reset().await;
    let otel = otel_section(collector);
    let (user_port, order_port, api_port) = (free_port(), free_port(), free_port());
    let redis = "127.0.0.1:6379";
    let mysql = "127.0.0.1:3306";
    let user = Service::new(
        "user-rpc",
        dir,
        format!(
            "Name: user.rpc\nListenOn: 127.0.0.1:{user_port}\n{otel}{}",
            backend.sections("user", dir, mysql, redis)
        ),
        user_port,
    );
    let order = Service::new(
        "order-rpc",
        dir,
        format!(
            "Name: order.rpc\nListenOn: 127.0.0.1:{order_port}\n{otel}{}UserRpc:\n  Endpoints: [\"127.0.0.1:{user_port}\"]\n",
            backend.sections("order", dir, mysql, redis)
        ),
        order_port,
    );
    let api = Service::new(
        "order-api",
        dir,
        format!(
            "Name: order-api\nHost: 127.0.0.1\nPort: {api_port}\nCpuThreshold: 0\n{otel}\
             OrderRpc:\n  Endpoints: [\"127.0.0.1:{order_port}\"]\n"
        ),
        api_port,
    );
    let mut all = [user, order, api];
    for s in &mut all {
        s.start().await;
    }
    all
}

/// Waits (bounded) until `ok` has grown by `more`.
async fn until_ok(ok: &AtomicUsize, more: usize, what: &str) {
    let target = ok.load(Ordering::SeqCst) + more;
    let until = Instant::now() + BOUND;
    while ok.load(Ordering::SeqCst) < target {
        assert!(
            Instant::now() < until,
            "{what}: no {more} more 200s within {BOUND:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    Kill9,
    Term,
}

/// One phase: load, `fault` on service `which` once 20 orders are in, restart, 20 more,
/// stop; then the checks of the module doc.
async fn phase(
    services: &mut [Service; 3],
    which: usize,
    fault: Fault,
    tag: &'static str,
    collector: &RunningCollector,
    db: &rzero_stores::sql::SqlPool,
) {
    let api = SocketAddr::from(([127, 0, 0, 1], services[2].port));
    let (stop, ok) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let signal_at = Arc::new(std::sync::Mutex::new(None));
    let clients = tokio::spawn(load(
        api,
        tag,
        6,
        stop.clone(),
        ok.clone(),
        signal_at.clone(),
    ));
    until_ok(&ok, 20, tag).await;
    let name = services[which].name;
    *signal_at.lock().expect("lock") = Some(Instant::now());
    match fault {
        Fault::Kill9 => services[which].kill9(),
        Fault::Term => {
            let status = services[which].terminate().await;
            let stderr = services[which].stderr();
            assert!(
                status.success(),
                "{name} exited with {status} after SIGTERM: {stderr}"
            );
            for bad in ["ShutdownError", "Failed to shutdown", "flush"] {
                assert!(
                    !stderr.contains(bad),
                    "{name}'s stderr after SIGTERM mentions `{bad}`: {stderr}"
                );
            }
        }
    }
    services[which].start().await;
    until_ok(&ok, 20, tag).await;
    stop.store(true, Ordering::SeqCst);
    let tally = clients.await.expect("clients");

    let rows: Vec<(i64, i64, String)> = db
        .query("SELECT id, amount_cents, idempotency_key FROM orders WHERE idempotency_key LIKE ?")
        .bind(format!("{tag}-%"))
        .fetch_all()
        .await
        .expect("rows");
    let mut by_key: HashMap<&str, Vec<(i64, i64)>> = HashMap::new();
    for (id, cents, key) in &rows {
        by_key.entry(key).or_default().push((*id, *cents));
    }
    eprintln!(
        "[processes] {fault:?} {name}: {} requests sent, {} ok, {} failed attempts (retried), \
         {} orders acknowledged, {} rows in MariaDB, {} first attempts sent before the signal failed",
        tally.attempts,
        tally.acked.len(),
        tally.failed_attempts,
        tally.acked.len(),
        rows.len(),
        tally.failed_before_signal.len()
    );
    for (key, (id, cents)) in &tally.acked {
        assert_eq!(
            by_key.get(key.as_str()).map(Vec::as_slice),
            Some(&[(*id, *cents)][..]),
            "order {key} was acknowledged as id {id} of {cents} cents"
        );
    }
    assert!(
        by_key.values().all(|v| v.len() == 1),
        "an order stored twice"
    );
    if matches!(fault, Fault::Term) {
        assert!(
            tally.failed_before_signal.is_empty(),
            "SIGTERM to {name}: requests sent before it failed: {:?}",
            &tally.failed_before_signal[..tally.failed_before_signal.len().min(3)]
        );
        let store = collector.store();
        let service = match name {
            "user-rpc" => "user.rpc",
            "order-rpc" => "order.rpc",
            other => other,
        };
        let exported = store
            .wait_until(Duration::from_secs(20), |st| {
                st.traces(&Default::default()).iter().any(|t| {
                    st.trace(&t.trace_id)
                        .is_some_and(|t| t.spans.iter().any(|s| s.service == service))
                })
            })
            .await;
        assert!(exported, "{name}'s spans reached the collector");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_and_term_of_each_service_lose_no_acknowledged_order() {
    let any: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let collector = Collector::start(CollectorConfig {
        otlp_grpc: Some(any),
        otlp_http: None,
        ui: None,
        ..CollectorConfig::default()
    })
    .await
    .expect("collector");
    let dir = tempfile::tempdir().expect("tempdir");
    let _ = tokio::task::spawn_blocking(binaries).await;
    let mut services = system(dir.path(), &collector).await;
    let db = rzero_stores::sql::SqlPool::connect(&rzero_stores::sql::SqlPoolConf::new(format!(
        "root:@tcp(127.0.0.1:3306)/{DB}_order"
    )))
    .await
    .expect("MariaDB");
    phase(&mut services, 1, Fault::Kill9, "k9rpc", &collector, &db).await;
    phase(&mut services, 2, Fault::Kill9, "k9api", &collector, &db).await;
    phase(&mut services, 0, Fault::Term, "termuser", &collector, &db).await;
    phase(&mut services, 1, Fault::Term, "termrpc", &collector, &db).await;
    phase(&mut services, 2, Fault::Term, "termapi", &collector, &db).await;
    collector.shutdown().await;
}
