//! Ingest throughput over OTLP/gRPC from a loopback client, and memory per stored span.
//!
//! `cargo bench -p rzero-collector --bench ingest` starts a collector, has 4 client tasks
//! send batches of 512 spans (8 attributes each, like an HTTP server span) for 5 seconds,
//! and prints spans per second, the collector's CPU time per span (its runtime's threads
//! apart from the clients', read from `/proc/self/task`) and bytes per stored span (the
//! store's own accounting and the process's resident memory growth); the same with tail
//! sampling on (keeping everything, then with its default policies), in interleaved
//! rounds, as ratios of the run without it. Client and server share the machine's cores:
//! read the ratios, not the absolute figures.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use rzero_collector::{Collector, CollectorConfig, StoreLimits, TailConfig};

const BATCH: usize = 512;
const CLIENTS: usize = 4;
const RUN: Duration = Duration::from_secs(5);

fn kv(key: &str, v: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(v) }),
        ..Default::default()
    }
}

fn batch(seq: u64) -> ExportTraceServiceRequest {
    use any_value::Value::{IntValue, StringValue};
    let spans = (0..BATCH as u64)
        .map(|i| {
            let n = seq * BATCH as u64 + i;
            let mut trace_id = [0u8; 16];
            trace_id[..8].copy_from_slice(&(n / 4 + 1).to_be_bytes());
            Span {
                trace_id: trace_id.to_vec(),
                span_id: (n + 1).to_be_bytes().to_vec(),
                name: "GET /api/v1/orders/:order_id".into(),
                kind: 2,
                start_time_unix_nano: 1_764_000_000_000_000_000 + n * 1000,
                end_time_unix_nano: 1_764_000_000_000_000_000 + n * 1000 + 350_000,
                attributes: vec![
                    kv("http.request.method", StringValue("GET".into())),
                    kv("http.route", StringValue("/api/v1/orders/:order_id".into())),
                    kv("url.path", StringValue(format!("/api/v1/orders/{n}"))),
                    kv("url.scheme", StringValue("http".into())),
                    kv("http.response.status_code", IntValue(200)),
                    kv("server.address", StringValue("127.0.0.1".into())),
                    kv("server.port", IntValue(8888)),
                    kv("user_agent.original", StringValue("oha/1.4".into())),
                ],
                ..Default::default()
            }
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", StringValue("order-api".into()))],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmRSS:"))?.to_owned();
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kb| kb * 1024)
}

/// Name prefix of the collector's runtime threads, whose CPU time is the collector's.
const SERVER_THREADS: &str = "rzc-collector";
/// Rounds of the three modes, interleaved so that a neighbour's burst of load falls on
/// all of them alike; the medians are reported.
const ROUNDS: usize = 3;

/// CPU time of this process's collector threads so far, in clock ticks (USER_HZ, 100
/// per second on Linux whatever the kernel's own tick).
fn collector_cpu_ticks() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|t| {
            let comm = std::fs::read_to_string(t.path().join("comm")).ok()?;
            if !comm.starts_with(SERVER_THREADS) {
                return None;
            }
            let stat = std::fs::read_to_string(t.path().join("stat")).ok()?;
            // Fields after the command name: state is the 3rd, utime the 14th.
            let f: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .sum()
}

/// What one run measured.
struct Outcome {
    spans_per_s: f64,
    /// Collector CPU per span received, µs (tail sampling's deferred judging included).
    cpu_us_per_span: f64,
    stats: rzero_collector::StoreStats,
}

