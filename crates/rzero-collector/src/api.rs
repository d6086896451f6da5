//! rzero's JSON API on the UI port: what the viewer and scripts read. Under `/rzero/api`,
//! since `/api` is Jaeger's query API (see `jaeger`).
//!
//! - `GET /rzero/api/traces?service=&operation=&errors=true&min_duration_ms=&max_duration_ms=&start_ms=&end_ms=&attr=key%3Dvalue&limit=`:
//!   newest first; time in `[start_ms, end_ms)`. With `operation`, the error, duration
//!   and time bounds are one span of that operation's (`&entry=true`: of its SERVER,
//!   CONSUMER or root spans, a RED bucket's calls), without, the whole trace's
//! - `GET /rzero/api/traces/{trace_id}`: spans, resources once, and logs
//! - `GET /rzero/api/traces/{trace_id}/logs`: the OTLP log records of the trace, which
//!   Jaeger's model has no place for (the viewer reads the trace itself from
//!   `/api/traces/{trace_id}`)
//! - `GET /rzero/api/services`, `GET /rzero/api/services/{service}/operations`
//! - `GET /rzero/api/stats`
//! - `GET /rzero/api/service-map?lookback_ms=`: nodes (services, databases, caches,
//!   external peers) and edges with calls, errors, error rate, p50/p99
//! - `GET /rzero/api/red?service=&operation=&bucket_ms=&lookback_ms=`: rate, errors and
//!   p50/p95/p99 per service and operation in time buckets, with example trace ids; from
//!   the services' OTLP duration histograms when they send them (`source: "metrics"`),
//!   from the stored spans otherwise (`source: "spans"`)
//! - `GET /metrics`: the collector's own counters in Prometheus text (store, forwarding,
//!   tail-sampling decisions by policy)

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use crate::forward::Forwarder;
use crate::store::{Store, TraceQuery};
use crate::tail::TailSampler;

/// Query string of the trace list; unknown or malformed parameters are a 400.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    service: Option<String>,
    operation: Option<String>,
    errors: Option<bool>,
    min_duration_ms: Option<f64>,
    max_duration_ms: Option<f64>,
    /// Start bounds, Unix milliseconds, `[start_ms, end_ms)`.
    start_ms: Option<u64>,
    end_ms: Option<u64>,
    /// `key=value`: a span or resource attribute.
    attr: Option<String>,
    /// With `operation`: only its entry spans (SERVER, CONSUMER, roots), as RED counts.
    entry: Option<bool>,
    limit: Option<usize>,
}

/// What the handlers read.
#[derive(Clone)]
struct Api {
    store: Store,
    forward: Option<Forwarder>,
    tail: Option<TailSampler>,
}

pub(crate) fn router(
    store: Store,
    forward: Option<Forwarder>,
    tail: Option<TailSampler>,
) -> Router {
    Router::new()
        .route("/rzero/api/traces", get(list))
        .route("/rzero/api/traces/{trace_id}", get(one))
        .route("/rzero/api/traces/{trace_id}/otlp", get(otlp))
        .route("/rzero/api/traces/{trace_id}/logs", get(logs))
        .route("/rzero/api/services", get(services))
        .route("/rzero/api/services/{service}/operations", get(operations))
        .route("/rzero/api/stats", get(stats))
        .route("/rzero/api/service-map", get(service_map))
        .route("/rzero/api/red", get(red))
        .route("/metrics", get(metrics))
        .with_state(Api {
            store,
            forward,
            tail,
        })
}

fn error(status: StatusCode, message: String) -> Response {
    (
        status,
        Json(json!({ "code": status.as_u16(), "msg": message })),
    )
        .into_response()
}

