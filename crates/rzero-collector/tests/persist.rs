//! `--data DIR`: traces survive a restart, within the same limits, through the real
//! receiver and a real SQLite file.

use std::net::SocketAddr;
use std::path::PathBuf;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::trace::v1::Span;
use rzero_collector::{Collector, CollectorConfig, CollectorError, RunningCollector, StoreLimits};

mod otlp;

/// A fresh directory under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("rzero-collector-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn start(dir: &TempDir, max_traces: usize) -> RunningCollector {
    start_bounded(dir, max_traces, CollectorConfig::default().data_max_bytes).await
}

async fn start_bounded(
    dir: &TempDir,
    max_traces: usize,
    data_max_bytes: usize,
) -> RunningCollector {
    let any: Option<SocketAddr> = "127.0.0.1:0".parse().ok();
    Collector::start(CollectorConfig {
        otlp_grpc: any,
        otlp_http: None,
        ui: None,
        data_dir: Some(dir.0.clone()),
        data_max_bytes,
        limits: StoreLimits {
            max_traces,
            ..StoreLimits::default()
        },
        ..CollectorConfig::default()
    })
    .await
    .expect("start")
}

/// Bytes of the database's files (the WAL included, if one is left).
fn disk_bytes(dir: &TempDir) -> u64 {
    ["traces.db", "traces.db-wal", "traces.db-shm"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.0.join(f)).ok())
        .map(|m| m.len())
        .sum()
}

fn export(trace: u8, spans: u8) -> ExportTraceServiceRequest {
    let spans = (1..=spans)
        .map(|i| Span {
            trace_id: vec![trace; 16],
            span_id: vec![i; 8],
            parent_span_id: if i == 1 { Vec::new() } else { vec![1; 8] },
            name: format!("op-{i}"),
            start_time_unix_nano: 1_000 + u64::from(i),
            end_time_unix_nano: 2_000 + u64::from(i),
            ..Default::default()
        })
        .collect();
    otlp::export("kept-svc", spans)
}

async fn send(c: &RunningCollector, traces: &[u8]) {
    let mut grpc = TraceServiceClient::connect(format!("http://{}", c.grpc_addr().expect("grpc")))
        .await
        .expect("connect");
    for t in traces {
        grpc.export(export(*t, 3)).await.expect("export");
    }
}

fn id(t: u8) -> String {
    format!("{t:02x}").repeat(16)
}

#[tokio::test]
async fn traces_survive_a_restart() {
    let dir = TempDir::new("restart");
    let c = start(&dir, 100).await;
    send(&c, &[1, 2, 3]).await;
    c.shutdown().await;

    let c = start(&dir, 100).await;
    let store = c.store();
    for t in [1, 2, 3] {
        let trace = store
            .trace(&id(t))
            .unwrap_or_else(|| panic!("trace {t} kept"));
        assert_eq!(trace.spans.len(), 3);
        assert_eq!(trace.spans[0].name, "op-1", "parents first");
        assert_eq!(trace.spans[0].service, "kept-svc");
        assert_eq!(trace.resources.len(), 1);
        assert_eq!(trace.resources[0]["service.name"], "kept-svc");
    }
    // New spans join the restored ones, and survive the next restart too.
    send(&c, &[4]).await;
    c.shutdown().await;
    let c = start(&dir, 100).await;
    assert_eq!(c.store().stats().traces, 4);
    c.shutdown().await;
}

#[tokio::test]
async fn the_database_keeps_the_stores_bounds() {
    let dir = TempDir::new("bounds");
    let c = start(&dir, 2).await;
    send(&c, &[1, 2, 3, 4, 5]).await;
    c.shutdown().await;
    let c = start(&dir, 2).await;
    let kept: Vec<bool> = (1..=5).map(|t| c.store().trace(&id(t)).is_some()).collect();
    assert_eq!(kept, [false, false, false, true, true], "the newest two");
    c.shutdown().await;
    // A smaller bound at start drops the oldest, in the database as well.
    let c = start(&dir, 1).await;
    assert_eq!(c.store().stats().traces, 1);
    c.shutdown().await;
    let c = start(&dir, 100).await;
    assert_eq!(
        c.store().stats().traces,
        1,
        "evicted at load, deleted for good"
    );
    assert!(c.store().trace(&id(5)).is_some());
    c.shutdown().await;
}

