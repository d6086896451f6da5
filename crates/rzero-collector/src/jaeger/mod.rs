//! Jaeger's HTTP query API on the UI port, so that Grafana's Jaeger data source, Jaeger's
//! own UI and scripts written for Jaeger read this collector as they read Jaeger:
//!
//! - `GET /api/services`, `GET /api/services/{service}/operations`,
//!   `GET /api/operations?service=&spanKind=` (names with their span kind)
//! - `GET /api/traces?service=&operation=&tags=&tag=&minDuration=&maxDuration=&start=&end=&limit=&traceID=`
//! - `GET /api/traces/{traceID}`
//! - `GET /api/dependencies?endTs=&lookback=`
//!
//! Every answer is Jaeger's envelope `{data, total, limit, offset, errors}`; an error is
//! `errors: [{code, msg}]` with the HTTP status in `code`. A trace matches a search as in
//! Jaeger: one of its spans meets every condition (service, operation, tags, duration,
//! start time) at once.
//!
//! rzero's own viewer reads its list and trace pages from here too, with two extensions
//! Jaeger's clients never send: a search without `service` looks through every service
//! (the viewer's front page; Jaeger answers 400), and `entry=true` lets only entry spans
//! (SERVER, CONSUMER or roots, what the RED charts count) meet the conditions.

mod model;
mod params;

pub(crate) use params::go_duration;

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde::Serialize;
use serde_json::{Value, json};

use crate::store::{Store, StoredSpan};

/// Jaeger's default of `limit`.
const DEFAULT_LIMIT: usize = 100;
/// Most traces one search returns, whatever `limit` says.
const MAX_LIMIT: usize = 1500;
/// Most spans one search answers with: a search stops adding traces there, as a smaller
/// `limit` would, so that the viewer's front page (every service's last 100 traces) or
/// a script's `limit=1500` cannot turn a store of large traces into a huge answer.
const MAX_ANSWER_SPANS: usize = 20_000;
/// Jaeger's default `lookback` of `/api/dependencies`: a day.
const DEFAULT_LOOKBACK_MS: i64 = 24 * 3600 * 1000;

pub(crate) fn router(store: Store) -> Router {
    Router::new()
        .route("/api/services", get(services))
        .route("/api/services/{service}/operations", get(operations))
        .route("/api/operations", get(operations_with_kind))
        .route("/api/traces", get(search))
        .route("/api/traces/{trace_id}", get(one))
        .route("/api/dependencies", get(dependencies))
        .with_state(store)
}

/// `{data, total, limit, offset, errors}` as Jaeger's `structuredResponse`.
fn envelope(data: impl Serialize, total: usize) -> Response {
    Json(json!({ "data": data, "total": total, "limit": 0, "offset": 0, "errors": null }))
        .into_response()
}

fn error(status: StatusCode, msg: String) -> Response {
    let body = json!({
        "data": null, "total": 0, "limit": 0, "offset": 0,
        "errors": [{ "code": status.as_u16(), "msg": msg }],
    });
    (status, Json(body)).into_response()
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

async fn services(State(store): State<Store>) -> Response {
    let s = store.services();
    let n = s.len();
    envelope(s, n)
}

async fn operations(State(store): State<Store>, Path(service): Path<String>) -> Response {
    let ops = store.operations(&service);
    let n = ops.len();
    envelope(ops, n)
}

/// `[{name, spanKind}]` of a service, optionally of one kind (`server`, `client`, ...).
async fn operations_with_kind(
    State(store): State<Store>,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let pairs = match query {
        Ok(Query(p)) => p,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.body_text()),
    };
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, v)| n == k && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    let Some(service) = get("service") else {
        return error(
            StatusCode::BAD_REQUEST,
            "parameter 'service' is required".to_owned(),
        );
    };
    let kind = get("spanKind").map(|k| k.to_ascii_lowercase());
    let mut ops = std::collections::BTreeSet::new();
    store.visit_traces(|spans, _| {
        for s in spans.iter().filter(|s| s.service == service) {
            let k = if s.kind == "Unspecified" {
                String::new()
            } else {
                s.kind.to_ascii_lowercase()
            };
            if kind.as_ref().is_none_or(|want| *want == k) {
                ops.insert((s.name.clone(), k));
            }
        }
        true
    });
    let data: Vec<Value> = ops
        .into_iter()
        .map(|(name, kind)| json!({ "name": name, "spanKind": kind }))
        .collect();
    let n = data.len();
    envelope(data, n)
}

/// A search, as parsed.
#[derive(Debug, Default)]
struct Search {
    service: Option<String>,
    operation: Option<String>,
    tags: BTreeMap<String, String>,
    min_duration: Option<u64>,
    max_duration: Option<u64>,
    start: Option<u64>,
    end: Option<u64>,
    limit: usize,
    trace_ids: Vec<String>,
    /// rzero's extension: only entry spans meet the conditions.
    entry: bool,
}

