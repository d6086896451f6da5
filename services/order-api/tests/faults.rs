//! The order system under load while a dependency fails, in one process on loopback (the
//! services as their libraries build them, real gRPC, HTTP, SQL, Redis, OTLP between
//! them). Each scenario is bounded (a few hundred requests) and prints its figures
//! (requests, failures, p50/p99, memory) for the record; what it asserts is what must
//! never happen: a failed request, a lost or doubled order, a stale cache.
//!
//! - the collector down (nothing listens) and black-holed (accepts, never answers);
//! - Redis down and back;
//! - order-api stopped (its shutdown signal, as SIGTERM delivers it) under load.
//!
//! `kill -9` and SIGTERM of the service processes are in `processes.rs`.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{Backend, ORDER, Proxy, Reach, call, start_reaching};

/// What a load run saw.
struct Run {
    sent: usize,
    failed: Vec<String>,
    latencies: Vec<Duration>,
}

impl Run {
    fn quantile(&self, q: f64) -> Duration {
        let mut l = self.latencies.clone();
        l.sort();
        l.get(((l.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or_default()
    }

    fn report(&self, what: &str) {
        eprintln!(
            "[faults] {what}: {} requests, {} failed, p50 {:?}, p99 {:?}, RSS {} KiB",
            self.sent,
            self.failed.len(),
            self.quantile(0.5),
            self.quantile(0.99),
            rss_kib()
        );
    }
}

/// `tasks` concurrent clients, each `per_task` requests alternating a create and a read
/// of what it created.
async fn load(api: SocketAddr, tasks: usize, per_task: usize) -> Run {
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            tokio::spawn(async move {
                let mut out = Vec::new();
                let mut last = None;
                for i in 0..per_task {
                    let t = Instant::now();
                    let a = match (i % 2, last) {
                        (1, Some(id)) => {
                            call(api, "GET", &format!("/api/v1/orders/{id}"), "").await
                        }
                        _ => call(api, "POST", "/api/v1/orders", ORDER).await,
                    };
                    if let Some(id) = a.body["order_id"].as_i64() {
                        last = Some(id);
                    }
                    out.push((t.elapsed(), a.status, a.body.to_string()));
                }
                out
            })
        })
        .collect();
    gather(handles).await
}

/// `tasks` concurrent clients, each reading order `id` `per_task` times.
async fn reads(api: SocketAddr, id: i64, tasks: usize, per_task: usize) -> Run {
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            tokio::spawn(async move {
                let mut out = Vec::new();
                for _ in 0..per_task {
                    let t = Instant::now();
                    let a = call(api, "GET", &format!("/api/v1/orders/{id}"), "").await;
                    out.push((t.elapsed(), a.status, a.body.to_string()));
                }
                out
            })
        })
        .collect();
    gather(handles).await
}

/// One `Run` from the clients' (latency, status, body) lists; a non-200 is a failure.
async fn gather(handles: Vec<tokio::task::JoinHandle<Vec<(Duration, u16, String)>>>) -> Run {
    let mut run = Run {
        sent: 0,
        failed: Vec::new(),
        latencies: Vec::new(),
    };
    for h in handles {
        for (took, status, body) in h.await.expect("client task") {
            run.sent += 1;
            run.latencies.push(took);
            if status != 200 {
                run.failed.push(format!("{status} {body}"));
            }
        }
    }
    run
}

/// This process's resident memory, from /proc.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// A port where nothing listens (bound, then released).
fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A collector that accepts connections and never answers: each export waits out its
/// timeout. Returns its address; the listener lives as long as the runtime.
async fn black_hole() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            held.push(conn);
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_collector_down_or_black_holed_fails_no_request() {
    let (tasks, per_task) = (8, 40);
    let up = start_reaching(Backend::Embedded, Reach::default()).await;
    let base = load(up.api, tasks, per_task).await;
    base.report("collector up");
    drop(up.stops);

    let down = start_reaching(
        Backend::Embedded,
        Reach {
            otlp: Some(format!("http://127.0.0.1:{}", dead_port())),
            ..Reach::default()
        },
    )
    .await;
    let refused = load(down.api, tasks, per_task).await;
    refused.report("collector down (connection refused)");
    drop(down.stops);

    let hole = black_hole().await;
    let held = start_reaching(
        Backend::Embedded,
        Reach {
            otlp: Some(format!("http://{hole}")),
            ..Reach::default()
        },
    )
    .await;
    let before = rss_kib();
    let silent = load(held.api, tasks, per_task).await;
    silent.report("collector black-holed (accepts, never answers)");
    let second = load(held.api, tasks, per_task).await;
    second.report("collector black-holed, second round");
    eprintln!(
        "[faults] RSS across the black-holed rounds: {before} KiB -> {} KiB",
        rss_kib()
    );
    drop(held.stops);

    for (what, run) in [
        ("up", &base),
        ("down", &refused),
        ("black-holed", &silent),
        ("black-holed again", &second),
    ] {
        assert!(
            run.failed.is_empty(),
            "collector {what}: {} of {} requests failed: {:?}",
            run.failed.len(),
            run.sent,
            &run.failed[..run.failed.len().min(3)]
        );
    }
}

