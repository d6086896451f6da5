//! Ingest throughput over OTLP/gRPC from a loopback client, and memory per stored span.
//!
//! `cargo bench -p rzero-collector --bench ingest` starts a collector, has 4 client tasks
//! send batches of 512 spans (8 attributes each, like an HTTP server span) for 5 seconds,
//! and prints spans per second and bytes per stored span (the store's own accounting and
//! the process's resident memory growth); then the same with tail sampling on (keeping
//! everything, then with its default policies), side by side as ratios of the first
//! run. Client and server share the machine's cores.

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

/// One run of `RUN`: spans/s accepted, and the store's stats after it.
async fn run(tail: Option<TailConfig>) -> (f64, rzero_collector::StoreStats) {
    let limits = StoreLimits {
        max_spans: 2_000_000,
        max_traces: 1_000_000,
        max_span_bytes: 8 << 30,
        ..StoreLimits::default()
    };
    let any: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let collector = Collector::start(CollectorConfig {
        otlp_grpc: Some(any),
        otlp_http: None,
        ui: None,
        limits,
        max_body_bytes: 64 << 20,
        max_decoded_bytes: 256 << 20,
        tail_sampling: tail,
        ..CollectorConfig::default()
    })
    .await
    .expect("collector");
    let url = format!("http://{}", collector.grpc_addr().expect("grpc"));
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
    let secs = started.elapsed().as_secs_f64();
    let total = sent.load(Ordering::Relaxed);
    let stats = collector.store().stats();
    collector.shutdown().await;
    (total as f64 / secs, stats)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
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
        let rss_before = rss_bytes();
        let (off, stats) = run(None).await;
        let rss_growth = rss_bytes().saturating_sub(rss_before);
        println!("ingest over OTLP/gRPC, {CLIENTS} loopback clients, batches of {BATCH}:");
        println!("  tail sampling off: {off:.0} spans/s");
        println!("  stored {} spans in {} traces", stats.spans, stats.traces);
        println!("  (the client alone builds and encodes {client_only:.0} spans/s on one core)");
        println!(
            "  memory per stored span: {:.0} B by the store's accounting, {:.0} B of resident growth",
            stats.span_bytes as f64 / stats.spans.max(1) as f64,
            rss_growth as f64 / stats.spans.max(1) as f64
        );
        // Side by side in the same process: tail sampling keeping everything (the same
        // store work plus the hold), and with its default policies (10% of plain traces).
        let mut keep_all = TailConfig::default_policies();
        keep_all.decision_wait = Duration::from_secs(1);
        keep_all.policies[2].rule = rzero_collector::tail::Rule::Ratio(1.0);
        let (all, _) = run(Some(keep_all)).await;
        let mut default = TailConfig::default_policies();
        default.decision_wait = Duration::from_secs(1);
        let (def, _) = run(Some(default)).await;
        println!(
            "  tail sampling on, keeping all: {all:.0} spans/s ({:.0}% of off)",
            100.0 * all / off
        );
        println!(
            "  tail sampling on, default policies: {def:.0} spans/s ({:.0}% of off)",
            100.0 * def / off
        );
    });
}
