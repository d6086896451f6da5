//! The collector's OTLP receivers over the input as one export request: the first byte
//! picks the signal (traces, metrics, logs), the encoding (protobuf or JSON), the
//! transport (OTLP/HTTP or OTLP/gRPC framing) and the compression (none, gzip made of the
//! rest, or the rest sent raw as if it were gzip); the rest is the body. The limits are
//! small so that decode bombs meet them. Whatever the bytes, the answer is one of the
//! statuses the receiver documents, the store stays within its limits, never a panic.
#![no_main]

use std::io::Write;
use std::sync::OnceLock;

use axum::body::Body;
use http::Request;
use libfuzzer_sys::fuzz_target;
use rzero_collector::{Collector, CollectorConfig, OtlpRouters, Store, StoreLimits};
use tower::ServiceExt;

const LIMITS: StoreLimits = StoreLimits {
    max_spans: 2_000,
    max_traces: 500,
    max_spans_per_trace: 500,
    max_span_bytes: 4 << 20,
    max_logs: 2_000,
    max_log_bytes: 4 << 20,
    max_metrics: 200,
    max_metric_bytes: 2 << 20,
    max_attributes: 32,
    max_events: 32,
    max_value_bytes: 512,
};

fn receivers() -> &'static (OtlpRouters, Store) {
    static R: OnceLock<(OtlpRouters, Store)> = OnceLock::new();
    R.get_or_init(|| {
        let config = CollectorConfig {
            limits: LIMITS,
            max_body_bytes: 256 << 10,
            max_decoded_bytes: 4 << 20,
            max_inflight_decoded_bytes: 8 << 20,
            ..CollectorConfig::default()
        };
        let store = Store::new(LIMITS);
        (Collector::otlp_routers(&config, store.clone()), store)
    })
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    })
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gzip into memory");
    e.finish().expect("gzip into memory")
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (signal, service) = match mode % 3 {
        0 => ("traces", "trace.v1.TraceService"),
        1 => ("metrics", "metrics.v1.MetricsService"),
        _ => ("logs", "logs.v1.LogsService"),
    };
    let json = mode & 0x04 != 0;
    let grpc = mode & 0x08 != 0;
    // 0: identity, 1: real gzip of the rest, 2: the rest as if it were gzip.
    let compression = (mode >> 4) % 3;
    let payload = match compression {
        1 => gzip(rest),
        _ => rest.to_vec(),
    };
    let (routers, store) = receivers();
    let request = if grpc {
        let mut frame = Vec::with_capacity(payload.len() + 5);
        frame.push(u8::from(compression != 0));
        frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        frame.extend_from_slice(&payload);
        let mut b = Request::post(format!(
            "/opentelemetry.proto.collector.{service}/Export"
        ))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
        if compression != 0 {
            b = b.header("grpc-encoding", "gzip");
        }
        b.body(Body::from(frame)).expect("request")
    } else {
        let ctype = if json {
            "application/json"
        } else {
            "application/x-protobuf"
        };
        let mut b = Request::post(format!("/v1/{signal}")).header("content-type", ctype);
        if compression != 0 {
            b = b.header("content-encoding", "gzip");
        }
        b.body(Body::from(payload)).expect("request")
    };
    let router = if grpc { &routers.grpc } else { &routers.http };
    let status = runtime().block_on(async {
        let resp = router.clone().oneshot(request).await.expect("infallible");
        let status = resp.status().as_u16();
        // Drive the body (gRPC answers in it and its trailers).
        let _ = axum::body::to_bytes(resp.into_body(), 1 << 20).await;
        status
    });
    let allowed: &[u16] = if grpc {
        &[200]
    } else {
        &[200, 400, 413, 415, 503]
    };
    assert!(allowed.contains(&status), "status {status}");
    let stats = store.stats();
    assert!(stats.spans <= LIMITS.max_spans, "{stats:?}");
    assert!(stats.logs <= LIMITS.max_logs, "{stats:?}");
    assert!(stats.span_bytes <= LIMITS.max_span_bytes, "{stats:?}");
    assert!(stats.metrics <= LIMITS.max_metrics, "{stats:?}");
});
