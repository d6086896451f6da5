//! The DevServer port on real loopback sockets, run by the one lifecycle: health follows
//! readiness, `/metrics` is the telemetry guard's registry, CPU profiles decode as pprof
//! protobuf and name the function that burned the CPU, bad input is refused, one profile
//! at a time, and nothing listens unless the config says so.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use prost::Message;
use rzero_service::devserver::DevServerConf;
use rzero_service::devserver::proto::Profile;
use rzero_service::{Lifecycle, ServiceConf, StartError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The sampler is the process's one; profile tests take turns.
static PROFILING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[derive(Debug, thiserror::Error)]
#[error("test server failed: {0}")]
struct Failed(#[from] StartError);

/// A service with the DevServer on a free loopback port, run by the lifecycle until the
/// sender is used.
struct Running {
    dev: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), Failed>>,
}

async fn run(mut life: Lifecycle) -> Running {
    life.start().await.expect("starts");
    let dev = life.dev_server_addr().expect("DevServer bound");
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(life.run(
        |drain| async move {
            drain.await;
            Ok::<(), Failed>(())
        },
        async move {
            let _ = stopped.await;
        },
        async {},
    ));
    // The lifecycle turns ready once serving: wait for it, bounded.
    for _ in 0..100 {
        if get(dev, "/healthz").await.status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Running { dev, stop, task }
}

fn conf(dev: Option<DevServerConf>) -> ServiceConf {
    let mut conf = ServiceConf {
        name: "devserver-test".into(),
        dev_server: dev,
        ..ServiceConf::default()
    };
    conf.shutdown.wrap_up_time = Duration::ZERO;
    conf
}

fn dev_on_free_port() -> DevServerConf {
    DevServerConf {
        port: 0,
        ..DevServerConf::default()
    }
}

struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
}

/// One HTTP/1.1 GET on a fresh connection, bounded.
async fn get(addr: SocketAddr, path: &str) -> Answer {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let req = format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        stream.write_all(req.as_bytes()).await.expect("write");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("read");
        raw
    };
    let raw = tokio::time::timeout(Duration::from_secs(30), exchange)
        .await
        .expect("answered in time");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    Answer {
        status,
        head,
        body: raw[split + 4..].to_vec(),
    }
}

/// Burns CPU on its own thread until the flag drops: the frame profiles must show.
#[inline(never)]
fn burn_cpu_for_devserver_test(stop: &AtomicBool) -> u64 {
    let mut x: u64 = 1;
    while !stop.load(Ordering::Relaxed) {
        for i in 0..100_000u64 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
        }
    }
    x
}

struct Burner(Arc<AtomicBool>, Option<std::thread::JoinHandle<u64>>);

impl Burner {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::spawn(move || burn_cpu_for_devserver_test(&s));
        Burner(stop, Some(thread))
    }
}

