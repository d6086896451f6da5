//! The bounded in-memory store of recent traces, logs and metric names.
//!
//! Traces are kept in arrival order and evicted oldest first when either the span or the
//! trace limit is reached; logs and metric names have their own caps. One mutex guards it
//! all: ingest and queries are short, and a viewer does not need more.

mod convert;
mod model;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use tokio::sync::Notify;

pub use model::{
    Attributes, LogRecord, MetricInfo, SpanEvent, StoredSpan, Trace, TraceQuery, TraceSummary,
};

use crate::config::StoreLimits;

/// The store. Cheap to clone: clones share the same data.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Mutex<Inner>>,
    changed: Arc<Notify>,
    limits: StoreLimits,
}

#[derive(Debug, Default)]
struct Inner {
    traces: HashMap<String, Vec<StoredSpan>>,
    order: VecDeque<String>,
    spans: usize,
    bytes: usize,
    logs: VecDeque<LogRecord>,
    metrics: BTreeMap<String, MetricInfo>,
    rejected_spans: u64,
}

/// How much the store holds now.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct StoreStats {
    /// Spans stored.
    pub spans: usize,
    /// Traces stored.
    pub traces: usize,
    /// Estimated bytes held by the stored spans.
    pub span_bytes: usize,
    /// Log records stored.
    pub logs: usize,
    /// Spans refused since start (invalid ids, trace full).
    pub rejected_spans: u64,
}

// === impl Store ===

