//! Tail sampling through the real OTLP/gRPC receiver: a generated mix of error, slow,
//! fast and incomplete traces, split across exports and followed by late spans. Every
//! error and slow trace is kept, the rest by a trace-id ratio (deterministic: the test
//! computes the same rule), late spans follow their trace's decision, a flood stays
//! within the hold's bound, and an agent forwards each kept span exactly once.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::trace::v1::{Span, Status};
use rzero_collector::tail::ratio_keeps;
use rzero_collector::{Collector, CollectorConfig, RunningCollector, TailConfig};

mod otlp;

use otlp::{MS, hex, now};

const POLICY: &str = "decision_wait: 1s\npolicies:\n  - { type: errors }\n  - { name: slow, type: latency, threshold: 100ms }\n  - { name: some, type: ratio, ratio: 0.25 }\n";

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Error,
    Slow,
    Fast,
    /// Children only: the root never arrives.
    Incomplete,
}

/// A fixed pseudo-random trace id (SplitMix64 of `i`), the same on every run.
fn trace_id(i: u64) -> Vec<u8> {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    let mut id = vec![0u8; 16];
    id[..8].copy_from_slice(&(i + 1).to_be_bytes());
    id[8..].copy_from_slice(&(z ^ (z >> 31)).to_be_bytes());
    id
}

/// Span `n` (1 = root) of trace `i`.
fn span(i: u64, n: u8, kind: Kind) -> Span {
    let base = now() - 10_000 * MS;
    let ms = match kind {
        Kind::Slow if n == 2 => 150,
        _ => 5,
    };
    Span {
        trace_id: trace_id(i),
        span_id: vec![n; 8],
        parent_span_id: if n == 1 { Vec::new() } else { vec![1; 8] },
        name: format!("op-{n}"),
        kind: 2,
        start_time_unix_nano: base,
        end_time_unix_nano: base + ms * MS,
        status: (kind == Kind::Error && n == 2).then(|| Status {
            code: 2,
            message: "boom".into(),
        }),
        ..Default::default()
    }
}

fn export(spans: Vec<Span>) -> ExportTraceServiceRequest {
    otlp::export("svc", spans)
}

fn kind_of(i: u64) -> Kind {
    match i % 10 {
        0 => Kind::Error,
        1 => Kind::Slow,
        2 => Kind::Incomplete,
        _ => Kind::Fast,
    }
}

async fn start(tail: Option<TailConfig>, forward: Option<String>) -> RunningCollector {
    let any: Option<SocketAddr> = "127.0.0.1:0".parse().ok();
    Collector::start(CollectorConfig {
        otlp_grpc: any,
        otlp_http: None,
        ui: any,
        tail_sampling: tail,
        forward,
        ..CollectorConfig::default()
    })
    .await
    .expect("start")
}

async fn client(c: &RunningCollector) -> TraceServiceClient<tonic::transport::Channel> {
    TraceServiceClient::connect(format!("http://{}", c.grpc_addr().expect("grpc")))
        .await
        .expect("connect")
}

/// Polls `done` until it holds (true) or 10 s pass (false).
async fn eventually(done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    done()
}

fn judged(c: &RunningCollector) -> u64 {
    let t = c.tail_stats().expect("tail on");
    t.kept.values().sum::<u64>() + t.dropped
}

/// Sends traces `0..n`, each in two exports (children first, the root later).
async fn send_mix(c: &RunningCollector, n: u64) {
    let mut grpc = client(c).await;
    let children: Vec<Span> = (0..n)
        .flat_map(|i| [span(i, 2, kind_of(i)), span(i, 3, kind_of(i))])
        .collect();
    for chunk in children.chunks(200) {
        grpc.export(export(chunk.to_vec())).await.expect("export");
    }
    let roots: Vec<Span> = (0..n)
        .filter(|i| kind_of(*i) != Kind::Incomplete)
        .map(|i| span(i, 1, kind_of(i)))
        .collect();
    grpc.export(export(roots)).await.expect("export");
}