async fn list(
    State(Api { store, .. }): State<Api>,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(p) = match params {
        Ok(p) => p,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("bad query: {}", e.body_text()),
            );
        }
    };
    let ms = |m: Option<f64>| {
        m.filter(|m| m.is_finite() && *m >= 0.0)
            .map(|m| (m * 1e6) as u64)
    };
    let attribute = match p.attr.as_deref().filter(|a| !a.is_empty()) {
        None => None,
        Some(a) => match a.split_once('=') {
            Some((k, v)) => Some((k.to_owned(), v.to_owned())),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "attr: expected key=value, e.g. http.route=/api/v1/orders".to_owned(),
                );
            }
        },
    };
    let query = TraceQuery {
        service: p.service.filter(|s| !s.is_empty()),
        operation: p.operation.filter(|s| !s.is_empty()),
        errors_only: p.errors.unwrap_or(false),
        entry_only: p.entry.unwrap_or(false),
        min_duration_nanos: ms(p.min_duration_ms),
        max_duration_nanos: ms(p.max_duration_ms),
        start_after_nanos: p.start_ms.map(|t| t.saturating_mul(1_000_000)),
        start_before_nanos: p.end_ms.map(|t| t.saturating_mul(1_000_000)),
        attribute,
        limit: Some(p.limit.unwrap_or(100).min(1000)),
    };
    Json(json!({ "data": store.traces(&query) })).into_response()
}

/// A trace id of the path, or the 400 that says what one looks like.
fn full_trace_id(trace_id: &str) -> Result<String, String> {
    if trace_id.len() == 32 && trace_id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(trace_id.to_ascii_lowercase());
    }
    Err(format!(
        "`{}` is not a trace id: expected 32 hex digits",
        trace_id.chars().take(64).collect::<String>()
    ))
}

async fn one(State(Api { store, .. }): State<Api>, Path(trace_id): Path<String>) -> Response {
    let trace_id = match full_trace_id(&trace_id) {
        Ok(id) => id,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    match store.trace(&trace_id) {
        Some(trace) => {
            let logs = store.logs_for_trace(&trace_id);
            Json(json!({ "data": trace, "logs": logs })).into_response()
        }
        None => error(
            StatusCode::NOT_FOUND,
            format!("trace {trace_id} is not in the store (never received, or evicted)"),
        ),
    }
}

/// The trace's log records in arrival order; none is an empty list, not a 404, since logs
/// and spans arrive apart and either may be evicted first.
async fn logs(State(Api { store, .. }): State<Api>, Path(trace_id): Path<String>) -> Response {
    match full_trace_id(&trace_id) {
        Ok(id) => Json(json!({ "data": store.logs_for_trace(&id) })).into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, e),
    }
}

/// The trace as an OTLP/JSON export request, to download and send elsewhere.
async fn otlp(State(Api { store, .. }): State<Api>, Path(trace_id): Path<String>) -> Response {
    let trace = full_trace_id(&trace_id)
        .ok()
        .and_then(|id| store.trace(&id));
    let Some(trace) = trace else {
        return error(
            StatusCode::NOT_FOUND,
            "no such trace in the store (expected 32 hex digits of a stored trace)".to_owned(),
        );
    };
    let request = crate::store::to_otlp(&trace);
    let body = serde_json::to_vec_pretty(&request).unwrap_or_default();
    let disposition = format!("attachment; filename=\"trace-{}.json\"", trace.trace_id);
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/json".to_owned(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

async fn services(State(Api { store, .. }): State<Api>) -> Response {
    Json(json!({ "data": store.services() })).into_response()
}

async fn operations(State(Api { store, .. }): State<Api>, Path(service): Path<String>) -> Response {
    Json(json!({ "data": store.operations(&service) })).into_response()
}

async fn stats(State(api): State<Api>) -> Response {
    let forward = api.forward.as_ref().map(Forwarder::stats);
    Json(json!({
        "data": api.store.stats(),
        "metrics": api.store.metrics(),
        "forward": forward,
        "tail_sampling": api.tail.as_ref().map(TailSampler::stats),
    }))
    .into_response()
}

/// Query string of the service map and RED charts; unknown or malformed ones are a 400.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowParams {
    service: Option<String>,
    operation: Option<String>,
    /// How far back from now (default: everything stored).
    lookback_ms: Option<u64>,
    /// RED bucket width (default 60 s; made wider if there would be over 1,000 buckets).
    bucket_ms: Option<u64>,
}

fn window(p: &WindowParams) -> (u64, u64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    match p.lookback_ms {
        Some(ms) => (now.saturating_sub(ms.saturating_mul(1_000_000)), u64::MAX),
        None => (0, u64::MAX),
    }
}