/// Redis goes away: creates and reads are served from the database (the cache is only a
/// shortcut); when it is back, reads are served from it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_down_degrades_to_the_database_and_recovers() {
    let redis = Proxy::start("127.0.0.1:6379").await;
    let sys = start_reaching(
        Backend::Distributed("rzero_fault_redis"),
        Reach {
            redis: redis.addr.to_string(),
            ..Reach::default()
        },
    )
    .await;
    let first = call(sys.api, "POST", "/api/v1/orders", ORDER).await;
    assert_eq!(first.status, 200, "{}", first.body);

    let id = first.body["order_id"].as_i64().expect("id");
    let up = reads(sys.api, id, 4, 25).await;
    up.report("cached GETs, Redis up");

    redis.cut();
    let run = load(sys.api, 4, 20).await;
    run.report("Redis down");
    // The Redis client's breaker is open by now: reads go straight to the database.
    let down = reads(sys.api, id, 4, 25).await;
    down.report("cached GETs, Redis down");
    eprintln!(
        "[faults] cached GET p50/p99: Redis up {:?}/{:?}, down {:?}/{:?}",
        up.quantile(0.5),
        up.quantile(0.99),
        down.quantile(0.5),
        down.quantile(0.99)
    );
    assert!(
        up.failed.is_empty() && down.failed.is_empty(),
        "reads failed: up {:?}, down {:?}",
        &up.failed[..up.failed.len().min(3)],
        &down.failed[..down.failed.len().min(3)]
    );
    assert!(
        run.failed.is_empty(),
        "with Redis down {} of {} failed: {:?}",
        run.failed.len(),
        run.sent,
        &run.failed[..run.failed.len().min(3)]
    );

    redis.restore();
    let path = format!("/api/v1/orders/{id}");
    // The first read after the return refills the cache; a later one is a hit: no SELECT.
    let store = sys.collector.store();
    let mut hit = false;
    for _ in 0..40 {
        let a = call(sys.api, "GET", &path, "").await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert!(
            store
                .wait_for_trace(&a.trace_id, 3, Duration::from_secs(20))
                .await
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        let trace = store.trace(&a.trace_id).expect("trace");
        let redis_get = trace.spans.iter().any(|s| s.name.starts_with("GET"));
        let select = trace.spans.iter().any(|s| s.name.starts_with("SELECT"));
        if redis_get && !select {
            hit = true;
            break;
        }
    }
    assert!(hit, "after Redis is back, reads are cache hits again");
    drop(sys.stops);
}

/// order-api is told to stop (what SIGTERM does) while clients keep sending: every request
/// that started before the signal is answered 200, in-flight ones included; the server
/// keeps accepting through its wrap-up, then drains, and its telemetry is flushed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stopping_order_api_under_load_loses_no_request() {
    let mut sys = start_reaching(
        Backend::Embedded,
        Reach {
            api_shutdown: "Shutdown:\n  WrapUpTime: 300\n  WaitTime: 5000\n".into(),
            ..Reach::default()
        },
    )
    .await;
    let api = sys.api;
    let signal_at = Instant::now() + Duration::from_millis(400);
    let clients: Vec<_> = (0..8)
        .map(|_| {
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while Instant::now() < signal_at + Duration::from_secs(2) {
                    let started = Instant::now();
                    let Ok(mut s) = tokio::net::TcpStream::connect(api).await else {
                        break; // the listener is closed: the server has stopped accepting
                    };
                    let a = exchange(&mut s, api).await;
                    seen.push((started, a));
                }
                seen
            })
        })
        .collect();
    tokio::time::sleep_until(signal_at.into()).await;
    let api_stop = sys.stops.pop().expect("order-api's stop is the last");
    let _ = api_stop.send(());
    let mut before = (0, 0);
    let mut after_ok = 0;
    let mut last_trace = String::new();
    for c in clients {
        for (started, answer) in c.await.expect("client") {
            if started < signal_at {
                before.0 += 1;
                match &answer {
                    Some((200, trace)) => {
                        last_trace = trace.clone();
                    }
                    _ => before.1 += 1,
                }
            } else if matches!(answer, Some((200, _))) {
                after_ok += 1;
            }
        }
    }
    tokio::time::timeout(Duration::from_secs(15), &mut sys.api_task)
        .await
        .expect("order-api drains and returns within its WaitTime")
        .expect("serve task");
    eprintln!(
        "[faults] stop under load: {} requests started before the signal, {} failed; {after_ok} \
         more answered 200 during the wrap-up",
        before.0, before.1
    );
    assert!(before.0 > 0, "the load ran before the signal");
    assert_eq!(before.1, 0, "requests started before the signal failed");
    // Flushed on the way out: the last request's server span reached the collector.
    let store = sys.collector.store();
    let flushed = store
        .wait_until(Duration::from_secs(10), |st| {
            st.trace(&last_trace).is_some_and(|t| {
                t.spans
                    .iter()
                    .any(|s| s.service == "order-api" && s.name.starts_with("POST"))
            })
        })
        .await;
    assert!(flushed, "order-api's spans were flushed when it stopped");
    drop(sys.stops);
}

/// One create on `s`: the status and trace id, or `None` if the connection broke.
async fn exchange(s: &mut tokio::net::TcpStream, addr: SocketAddr) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let req = format!(
        "POST /api/v1/orders HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{ORDER}",
        ORDER.len()
    );
    s.write_all(req.as_bytes()).await.ok()?;
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_string(&mut out))
        .await
        .ok()?
        .ok()?;
    let (head, _) = out.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let trace = head
        .lines()
        .find_map(|l| l.strip_prefix("x-trace-id: "))
        .unwrap_or("")
        .to_owned();
    Some((status, trace))
}