#[tokio::test]
async fn an_unusable_data_dir_fails_the_start_with_its_path() {
    let dir = TempDir::new("file");
    std::fs::write(&dir.0, b"not a directory").expect("file");
    let err = Collector::start(CollectorConfig {
        otlp_grpc: None,
        otlp_http: None,
        ui: None,
        data_dir: Some(dir.0.clone()),
        ..CollectorConfig::default()
    })
    .await
    .expect_err("refused");
    assert!(matches!(err, CollectorError::Data(_)), "{err}");
    assert!(
        err.to_string().contains(&dir.0.display().to_string()),
        "{err}"
    );
    let _ = std::fs::remove_file(&dir.0);
}

/// Trace `t` (its id's first two bytes are `t + 1`: an all-zero id is invalid) with three
/// spans of 2 KiB each.
fn big_export(t: u16) -> ExportTraceServiceRequest {
    let mut id = [0u8; 16];
    id[..2].copy_from_slice(&(t + 1).to_be_bytes());
    let spans = (1..=3u8)
        .map(|i| Span {
            trace_id: id.to_vec(),
            span_id: vec![i; 8],
            parent_span_id: if i == 1 { Vec::new() } else { vec![1; 8] },
            name: format!("op-{i}"),
            start_time_unix_nano: 1_000 + u64::from(t),
            end_time_unix_nano: 2_000 + u64::from(t),
            attributes: vec![otlp::kv("payload", &"x".repeat(2048))],
            ..Default::default()
        })
        .collect();
    otlp::export("big-svc", spans)
}

fn big_id(t: u16) -> String {
    let mut id = [0u8; 16];
    id[..2].copy_from_slice(&(t + 1).to_be_bytes());
    otlp::hex(&id)
}

#[tokio::test]
async fn the_database_stays_within_its_own_byte_bound() {
    let dir = TempDir::new("disk");
    // Memory keeps all 400 traces (~2.4 MiB of payload); the disk may hold 512 KiB.
    let bound = 512 << 10;
    let c = start_bounded(&dir, 10_000, bound).await;
    let mut grpc = TraceServiceClient::connect(format!("http://{}", c.grpc_addr().expect("grpc")))
        .await
        .expect("connect");
    for t in 0..400 {
        grpc.export(big_export(t)).await.expect("export");
    }
    assert_eq!(
        c.store().stats().traces,
        400,
        "memory has its own, larger limits"
    );
    c.shutdown().await;
    let on_disk = disk_bytes(&dir);
    // The JSON bound, and SQLite's pages, index and slack around it.
    assert!(
        on_disk <= 2 * bound as u64,
        "{on_disk} bytes on disk, bound {bound}"
    );

    let c = start_bounded(&dir, 10_000, bound).await;
    let store = c.store();
    let kept = store.stats().traces;
    // About 6.5 KiB of JSON a trace: some 70 fit in 512 KiB.
    assert!((40..=90).contains(&kept), "{kept} traces kept");
    let newest: Vec<bool> = (400 - kept as u16..400)
        .map(|t| {
            store
                .trace(&big_id(t))
                .is_some_and(|tr| tr.spans.len() == 3)
        })
        .collect();
    assert!(newest.iter().all(|k| *k), "the newest, whole: {newest:?}");
    assert!(store.trace(&big_id(0)).is_none(), "the oldest deleted");
    // A smaller bound at start trims what is there.
    c.shutdown().await;
    let c = start_bounded(&dir, 10_000, 64 << 10).await;
    c.shutdown().await;
    let c = start_bounded(&dir, 10_000, bound).await;
    let left = c.store().stats().traces;
    assert!((5..=12).contains(&left), "{left} traces within 64 KiB");
    assert!(c.store().trace(&big_id(399)).is_some(), "the newest stays");
    c.shutdown().await;
}