/// One run of `RUN`: the collector on its own runtime (threads `SERVER_THREADS`), the
/// clients on `clients`.
fn run(clients: &tokio::runtime::Runtime, tail: Option<TailConfig>) -> Outcome {
    let limits = StoreLimits {
        max_spans: 2_000_000,
        max_traces: 1_000_000,
        max_span_bytes: 8 << 30,
        ..StoreLimits::default()
    };
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(SERVER_THREADS)
        .enable_all()
        .build()
        .expect("collector runtime");
    let any: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let collector = server
        .block_on(Collector::start(CollectorConfig {
            otlp_grpc: Some(any),
            otlp_http: None,
            ui: None,
            limits,
            max_body_bytes: 64 << 20,
            max_decoded_bytes: 256 << 20,
            tail_sampling: tail,
            ..CollectorConfig::default()
        }))
        .expect("collector");
    let url = format!("http://{}", collector.grpc_addr().expect("grpc"));
    let cpu_before = collector_cpu_ticks();
    let (total, secs) = clients.block_on(async {
        let sent = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..CLIENTS as u64 {
            let (url, sent) = (url.clone(), sent.clone());
            tasks.push(tokio::spawn(async move {
                let mut client = TraceServiceClient::connect(url).await.expect("connect");
                let mut seq = c * 1_000_000;
                while started.elapsed() < RUN {
                    client.export(batch(seq)).await.expect("export");
                    sent.fetch_add(BATCH as u64, Ordering::Relaxed);
                    seq += 1;
                }
            }));
        }
        for t in tasks {
            t.await.expect("client");
        }
        (
            sent.load(Ordering::Relaxed),
            started.elapsed().as_secs_f64(),
        )
    });
    // Held traces are judged after their wait: that work is the run's too.
    let deadline = Instant::now() + Duration::from_secs(30);
    while collector.tail_stats().is_some_and(|t| t.pending_traces > 0) && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let cpu_ticks = collector_cpu_ticks().saturating_sub(cpu_before);
    let stats = collector.store().stats();
    server.block_on(collector.shutdown());
    server.shutdown_timeout(Duration::from_secs(5));
    Outcome {
        spans_per_s: total as f64 / secs,
        cpu_us_per_span: cpu_ticks as f64 * 10_000.0 / total.max(1) as f64,
        stats,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let clients = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-client")
        .enable_all()
        .build()
        .expect("runtime");
    // What the loopback client alone costs per span (building and encoding), to read
    // the end-to-end figure against: both share the machine's cores.
    let client_only = {
        use prost::Message;
        let started = Instant::now();
        let mut bytes = 0;
        for seq in 0..40 {
            bytes += batch(seq).encode_to_vec().len();
        }
        std::hint::black_box(bytes);
        (40 * BATCH) as f64 / started.elapsed().as_secs_f64()
    };
    // Side by side in the same process: without tail sampling, with it keeping
    // everything (the same store work plus the hold), and with its default policies (10%
    // of plain traces stored).
    let mut keep_all = TailConfig::default_policies();
    keep_all.decision_wait = Duration::from_secs(1);
    keep_all.policies[2].rule = rzero_collector::tail::Rule::Ratio(1.0);
    let mut default = TailConfig::default_policies();
    default.decision_wait = Duration::from_secs(1);
    let modes: [(&str, Option<TailConfig>); 3] = [
        ("tail sampling off", None),
        ("tail sampling on, keeping all", Some(keep_all)),
        ("tail sampling on, default policies", Some(default)),
    ];
    let mut rate = vec![Vec::new(); modes.len()];
    let mut cpu = vec![Vec::new(); modes.len()];
    let rss_before = rss_bytes();
    let mut first_off = None;
    for round in 0..ROUNDS {
        for (i, (_, tail)) in modes.iter().enumerate() {
            let o = run(&clients, tail.clone());
            rate[i].push(o.spans_per_s);
            cpu[i].push(o.cpu_us_per_span);
            if round == 0 && i == 0 {
                first_off = Some((o.stats, rss_bytes().saturating_sub(rss_before)));
            }
        }
    }
    println!(
        "ingest over OTLP/gRPC, {CLIENTS} loopback clients, batches of {BATCH}, {} s a run, median of {ROUNDS} interleaved rounds:",
        RUN.as_secs()
    );
    let (off_rate, off_cpu) = (median(rate[0].clone()), median(cpu[0].clone()));
    for (i, (name, _)) in modes.iter().enumerate() {
        let (r, c) = (median(rate[i].clone()), median(cpu[i].clone()));
        println!(
            "  {name:<36} {r:>9.0} spans/s ({:>3.0}% of off)  collector CPU {c:>5.2} µs/span ({:.2}x off)",
            100.0 * r / off_rate,
            c / off_cpu
        );
    }
    if let Some((stats, rss_growth)) = first_off {
        println!(
            "  (first run off: stored {} spans in {} traces)",
            stats.spans, stats.traces
        );
        println!(
            "  memory per stored span: {:.0} B by the store's accounting, {:.0} B of resident growth",
            stats.span_bytes as f64 / stats.spans.max(1) as f64,
            rss_growth as f64 / stats.spans.max(1) as f64
        );
    }
    println!("  (the client alone builds and encodes {client_only:.0} spans/s on one core)");
}
