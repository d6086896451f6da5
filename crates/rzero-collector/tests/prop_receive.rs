//! Property tests of the OTLP receivers' decode path (the fast pass beside the
//! `otlp_receive` cargo-fuzz target in `fuzz/`): any bytes, as any signal, encoding,
//! transport and compression, get one of the documented answers and leave the store
//! within its limits; a well-formed export of random spans, gzipped or not, over HTTP or
//! gRPC, is taken in whole.

use std::io::Write;

use axum::body::Body;
use http::Request;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use proptest::prelude::*;
use prost::Message;
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

fn receivers() -> (OtlpRouters, Store) {
    let config = CollectorConfig {
        limits: LIMITS,
        max_body_bytes: 256 << 10,
        max_decoded_bytes: 4 << 20,
        max_inflight_decoded_bytes: 8 << 20,
        ..CollectorConfig::default()
    };
    let store = Store::new(LIMITS);
    (Collector::otlp_routers(&config, store.clone()), store)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gzip into memory");
    e.finish().expect("gzip into memory")
}

/// `body` as an export of `signal` (0 traces, 1 metrics, 2 logs); `compression` 0 none,
/// 1 gzip made here, 2 the bytes as they are under a gzip header.
fn request(signal: u8, json: bool, grpc: bool, compression: u8, body: &[u8]) -> Request<Body> {
    let (path, service) = match signal % 3 {
        0 => ("traces", "trace.v1.TraceService"),
        1 => ("metrics", "metrics.v1.MetricsService"),
        _ => ("logs", "logs.v1.LogsService"),
    };
    let payload = if compression == 1 {
        gzip(body)
    } else {
        body.to_vec()
    };
    if grpc {
        let mut frame = vec![u8::from(compression != 0)];
        frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        frame.extend_from_slice(&payload);
        let mut b = Request::post(format!("/opentelemetry.proto.collector.{service}/Export"))
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
        let mut b = Request::post(format!("/v1/{path}")).header("content-type", ctype);
        if compression != 0 {
            b = b.header("content-encoding", "gzip");
        }
        b.body(Body::from(payload)).expect("request")
    }
}

/// The HTTP status and, for gRPC, the `grpc-status` (header or trailer).
fn send(routers: &OtlpRouters, grpc: bool, req: Request<Body>) -> (u16, Option<String>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let router = if grpc { &routers.grpc } else { &routers.http };
        let resp = router.clone().oneshot(req).await.expect("infallible");
        let status = resp.status().as_u16();
        let mut grpc_status = resp
            .headers()
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let trailers = http_body_util_collect(resp.into_body()).await;
        grpc_status = grpc_status.or(trailers);
        (status, grpc_status)
    })
}

/// Reads a body to its end; the `grpc-status` of its trailers, if any.
async fn http_body_util_collect(mut body: Body) -> Option<String> {
    use http_body::Body as _;
    let mut status = None;
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        let Ok(frame) = frame else { break };
        if let Some(t) = frame.trailers_ref() {
            status = t
                .get("grpc-status")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
        }
    }
    status
}

fn spans(names: &[(String, i64)]) -> ExportTraceServiceRequest {
    let spans = names
        .iter()
        .enumerate()
        .map(|(i, (name, v))| Span {
            trace_id: vec![7; 16],
            span_id: ((i as u64) + 1).to_be_bytes().to_vec(),
            name: name.clone(),
            start_time_unix_nano: 1_700_000_000_000_000_000,
            end_time_unix_nano: 1_700_000_000_100_000_000,
            attributes: vec![KeyValue {
                key: "n".into(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::IntValue(*v)),
                }),
                ..KeyValue::default()
            }],
            ..Span::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_bytes_get_a_documented_answer(
        signal in 0u8..3,
        json: bool,
        grpc: bool,
        compression in 0u8..3,
        body in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let (routers, store) = receivers();
        let (status, _) = send(&routers, grpc, request(signal, json, grpc, compression, &body));
        let allowed: &[u16] = if grpc { &[200] } else { &[200, 400, 413, 415, 503] };
        prop_assert!(allowed.contains(&status), "status {}", status);
        let stats = store.stats();
        prop_assert!(stats.spans <= LIMITS.max_spans);
        prop_assert!(stats.logs <= LIMITS.max_logs);
        prop_assert!(stats.metrics <= LIMITS.max_metrics);
    }

    #[test]
    fn a_well_formed_export_is_taken_in_whole(
        names in proptest::collection::vec(("[a-zA-Z /_.-]{1,40}", any::<i64>()), 1..40),
        grpc: bool,
        gzipped: bool,
    ) {
        let (routers, store) = receivers();
        let body = spans(&names).encode_to_vec();
        let (status, grpc_status) =
            send(&routers, grpc, request(0, false, grpc, u8::from(gzipped), &body));
        prop_assert_eq!(status, 200);
        if grpc {
            prop_assert_eq!(grpc_status.as_deref(), Some("0"));
        }
        prop_assert_eq!(store.stats().spans, names.len());
    }
}