impl Drop for Burner {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
        if let Some(t) = self.1.take() {
            let _ = t.join();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_follows_readiness_and_the_port_closes_on_stop() {
    let running = run(Lifecycle::new(&conf(Some(dev_on_free_port())))).await;
    let health = get(running.dev, "/healthz").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.text(), "OK");
    let index = get(running.dev, "/").await;
    assert!(
        index.text().contains("/debug/pprof/profile"),
        "{}",
        index.text()
    );
    assert_eq!(get(running.dev, "/nope").await.status, 404);

    let _ = running.stop.send(());
    running
        .task
        .await
        .expect("joined")
        .expect("stopped cleanly");
    assert!(
        tokio::net::TcpStream::connect(running.dev).await.is_err(),
        "the DevServer stops with the service"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_the_telemetry_registry() {
    let guard = rzero_telemetry::Telemetry::new("devserver-metrics", "0.0.0")
        .env(Vec::<(String, String)>::new())
        .without_subscriber()
        .init()
        .expect("telemetry");
    let hits = guard.meter().u64_counter("devserver_test_hits").build();
    hits.add(3, &[]);
    let mut life = Lifecycle::new(&conf(Some(dev_on_free_port())));
    let rendered = guard.prometheus();
    life.telemetry(guard);
    let running = run(life).await;
    let metrics = get(running.dev, "/metrics").await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/plain")),
        "{}",
        metrics.head
    );
    let text = metrics.text();
    let line = text
        .lines()
        .find(|l| l.starts_with("devserver_test_hits"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.ends_with(" 3"), "{line}");
    assert!(
        rendered.render().contains("devserver_test_hits"),
        "one registry"
    );
    let _ = running.stop.send(());
    running
        .task
        .await
        .expect("joined")
        .expect("stopped cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cpu_profile_is_gzipped_pprof_naming_the_hot_function() {
    let _turn = PROFILING.lock().await;
    let running = run(Lifecycle::new(&conf(Some(dev_on_free_port())))).await;
    let burner = Burner::start();
    let answer = get(running.dev, "/debug/pprof/profile?seconds=2").await;
    drop(burner);
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        answer.header("content-type").as_deref(),
        Some("application/octet-stream")
    );
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(&answer.body[..])
        .read_to_end(&mut raw)
        .expect("gzip");
    let profile = Profile::decode(&raw[..]).expect("a pprof Profile");
    assert_eq!(profile.string(0), "");
    let types: Vec<_> = profile
        .sample_type
        .iter()
        .map(|t| (profile.string(t.r#type), profile.string(t.unit)))
        .collect();
    assert_eq!(types, [("samples", "count"), ("cpu", "nanoseconds")]);
    assert!(!profile.sample.is_empty(), "samples while burning CPU");
    assert_eq!(profile.period, 10_000_000, "100 Hz");
    let hot = profile
        .function
        .iter()
        .find(|f| {
            profile
                .string(f.name)
                .contains("burn_cpu_for_devserver_test")
        })
        .unwrap_or_else(|| panic!("no hot function in {:?}", profile.string_table));
    // Some sample's stack goes through it.
    let hot_locations: Vec<u64> = profile
        .location
        .iter()
        .filter(|l| l.line.iter().any(|line| line.function_id == hot.id))
        .map(|l| l.id)
        .collect();
    assert!(
        profile
            .sample
            .iter()
            .any(|s| s.location_id.iter().any(|id| hot_locations.contains(id))),
        "a sample in the hot function"
    );
    // The profiler's own stack walk is not in the stacks: leaves are the program's.
    let own = profile
        .function
        .iter()
        .map(|f| profile.string(f.name))
        .find(|n| n.contains("pprof::") || n.contains("perf_signal_handler"));
    assert_eq!(own, None, "the profiler's frames are cut");
    let _ = running.stop.send(());
    running
        .task
        .await
        .expect("joined")
        .expect("stopped cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flamegraph_is_svg() {
    let _turn = PROFILING.lock().await;
    let running = run(Lifecycle::new(&conf(Some(dev_on_free_port())))).await;
    let burner = Burner::start();
    let answer = get(running.dev, "/debug/pprof/flamegraph?seconds=1").await;
    drop(burner);
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        answer.header("content-type").as_deref(),
        Some("image/svg+xml")
    );
    let svg = answer.text();
    assert!(svg.contains("<svg"), "{svg}");
    assert!(
        svg.contains("burn_cpu_for_devserver_test"),
        "the hot frame is drawn"
    );
    let _ = running.stop.send(());
    running
        .task
        .await
        .expect("joined")
        .expect("stopped cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_seconds_are_a_400_with_a_json_reason() {
    let running = run(Lifecycle::new(&conf(Some(dev_on_free_port())))).await;
    for q in ["seconds=0", "seconds=61", "seconds=abc", "seconds=-5"] {
        let answer = get(running.dev, &format!("/debug/pprof/profile?{q}")).await;
        assert_eq!(answer.status, 400, "{q}");
        let v: serde_json::Value = serde_json::from_slice(&answer.body).expect("json");
        assert_eq!(v["code"], 400);
        assert!(
            v["msg"]
                .as_str()
                .is_some_and(|m| m.contains("from 1 to 60")),
            "{v}"
        );
    }
    let _ = running.stop.send(());
    running
        .task
        .await
        .expect("joined")
        .expect("stopped cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_profile_while_one_runs_is_refused() {
    let _turn = PROFILING.lock().await;
    let running = run(Lifecycle::new(&conf(Some(dev_on_free_port())))).await;
    let dev = running.dev;
    let first = tokio::spawn(async move { get(dev, "/debug/pprof/profile?seconds=3").await });
    // Whichever request takes the sampler first, one overlapping it is refused.
    let mut refused = None;
    let mut served = 0;
    for _ in 0..40 {
        let a = get(dev, "/debug/pprof/flamegraph?seconds=1").await;
        match a.status {
            409 => {
                refused = Some(a);
                break;
            }
            200 => served += 1,
            other => panic!("unexpected {other}: {}", a.text()),
        }
        if first.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first = first.await.expect("first");
    let refused = match (refused, first.status) {
        (Some(r), 200) => r,
        // The flamegraph took the sampler first: the long one was the refused one.
        (None, 409) => first,
        (r, s) => panic!(
            "no refusal: first {s}, later {r:?}",
            r = r.map(|a| a.status)
        ),
    };
    let v: serde_json::Value = serde_json::from_slice(&refused.body).expect("json");
    assert_eq!(v["code"], 409);
    assert!(
        v["msg"]
            .as_str()
            .is_some_and(|m| m.contains("already running")),
        "{v}"
    );
    let _ = served;
    let _ = running.stop.send(());
    running
        .task
        .await
        .expect("joined")
        .expect("stopped cleanly");
}

/// A 60 s profile that holds the sampler: a probe is refused while it runs. (A probe that
/// took the sampler first makes the long one the refused one; then it is sent again.)
async fn holding_the_sampler(dev: SocketAddr) -> JoinHandle<Answer> {
    for _ in 0..20 {
        let long = tokio::spawn(async move { get(dev, "/debug/pprof/profile?seconds=60").await });
        loop {
            if get(dev, "/debug/pprof/profile?seconds=1").await.status == 409 {
                return long;
            }
            if long.is_finished() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    panic!("no profile ever held the sampler");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_ends_a_running_profile_at_once() {
    let _turn = PROFILING.lock().await;
    let running = run(Lifecycle::new(&conf(Some(dev_on_free_port())))).await;
    let profile = holding_the_sampler(running.dev).await;
    let _ = running.stop.send(());
    let answer = profile.await.expect("joined");
    assert_eq!(answer.status, 503, "{}", answer.text());
    assert!(answer.text().contains("stopping"), "{}", answer.text());
    running
        .task
        .await
        .expect("joined")
        .expect("stopped cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listens_without_the_section_or_when_disabled() {
    let mut life = Lifecycle::new(&conf(None));
    life.start().await.expect("starts");
    assert_eq!(life.dev_server_addr(), None);

    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let disabled = DevServerConf {
        enabled: false,
        port: free.port(),
        ..DevServerConf::default()
    };
    let mut life = Lifecycle::new(&conf(Some(disabled)));
    life.start().await.expect("starts");
    assert_eq!(life.dev_server_addr(), None);
    assert!(
        tokio::net::TcpStream::connect(free).await.is_err(),
        "port not bound"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_port_fails_the_start_naming_the_section() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let mut life = Lifecycle::new(&conf(Some(DevServerConf {
        port,
        ..DevServerConf::default()
    })));
    let err = life.start().await.expect_err("port taken").to_string();
    assert!(
        err.contains("DevServer") && err.contains(&port.to_string()),
        "{err}"
    );
}

#[test]
fn the_section_reads_go_zero_keys() {
    let yaml = "Name: a\nDevServer:\n  Enabled: true\n  Host: 0.0.0.0\n  Port: 6470\n  \
                MetricsPath: /m\n  HealthPath: /h\n  EnableMetrics: false\n  EnablePprof: false\n  \
                HealthResponse: fine\n";
    let c: ServiceConf = rzero_conf::Loader::new()
        .env(|_| None)
        .load_str("a.yaml", yaml)
        .expect("loads");
    let dev = c.dev_server.expect("section");
    assert_eq!(
        dev,
        DevServerConf {
            enabled: true,
            host: "0.0.0.0".into(),
            port: 6470,
            metrics_path: "/m".into(),
            health_path: "/h".into(),
            enable_metrics: false,
            enable_pprof: false,
            health_response: "fine".into(),
        }
    );
    let absent: ServiceConf = rzero_conf::Loader::new()
        .env(|_| None)
        .load_str("a.yaml", "Name: a\n")
        .expect("loads");
    assert_eq!(absent.dev_server, None, "off unless written");
}

#[test]
fn a_bad_value_in_the_section_is_named_with_its_line() {
    for (yaml, says) in [
        ("Name: a\nDevServer:\n  Port: sixty\n", "Port"),
        ("Name: a\nDevServer:\n  EnablePprof: maybe\n", "EnablePprof"),
        ("Name: a\nDevServer:\n  Prot: 1\n", "Prot"),
    ] {
        let err = rzero_conf::Loader::new()
            .env(|_| None)
            .load_str::<ServiceConf>("a.yaml", yaml)
            .expect_err(yaml)
            .to_string();
        assert!(err.contains("a.yaml:3") && err.contains(says), "{err}");
    }
}