#[tokio::test]
async fn errors_and_slow_traces_are_all_kept_and_the_rest_by_ratio() {
    let c = start(Some(TailConfig::from_yaml(POLICY).expect("policy")), None).await;
    let n = 1000;
    send_mix(&c, n).await;
    assert!(eventually(|| judged(&c) == n).await, "{:?}", c.tail_stats());

    let store = c.store();
    let mut expected_kept = 0;
    for i in 0..n {
        let id = hex(&trace_id(i));
        let stored = store.trace(&id);
        match kind_of(i) {
            Kind::Error | Kind::Slow => {
                let t = stored.unwrap_or_else(|| panic!("trace {i} kept"));
                assert_eq!(t.spans.len(), 3, "whole trace, root included");
            }
            Kind::Fast | Kind::Incomplete => {
                let keep = ratio_keeps(&trace_id(i), 0.25);
                assert_eq!(stored.is_some(), keep, "trace {i}: the ratio rule decides");
                expected_kept += u64::from(keep);
            }
        }
    }
    let stats = c.tail_stats().expect("stats");
    assert_eq!(stats.kept["errors"], 100);
    assert_eq!(stats.kept["slow"], 100);
    assert_eq!(stats.kept["some"], expected_kept);
    // 800 traces at 25%: within 4.5 standard deviations (~55) of 200, on fixed ids.
    assert!(
        (145..=255).contains(&expected_kept),
        "{expected_kept} of 800"
    );
    assert_eq!(stats.dropped, 800 - expected_kept);
    assert_eq!(stats.pending_traces, 0);

    // Late spans follow the decision: kept traces take them, dropped ones do not.
    let late_kept = (0..n).filter(|i| kind_of(*i) == Kind::Error).take(5);
    let late_dropped: Vec<u64> = (0..n)
        .filter(|i| kind_of(*i) == Kind::Fast && !ratio_keeps(&trace_id(*i), 0.25))
        .take(5)
        .collect();
    let late: Vec<Span> = late_kept
        .clone()
        .chain(late_dropped.iter().copied())
        .map(|i| span(i, 9, Kind::Fast))
        .collect();
    client(&c).await.export(export(late)).await.expect("late");
    for i in late_kept {
        assert!(
            store
                .trace(&hex(&trace_id(i)))
                .is_some_and(|t| t.spans.len() == 4)
        );
    }
    for i in late_dropped {
        assert!(store.trace(&hex(&trace_id(i))).is_none());
    }
    let stats = c.tail_stats().expect("stats");
    assert_eq!((stats.late_kept, stats.late_dropped), (5, 5));

    // The decisions are on the collector's /metrics.
    let ui = c.ui_addr().expect("ui");
    let body = reqwest_free_get(ui, "/metrics").await;
    assert!(
        body.contains("rzero_collector_tail_traces_total{decision=\"kept\",policy=\"errors\"} 100"),
        "{body}"
    );
    assert!(body.contains(&format!(
        "rzero_collector_tail_traces_total{{decision=\"dropped\",policy=\"none\"}} {}",
        800 - expected_kept
    )));
    assert!(body.contains("rzero_collector_tail_late_spans_total{decision=\"dropped\"} 5"));
}

#[tokio::test]
async fn a_flood_is_held_within_the_bound_and_errors_survive_it() {
    let mut config = TailConfig::from_yaml(POLICY).expect("policy");
    // A long wait: only the bound decides.
    config.decision_wait = Duration::from_secs(600);
    config.max_traces = 50;
    let c = start(Some(config), None).await;
    let mut grpc = client(&c).await;
    for batch in 0..20u64 {
        let spans: Vec<Span> = (batch * 100..(batch + 1) * 100)
            .flat_map(|i| [span(i, 1, kind_of(i)), span(i, 2, kind_of(i))])
            .collect();
        grpc.export(export(spans)).await.expect("export");
        let stats = c.tail_stats().expect("stats");
        assert!(stats.pending_traces <= 50, "{stats:?}");
    }
    let stats = c.tail_stats().expect("stats");
    assert_eq!(stats.forced, 2000 - 50);
    assert_eq!(
        stats.kept["errors"], 195,
        "every error judged so far is kept"
    );
}

