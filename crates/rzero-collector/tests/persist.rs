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
    let any: Option<SocketAddr> = "127.0.0.1:0".parse().ok();
    Collector::start(CollectorConfig {
        otlp_grpc: any,
        otlp_http: None,
        ui: None,
        data_dir: Some(dir.0.clone()),
        limits: StoreLimits {
            max_traces,
            ..StoreLimits::default()
        },
        ..CollectorConfig::default()
    })
    .await
    .expect("start")
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