impl Store {
    /// An empty store with these limits.
    pub fn new(limits: StoreLimits) -> Self {
        Store {
            inner: Arc::default(),
            changed: Arc::new(Notify::new()),
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps inconsistent in a way that
        // matters for a viewer; keep serving.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Stores the spans of an export request; answers how many were rejected.
    pub fn ingest_traces(&self, request: &ExportTraceServiceRequest) -> i64 {
        let (spans, mut rejected) = convert::spans(&request.resource_spans, &self.limits);
        {
            let mut inner = self.lock();
            for span in spans {
                if !inner.insert(span, &self.limits) {
                    rejected += 1;
                }
            }
            inner.rejected_spans += u64::try_from(rejected).unwrap_or(0);
        }
        self.changed.notify_waiters();
        rejected
    }

    /// Stores the log records of an export request.
    pub fn ingest_logs(&self, request: &ExportLogsServiceRequest) {
        let records = convert::logs(&request.resource_logs, &self.limits);
        {
            let mut inner = self.lock();
            for r in records {
                if inner.logs.len() >= self.limits.max_logs {
                    inner.logs.pop_front();
                }
                inner.logs.push_back(r);
            }
        }
        self.changed.notify_waiters();
    }

    /// Records the names of the metrics of an export request (points are counted, not kept).
    pub fn ingest_metrics(&self, request: &ExportMetricsServiceRequest) {
        {
            let mut inner = self.lock();
            for rm in &request.resource_metrics {
                let (_, service) = convert_service(rm.resource.as_ref(), &self.limits);
                for sm in &rm.scope_metrics {
                    for m in &sm.metrics {
                        let (kind, points) = match &m.data {
                            Some(Data::Sum(s)) => ("sum", s.data_points.len()),
                            Some(Data::Gauge(g)) => ("gauge", g.data_points.len()),
                            Some(Data::Histogram(h)) => ("histogram", h.data_points.len()),
                            Some(Data::ExponentialHistogram(h)) => {
                                ("exponential_histogram", h.data_points.len())
                            }
                            Some(Data::Summary(s)) => ("summary", s.data_points.len()),
                            None => ("empty", 0),
                        };
                        let known = inner.metrics.contains_key(&m.name);
                        if !known && inner.metrics.len() >= self.limits.max_metrics {
                            continue;
                        }
                        let entry = inner
                            .metrics
                            .entry(m.name.chars().take(256).collect())
                            .or_insert_with(|| MetricInfo {
                                name: m.name.chars().take(256).collect(),
                                kind: kind.to_owned(),
                                unit: m.unit.chars().take(64).collect(),
                                services: Vec::new(),
                                points: 0,
                            });
                        entry.points += points as u64;
                        if !entry.services.contains(&service) && entry.services.len() < 64 {
                            entry.services.push(service.clone());
                        }
                    }
                }
            }
        }
        self.changed.notify_waiters();
    }

    /// One trace by its 32-hex-digit id (case-insensitive).
    pub fn trace(&self, trace_id: &str) -> Option<Trace> {
        let id = trace_id.to_ascii_lowercase();
        let inner = self.lock();
        let mut spans = inner.traces.get(&id)?.clone();
        drop(inner);
        order_spans(&mut spans);
        Some(Trace {
            trace_id: id,
            spans,
        })
    }

    /// The traces matching `query`, newest first.
    pub fn traces(&self, query: &TraceQuery) -> Vec<TraceSummary> {
        let inner = self.lock();
        let limit = query.limit.unwrap_or(100);
        let mut out = Vec::new();
        for id in inner.order.iter().rev() {
            if out.len() >= limit {
                break;
            }
            let Some(spans) = inner.traces.get(id) else {
                continue;
            };
            let summary = summarize(id, spans);
            let keep = query
                .service
                .as_ref()
                .is_none_or(|s| summary.services.contains(s))
                && query
                    .operation
                    .as_ref()
                    .is_none_or(|op| spans.iter().any(|s| &s.name == op))
                && (!query.errors_only || summary.error)
                && query
                    .min_duration_nanos
                    .is_none_or(|d| summary.duration_nanos >= d);
            if keep {
                out.push(summary);
            }
        }
        out
    }

    /// The services that sent spans, sorted.
    pub fn services(&self) -> Vec<String> {
        let inner = self.lock();
        let set: BTreeSet<&String> = inner
            .traces
            .values()
            .flatten()
            .map(|s| &s.service)
            .collect();
        set.into_iter().cloned().collect()
    }

    /// The span names of `service`, sorted.
    pub fn operations(&self, service: &str) -> Vec<String> {
        let inner = self.lock();
        let set: BTreeSet<&String> = inner
            .traces
            .values()
            .flatten()
            .filter(|s| s.service == service)
            .map(|s| &s.name)
            .collect();
        set.into_iter().cloned().collect()
    }

    /// Log records carrying `trace_id`, in arrival order.
    pub fn logs_for_trace(&self, trace_id: &str) -> Vec<LogRecord> {
        let id = trace_id.to_ascii_lowercase();
        self.lock()
            .logs
            .iter()
            .filter(|l| l.trace_id == id)
            .cloned()
            .collect()
    }

    /// Names of the metrics received, sorted.
    pub fn metric_names(&self) -> Vec<String> {
        self.lock().metrics.keys().cloned().collect()
    }

    /// What is known of each metric, by name.
    pub fn metrics(&self) -> Vec<MetricInfo> {
        self.lock().metrics.values().cloned().collect()
    }

    /// Spans stored now.
    pub fn span_count(&self) -> usize {
        self.lock().spans
    }

    /// Counts and sizes.
    pub fn stats(&self) -> StoreStats {
        let inner = self.lock();
        StoreStats {
            spans: inner.spans,
            traces: inner.traces.len(),
            span_bytes: inner.bytes,
            logs: inner.logs.len(),
            rejected_spans: inner.rejected_spans,
        }
    }

    /// Waits until at least `n` spans are stored or `timeout` passes; true if they are.
    pub async fn wait_for_spans(&self, n: usize, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.changed.notified();
            if self.span_count() >= n {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.span_count() >= n;
            }
        }
    }
}

fn convert_service(
    r: Option<&opentelemetry_proto::tonic::resource::v1::Resource>,
    limits: &StoreLimits,
) -> (Attributes, String) {
    let attrs = r
        .map(|r| convert::attributes(&r.attributes, limits))
        .unwrap_or_default();
    let service = match attrs.get("service.name") {
        Some(serde_json::Value::String(s)) => s.clone(),
        _ => "unknown_service".to_owned(),
    };
    (attrs, service)
}

impl Inner {
    /// Adds a span, evicting the oldest traces to stay within the limits. False when the
    /// span's trace is already full.
    fn insert(&mut self, span: StoredSpan, limits: &StoreLimits) -> bool {
        let id = span.trace_id.clone();
        if let Some(spans) = self.traces.get(&id)
            && spans.len() >= limits.max_spans_per_trace
        {
            return false;
        }
        while self.spans >= limits.max_spans.max(1)
            || (!self.traces.contains_key(&id) && self.traces.len() >= limits.max_traces.max(1))
        {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(evicted) = self.traces.remove(&oldest) {
                self.spans -= evicted.len();
                self.bytes -= evicted.iter().map(StoredSpan::approx_bytes).sum::<usize>();
            }
        }
        self.bytes += span.approx_bytes();
        self.spans += 1;
        let entry = self.traces.entry(id.clone()).or_default();
        if entry.is_empty() {
            self.order.push_back(id);
        }
        entry.push(span);
        true
    }
}

/// Depth-first from the roots, children by start time; orphans (parent not received)
/// follow as roots of their own.
fn order_spans(spans: &mut Vec<StoredSpan>) {
    spans.sort_by_key(|s| s.start_unix_nanos);
    let ids: BTreeSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
    let mut children: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for (i, s) in spans.iter().enumerate() {
        match s.parent_span_id.as_deref() {
            Some(p) if ids.contains(p) && p != s.span_id => children.entry(p).or_default().push(i),
            _ => roots.push(i),
        }
    }
    let mut order = Vec::with_capacity(spans.len());
    let mut seen = vec![false; spans.len()];
    let mut stack: Vec<usize> = roots.into_iter().rev().collect();
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        order.push(i);
        if let Some(kids) = children.get(spans[i].span_id.as_str()) {
            stack.extend(kids.iter().rev());
        }
    }
    // Cycles (a span its own ancestor) are not reachable from a root: append them.
    order.extend((0..spans.len()).filter(|i| !seen[*i]));
    let mut taken: Vec<Option<StoredSpan>> = spans.drain(..).map(Some).collect();
    spans.extend(order.into_iter().filter_map(|i| taken[i].take()));
}

fn summarize(id: &str, spans: &[StoredSpan]) -> TraceSummary {
    let start = spans.iter().map(|s| s.start_unix_nanos).min().unwrap_or(0);
    let end = spans
        .iter()
        .map(|s| s.end_unix_nanos)
        .max()
        .unwrap_or(start);
    let ids: BTreeSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
    let root = spans
        .iter()
        .filter(|s| s.parent_span_id.as_deref().is_none_or(|p| !ids.contains(p)))
        .min_by_key(|s| s.start_unix_nanos);
    let services: BTreeSet<&String> = spans.iter().map(|s| &s.service).collect();
    TraceSummary {
        trace_id: id.to_owned(),
        root_service: root.map(|s| s.service.clone()).unwrap_or_default(),
        root_operation: root.map(|s| s.name.clone()).unwrap_or_default(),
        start_unix_nanos: start,
        duration_nanos: end.saturating_sub(start),
        span_count: spans.len(),
        error: spans.iter().any(StoredSpan::is_error),
        services: services.into_iter().cloned().collect(),
    }
}