#[tokio::test]
async fn an_agent_forwards_each_kept_span_once() {
    let upstream = start(None, None).await;
    let agent = start(
        Some(TailConfig::from_yaml(POLICY).expect("policy")),
        Some(format!("http://{}", upstream.grpc_addr().expect("grpc"))),
    )
    .await;
    send_mix(&agent, 200).await;
    assert!(eventually(|| judged(&agent) == 200).await);
    // Late spans of kept traces go on too, once; those of dropped traces do not.
    let dropped: Vec<u64> = (0..200)
        .filter(|i| kind_of(*i) == Kind::Fast && !ratio_keeps(&trace_id(*i), 0.25))
        .collect();
    assert!(!dropped.is_empty());
    let late: Vec<Span> = (0..200)
        .filter(|i| kind_of(*i) == Kind::Error)
        .chain(dropped.iter().copied())
        .map(|i| span(i, 9, Kind::Fast))
        .collect();
    client(&agent)
        .await
        .export(export(late))
        .await
        .expect("late");
    let kept = agent.store().span_count();
    assert!(
        eventually(|| upstream.store().span_count() >= kept).await,
        "{} of {kept}",
        upstream.store().span_count()
    );
    let up = upstream.store().stats();
    assert_eq!(up.received_spans as usize, kept, "nothing forwarded twice");
    let mut ids = BTreeSet::new();
    upstream.store().visit_traces(|spans, _| {
        for s in spans {
            assert!(
                ids.insert((s.trace_id.clone(), s.span_id.clone())),
                "duplicate {s:?}"
            );
        }
        true
    });
    assert_eq!(ids.len(), kept);
    let stats = agent.tail_stats().expect("stats");
    assert_eq!(stats.late_kept, 20, "{stats:?}");
    assert_eq!(stats.late_dropped, dropped.len() as u64, "{stats:?}");
    for i in &dropped {
        let id = hex(&trace_id(*i));
        assert!(agent.store().trace(&id).is_none(), "trace {i} dropped here");
        assert!(
            upstream.store().trace(&id).is_none(),
            "trace {i} (dropped) reached the upstream, late span or not"
        );
    }
    // Every error trace upstream is whole: its three spans and the late one.
    for i in (0..200).filter(|i| kind_of(*i) == Kind::Error) {
        let t = upstream.store().trace(&hex(&trace_id(i)));
        assert_eq!(t.map(|t| t.spans.len()), Some(4), "trace {i} upstream");
    }
}

/// The decided ids are a bounded memory: with room for 50, a late span of one of the
/// last 50 traces decided follows its decision, one of an older trace is held and judged
/// afresh as a trace of its own (what a bounded cache costs), never kept by a stale entry.
#[tokio::test]
async fn the_decision_cache_remembers_only_its_bound() {
    let mut config = TailConfig::from_yaml(POLICY).expect("policy");
    config.decision_wait = Duration::from_millis(100);
    config.decision_cache = 50;
    let c = start(Some(config), None).await;
    // Traces are judged in first-arrival order, 0 to 199: 150..199 are remembered.
    send_mix(&c, 200).await;
    assert!(
        eventually(|| judged(&c) == 200).await,
        "{:?}",
        c.tail_stats()
    );
    let errors: Vec<u64> = (0..200).filter(|i| kind_of(*i) == Kind::Error).collect();
    let late: Vec<Span> = errors.iter().map(|i| span(*i, 9, Kind::Fast)).collect();
    client(&c).await.export(export(late)).await.expect("late");
    let remembered = errors.iter().filter(|i| **i >= 150).count() as u64;
    let forgotten = errors.len() as u64 - remembered;
    assert!(
        eventually(|| judged(&c) == 200 + forgotten).await,
        "{:?}",
        c.tail_stats()
    );
    let stats = c.tail_stats().expect("stats");
    assert_eq!(stats.late_kept, remembered, "{stats:?}");
    assert_eq!(stats.late_dropped, 0, "{stats:?}");
    assert_eq!(stats.pending_traces, 0, "{stats:?}");
}