/// A trace id as Jaeger accepts it: 1 to 32 hex digits, left-padded to 32.
fn trace_id(s: &str) -> Result<String, String> {
    if s.is_empty() || s.len() > 32 || !s.chars().all(|c| c.is_ascii_hexdigit()) {
        let shown: String = s.chars().take(40).collect();
        return Err(format!(
            "cannot parse traceID `{shown}`: expected up to 32 hex digits"
        ));
    }
    Ok(format!("{:0>32}", s.to_ascii_lowercase()))
}

fn micros_to_nanos(name: &str, v: &str) -> Result<u64, String> {
    let us = params::int(name, v)?;
    u64::try_from(us)
        .map(|us| us.saturating_mul(1000))
        .map_err(|_| format!("unable to parse param '{name}': negative time {us}"))
}

fn parse_search(pairs: &[(String, String)]) -> Result<Search, String> {
    let mut s = Search {
        limit: DEFAULT_LIMIT,
        ..Search::default()
    };
    let (mut tag, mut tags) = (Vec::new(), Vec::new());
    for (k, v) in pairs {
        if v.is_empty() {
            continue;
        }
        match k.as_str() {
            "service" => s.service = Some(v.clone()),
            "operation" => s.operation = Some(v.clone()),
            "tag" => tag.push(v.clone()),
            "tags" => tags.push(v.clone()),
            "minDuration" => {
                let d = params::go_duration(v)
                    .map_err(|e| format!("unable to parse param 'minDuration': {e}"))?;
                s.min_duration = Some(d);
            }
            "maxDuration" => {
                let d = params::go_duration(v)
                    .map_err(|e| format!("unable to parse param 'maxDuration': {e}"))?;
                s.max_duration = Some(d);
            }
            "start" => s.start = Some(micros_to_nanos("start", v)?),
            "end" => s.end = Some(micros_to_nanos("end", v)?),
            "limit" => {
                let n = params::int("limit", v)?;
                s.limit = usize::try_from(n).unwrap_or(0).min(MAX_LIMIT);
                if n <= 0 {
                    s.limit = DEFAULT_LIMIT;
                }
            }
            "traceID" => s.trace_ids.push(trace_id(v)?),
            "entry" => {
                s.entry = v.parse().map_err(|_| {
                    format!("unable to parse param 'entry': `{v}` is not true or false")
                })?;
            }
            // The UI's own (lookback, prettyPrint, spanKind, ...) change nothing here.
            _ => {}
        }
    }
    s.tags = params::tags(&tag, &tags)?;
    if let (Some(min), Some(max)) = (s.min_duration, s.max_duration)
        && max < min
    {
        return Err("'maxDuration' should be greater than 'minDuration'".to_owned());
    }
    Ok(s)
}

/// Whether `span` carries `key` with the text `value`: among its tags (attributes and
/// the ones derived from kind and status), its resource's or its events' attributes.
fn has_tag(span: &StoredSpan, key: &str, value: &str) -> bool {
    let text = |v: &Value| model::tag_text(v) == value;
    span.attributes.get(key).is_some_and(text)
        || span.resource.get(key).is_some_and(text)
        || span
            .events
            .iter()
            .any(|e| e.attributes.get(key).is_some_and(text))
        || model::span_tags(span)
            .iter()
            .any(|t| t.key == key && model::tag_text(&t.value) == value)
}

impl Search {
    fn matches(&self, s: &StoredSpan) -> bool {
        let d = s.duration_nanos();
        (!self.entry || s.is_entry())
            && self.service.as_ref().is_none_or(|x| &s.service == x)
            && self.operation.as_ref().is_none_or(|x| &s.name == x)
            && self.min_duration.is_none_or(|m| d >= m)
            && self.max_duration.is_none_or(|m| d <= m)
            && self.start.is_none_or(|t| s.start_unix_nanos >= t)
            && self.end.is_none_or(|t| s.start_unix_nanos <= t)
            && self.tags.iter().all(|(k, v)| has_tag(s, k, v))
    }
}

async fn search(
    State(store): State<Store>,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let pairs = match query {
        Ok(Query(p)) => p,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.body_text()),
    };
    let search = match parse_search(&pairs) {
        Ok(s) => s,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let traces: Vec<model::JaegerTrace> = if search.trace_ids.is_empty() {
        store
            .find_traces(search.limit, MAX_ANSWER_SPANS, |s| search.matches(s))
            .iter()
            .map(model::trace)
            .collect()
    } else {
        // The same bounds as a search: `MAX_LIMIT` traces, `MAX_ANSWER_SPANS` spans.
        let mut budget = MAX_ANSWER_SPANS;
        let mut out = Vec::new();
        for t in search.trace_ids.iter().filter_map(|id| store.trace(id)) {
            if out.len() == MAX_LIMIT || (!out.is_empty() && t.spans.len() > budget) {
                break;
            }
            budget = budget.saturating_sub(t.spans.len());
            out.push(model::trace(&t));
        }
        out
    };
    envelope(traces, 0)
}