async fn service_map(
    State(api): State<Api>,
    params: Result<Query<WindowParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(p) = match params {
        Ok(p) => p,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("bad query: {}", e.body_text()),
            );
        }
    };
    let (from, to) = window(&p);
    Json(json!({ "data": crate::analytics::service_map(&api.store, from, to) })).into_response()
}

async fn red(
    State(api): State<Api>,
    params: Result<Query<WindowParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(p) = match params {
        Ok(p) => p,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("bad query: {}", e.body_text()),
            );
        }
    };
    let (from, to) = window(&p);
    let mut bucket = p.bucket_ms.unwrap_or(60_000).max(1);
    if let Some(lookback) = p.lookback_ms {
        bucket = bucket.max(lookback.div_ceil(1000));
    }
    let series = crate::analytics::red(
        &api.store,
        p.service.as_deref().filter(|s| !s.is_empty()),
        p.operation.as_deref().filter(|s| !s.is_empty()),
        from,
        to,
        bucket,
    );
    Json(json!({ "data": series, "bucket_ms": bucket })).into_response()
}

/// Prometheus text exposition (version 0.0.4) of the collector's own counters.
async fn metrics(State(api): State<Api>) -> Response {
    use std::fmt::Write;
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, u64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, v) in samples {
            let _ = writeln!(out, "{name}{labels} {v}");
        }
    };
    let s = api.store.stats();
    let one = |v: usize| vec![(String::new(), v as u64)];
    metric(
        "rzero_collector_spans",
        "gauge",
        "Spans stored.",
        &one(s.spans),
    );
    metric(
        "rzero_collector_traces",
        "gauge",
        "Traces stored.",
        &one(s.traces),
    );
    metric(
        "rzero_collector_span_bytes",
        "gauge",
        "Estimated bytes of stored spans and resources.",
        &one(s.span_bytes),
    );
    metric(
        "rzero_collector_received_spans_total",
        "counter",
        "Spans received by the store.",
        &[(String::new(), s.received_spans)],
    );
    metric(
        "rzero_collector_rejected_spans_total",
        "counter",
        "Spans the store refused.",
        &[(String::new(), s.rejected_spans)],
    );
    if let Some(f) = api.forward.as_ref().map(Forwarder::stats) {
        metric(
            "rzero_collector_forward_requests_total",
            "counter",
            "Export requests to the upstream, by outcome.",
            &[
                ("{outcome=\"sent\"}".into(), f.sent),
                ("{outcome=\"dropped\"}".into(), f.dropped),
                ("{outcome=\"failed\"}".into(), f.failed),
            ],
        );
    }
    if let Some(t) = api.tail.as_ref().map(TailSampler::stats) {
        let mut samples: Vec<(String, u64)> = t
            .kept
            .iter()
            .map(|(p, n)| {
                (
                    format!(
                        "{{decision=\"kept\",policy=\"{}\"}}",
                        p.replace(['"', '\\', '\n'], "_")
                    ),
                    *n,
                )
            })
            .collect();
        samples.push(("{decision=\"dropped\",policy=\"none\"}".into(), t.dropped));
        metric(
            "rzero_collector_tail_traces_total",
            "counter",
            "Traces judged by tail sampling, by decision and the policy that kept them.",
            &samples,
        );
        metric(
            "rzero_collector_tail_late_spans_total",
            "counter",
            "Spans that arrived after their trace was judged, by what was done.",
            &[
                ("{decision=\"kept\"}".into(), t.late_kept),
                ("{decision=\"dropped\"}".into(), t.late_dropped),
            ],
        );
        metric(
            "rzero_collector_tail_forced_total",
            "counter",
            "Traces judged before their wait because the hold was full.",
            &[(String::new(), t.forced)],
        );
        metric(
            "rzero_collector_tail_pending_traces",
            "gauge",
            "Traces held for a decision.",
            &one(t.pending_traces),
        );
        metric(
            "rzero_collector_tail_pending_bytes",
            "gauge",
            "Estimated bytes held for decisions.",
            &one(t.pending_bytes),
        );
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        out,
    )
        .into_response()
}