#[tokio::test]
async fn a_flood_of_large_spans_is_held_within_the_byte_bound() {
    let mut config = TailConfig::from_yaml(POLICY).expect("policy");
    config.decision_wait = Duration::from_secs(600);
    config.max_bytes = 256 << 10;
    let c = start(Some(config), None).await;
    let mut grpc = client(&c).await;
    for batch in 0..20u64 {
        // 50 traces of one 4 KiB span each: 200 KiB a request, 4 MiB in all.
        let spans: Vec<Span> = (batch * 50..(batch + 1) * 50)
            .map(|i| {
                // Span 2 is the one that fails or is slow in its kinds of trace.
                let mut s = span(i, 2, kind_of(i));
                s.attributes = vec![otlp::kv("payload", &"x".repeat(4096))];
                s
            })
            .collect();
        grpc.export(export(spans)).await.expect("export");
        let stats = c.tail_stats().expect("stats");
        assert!(stats.pending_bytes <= 256 << 10, "{stats:?}");
        assert!(stats.pending_traces > 0, "the bound holds traces, not none");
    }
    let stats = c.tail_stats().expect("stats");
    assert!(
        stats.forced > 900,
        "judged early to stay in bytes: {stats:?}"
    );
    assert_eq!(
        stats.kept["errors"] + stats.kept["slow"],
        (0..1000u64)
            .filter(|i| matches!(kind_of(*i), Kind::Error | Kind::Slow))
            .count() as u64
            - pending_of(&c, |k| matches!(k, Kind::Error | Kind::Slow)),
        "every error and slow trace judged so far is kept"
    );
}

/// How many of traces 0..1000 of the kinds `which` are still held (the newest ones).
fn pending_of(c: &RunningCollector, which: impl Fn(Kind) -> bool) -> u64 {
    let held = c.tail_stats().expect("stats").pending_traces as u64;
    (1000 - held..1000).filter(|i| which(kind_of(*i))).count() as u64
}

/// A one-span trace `i` named `name`, `ms` long, with span attributes `attrs`.
fn one_span(i: u64, name: &str, ms: u64, attrs: &[(&str, &str)]) -> Span {
    let base = now() - 10_000 * MS;
    Span {
        trace_id: trace_id(i),
        span_id: vec![1; 8],
        name: name.into(),
        kind: 2,
        start_time_unix_nano: base,
        end_time_unix_nano: base + ms * MS,
        attributes: attrs.iter().map(|(k, v)| otlp::kv(k, v)).collect(),
        ..Default::default()
    }
}

#[tokio::test]
async fn operation_thresholds_attribute_matches_and_a_rate_limit_decide() {
    let policy = "decision_wait: 300ms\npolicies:\n  \
                  - { name: slow-checkout, type: latency, threshold: 10s, operations: { checkout: 50ms } }\n  \
                  - { name: gold, type: attribute, key: user.tier, values: [gold] }\n  \
                  - { name: capped, type: rate_limit, traces_per_second: 5 }\n";
    let c = start(Some(TailConfig::from_yaml(policy).expect("policy")), None).await;
    let mut spans = Vec::new();
    // 0..10: slow checkouts; 10..20: fast checkouts of gold users; 20..30: slow
    // browsing (no threshold of its own, under the trace's 10 s) of silver users;
    // 30..70: fast browsing. The last 50 meet only the rate limit.
    spans.extend((0..10).map(|i| one_span(i, "checkout", 60, &[])));
    spans.extend((10..20).map(|i| one_span(i, "checkout", 20, &[("user.tier", "gold")])));
    spans.extend((20..30).map(|i| one_span(i, "browse", 60, &[("user.tier", "silver")])));
    spans.extend((30..70).map(|i| one_span(i, "browse", 5, &[])));
    client(&c)
        .await
        .export(export(spans))
        .await
        .expect("export");
    assert!(
        eventually(|| judged(&c) == 70).await,
        "{:?}",
        c.tail_stats()
    );
    let stats = c.tail_stats().expect("stats");
    assert_eq!(stats.kept["slow-checkout"], 10, "{stats:?}");
    assert_eq!(stats.kept["gold"], 10, "{stats:?}");
    // 5 a second: one window, or two if the judging crossed a second's edge.
    let capped = stats.kept["capped"];
    assert!((5..=10).contains(&capped), "{stats:?}");
    assert_eq!(stats.dropped, 50 - capped);
    let store = c.store();
    assert!((0..20).all(|i| store.trace(&hex(&trace_id(i))).is_some()));
    let rest = (20..70)
        .filter(|i| store.trace(&hex(&trace_id(*i))).is_some())
        .count() as u64;
    assert_eq!(rest, capped, "what the rate limit let through is stored");
}

async fn reqwest_free_get(addr: SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n").as_bytes())
        .await
        .expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("read");
    out
}