async fn one(State(store): State<Store>, Path(id): Path<String>) -> Response {
    let id = match trace_id(&id) {
        Ok(id) => id,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    match store.trace(&id) {
        Some(t) => envelope([model::trace(&t)], 0),
        None => error(StatusCode::NOT_FOUND, "trace not found".to_owned()),
    }
}

/// One edge of the service graph, as Jaeger's `DependencyLink`.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Dependency {
    pub(crate) parent: String,
    pub(crate) child: String,
    pub(crate) call_count: u64,
}

/// Calls from one service to another among the spans that started in `[from, to]`
/// nanoseconds: a span whose parent (in the same trace) belongs to another service.
pub(crate) fn dependency_links(store: &Store, from: u64, to: u64) -> Vec<Dependency> {
    let mut counts: BTreeMap<(String, String), u64> = BTreeMap::new();
    store.visit_traces(|spans, _| {
        let by_id: BTreeMap<&str, &StoredSpan> =
            spans.iter().map(|s| (s.span_id.as_str(), s)).collect();
        for s in spans {
            if s.start_unix_nanos < from || s.start_unix_nanos > to {
                continue;
            }
            let Some(parent) = s.parent_span_id.as_deref().and_then(|p| by_id.get(p)) else {
                continue;
            };
            if parent.service != s.service {
                *counts
                    .entry((parent.service.clone(), s.service.clone()))
                    .or_default() += 1;
            }
        }
        true
    });
    counts
        .into_iter()
        .map(|((parent, child), call_count)| Dependency {
            parent,
            child,
            call_count,
        })
        .collect()
}

async fn dependencies(
    State(store): State<Store>,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let pairs = match query {
        Ok(Query(p)) => p,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.body_text()),
    };
    let mut end_ms = i64::try_from(now_nanos() / 1_000_000).unwrap_or(i64::MAX);
    let mut lookback_ms = DEFAULT_LOOKBACK_MS;
    for (k, v) in &pairs {
        let parsed = match k.as_str() {
            "endTs" if !v.is_empty() => params::int("endTs", v).map(|n| end_ms = n),
            "lookback" if !v.is_empty() => params::int("lookback", v).map(|n| lookback_ms = n),
            _ => Ok(()),
        };
        if let Err(e) = parsed {
            return error(StatusCode::BAD_REQUEST, e);
        }
    }
    let to = u64::try_from(end_ms).unwrap_or(0).saturating_mul(1_000_000);
    let from = to.saturating_sub(
        u64::try_from(lookback_ms)
            .unwrap_or(0)
            .saturating_mul(1_000_000),
    );
    let links = dependency_links(&store, from, to);
    let n = links.len();
    envelope(links, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn searches_parse_as_jaeger_parses_them() {
        let s = parse_search(&pairs(&[
            ("service", "order-api"),
            ("operation", "POST /api/v1/orders"),
            ("tags", r#"{"http.response.status_code":"500"}"#),
            ("minDuration", "1.5ms"),
            ("maxDuration", "2s"),
            ("start", "1700000000000000"),
            ("end", "1700000001000000"),
            ("limit", "20"),
            ("lookback", "1h"),
        ]))
        .expect("parses");
        assert_eq!(s.min_duration, Some(1_500_000));
        assert_eq!(s.max_duration, Some(2_000_000_000));
        assert_eq!(s.start, Some(1_700_000_000_000_000_000));
        assert_eq!(s.limit, 20);
        assert_eq!(s.tags["http.response.status_code"], "500");

        let s = parse_search(&pairs(&[("operation", "x"), ("entry", "true")]))
            .expect("no service: every service's");
        assert!(s.service.is_none() && s.entry);
        let e = parse_search(&pairs(&[("entry", "yes")])).expect_err("entry");
        assert!(e.contains("'entry'"), "{e}");
        let e = parse_search(&pairs(&[
            ("service", "a"),
            ("minDuration", "2s"),
            ("maxDuration", "1s"),
        ]))
        .expect_err("max < min");
        assert!(e.contains("maxDuration"), "{e}");
        let e = parse_search(&pairs(&[("service", "a"), ("limit", "many")])).expect_err("limit");
        assert!(e.contains("'limit'"), "{e}");
        assert!(
            parse_search(&pairs(&[("traceID", "abc")])).is_ok(),
            "ids need no service"
        );
        assert!(parse_search(&pairs(&[("traceID", "xyz")])).is_err());
    }

    #[test]
    fn short_trace_ids_are_padded() {
        assert_eq!(trace_id("ABC"), Ok(format!("{}abc", "0".repeat(29))));
        assert!(trace_id(&"a".repeat(33)).is_err());
        assert!(trace_id("").is_err());
    }
}
