//! The bounded in-memory store of recent traces, logs and metrics.
//!
//! - `traces.rs`: spans grouped by trace, evicted oldest trace first when the span, trace
//!   or byte limit is reached; per-trace facts and a service/operation index for queries;
//! - `logs.rs`: recent log records, bounded by count and bytes, indexed by trace id;
//! - `metrics.rs`: metric names, the services sending them and their latest point;
//! - `durations.rs`: the request-duration histograms services send, as deltas per
//!   operation, for the RED charts;
//! - `convert.rs`: OTLP messages to the model (`model.rs`), cutting attribute counts and
//!   string lengths on the way in, so a span's size is bounded whatever is sent.
//!
//! One mutex guards it all: ingest and queries are short and a viewer does not need
//! more; conversion happens before the lock is taken.

mod convert;
pub(crate) mod durations;
mod logs;
mod metrics;
mod model;
mod otlp;
pub(crate) mod persist;
mod traces;

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use tokio::sync::Notify;

pub use model::{
    Attributes, LogRecord, MetricInfo, MetricPoint, SpanEvent, SpanLink, StoredSpan, Trace,
    TraceQuery, TraceSummary,
};
pub use otlp::to_otlp;

use crate::config::StoreLimits;

/// The store. Cheap to clone: clones share the same data.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Mutex<Inner>>,
    changed: Arc<Notify>,
    limits: StoreLimits,
    /// The database mirror, when `--data` is set.
    persist: Arc<OnceLock<persist::Persister>>,
}

#[derive(Debug, Default)]
struct Inner {
    traces: traces::TraceTable,
    logs: logs::LogTable,
    metrics: metrics::MetricTable,
    durations: durations::DurationTable,
    rejected_spans: u64,
    received_spans: u64,
}

/// How much the store holds now.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct StoreStats {
    /// Spans stored.
    pub spans: usize,
    /// Traces stored.
    pub traces: usize,
    /// Estimated bytes held by the stored spans and their resources.
    pub span_bytes: usize,
    /// Log records stored.
    pub logs: usize,
    /// Estimated bytes held by the stored log records.
    pub log_bytes: usize,
    /// Metric names known.
    pub metrics: usize,
    /// Estimated bytes held for metrics.
    pub metric_bytes: usize,
    /// Spans received since start, stored or not.
    pub received_spans: u64,
    /// Spans refused since start (invalid ids, trace full, too large).
    pub rejected_spans: u64,
    /// Database writes dropped (queue full or failed) with `--data`; 0 without.
    pub persist_dropped: u64,
}

// === impl Store ===

impl Store {
    /// An empty store with these limits.
    pub fn new(limits: StoreLimits) -> Self {
        Store {
            inner: Arc::default(),
            changed: Arc::new(Notify::new()),
            limits,
            persist: Arc::default(),
        }
    }

    /// Mirrors from now on what is stored and evicted into the database.
    pub(crate) fn persist_to(&self, p: persist::Persister) {
        let _ = self.persist.set(p);
    }

    /// Puts back spans read from the database, through the same limits; what they
    /// evict is deleted there too.
    pub(crate) fn restore(&self, spans: Vec<StoredSpan>) {
        let evicted = {
            let mut inner = self.lock();
            for s in spans {
                let _ = inner.traces.insert(s, &self.limits);
            }
            std::mem::take(&mut inner.traces.evicted)
        };
        if let Some(p) = self.persist.get()
            && !evicted.is_empty()
        {
            p.send(persist::Op::Delete(evicted));
        }
        self.changed.notify_waiters();
    }

    /// The limits the store keeps.
    pub fn limits(&self) -> &StoreLimits {
        &self.limits
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing under the lock panics on input; if something else did, the tables are
        // still consistent enough for a viewer: keep serving.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Stores the spans of an export request; answers how many were rejected (invalid
    /// trace or span id, trace over its span limit, span over the byte budget).
    pub fn ingest_traces(&self, request: &ExportTraceServiceRequest) -> i64 {
        let (spans, invalid) = convert::spans(&request.resource_spans, &self.limits);
        let mut rejected = invalid;
        let persist = self.persist.get();
        // Database writes in the order they happened: evictions caused by a span come
        // before the span itself.
        let mut ops = Vec::new();
        let mut rows = Vec::new();
        let mut resource_json: Option<(*const Attributes, String)> = None;
        {
            let mut inner = self.lock();
            let received = spans.len() as u64 + u64::try_from(invalid).unwrap_or(0);
            for span in spans {
                let row = persist.map(|_| {
                    let ptr = Arc::as_ptr(&span.resource);
                    if resource_json.as_ref().is_none_or(|(p, _)| *p != ptr) {
                        let json = serde_json::to_string(&*span.resource).unwrap_or_default();
                        resource_json = Some((ptr, json));
                    }
                    let res = resource_json
                        .as_ref()
                        .map(|(_, j)| j.clone())
                        .unwrap_or_default();
                    let json = serde_json::to_string(&span).unwrap_or_default();
                    (span.trace_id.clone(), json, res)
                });
                let stored = inner.traces.insert(span, &self.limits).is_ok();
                if !stored {
                    rejected += 1;
                }
                if persist.is_some() {
                    let evicted = std::mem::take(&mut inner.traces.evicted);
                    if !evicted.is_empty() {
                        if !rows.is_empty() {
                            ops.push(persist::Op::Spans(std::mem::take(&mut rows)));
                        }
                        ops.push(persist::Op::Delete(evicted));
                    }
                    if let (true, Some(row)) = (stored, row) {
                        rows.push(row);
                    }
                } else {
                    inner.traces.evicted.clear();
                }
            }
            inner.received_spans += received;
            inner.rejected_spans += u64::try_from(rejected).unwrap_or(0);
        }
        if let Some(p) = persist {
            if !rows.is_empty() {
                ops.push(persist::Op::Spans(rows));
            }
            for op in ops {
                p.send(op);
            }
        }
        self.changed.notify_waiters();
        rejected
    }

    /// Stores the log records of an export request; answers how many were rejected.
    pub fn ingest_logs(&self, request: &ExportLogsServiceRequest) -> i64 {
        let records = convert::logs(&request.resource_logs, &self.limits);
        let mut rejected = 0;
        {
            let mut inner = self.lock();
            for r in records {
                if !inner.logs.push(r, &self.limits) {
                    rejected += 1;
                }
            }
        }
        self.changed.notify_waiters();
        rejected
    }

    /// Records the metrics of an export request: names, senders, point counts, last point;
    /// and the points of request-duration histograms, for the RED charts.
    pub fn ingest_metrics(&self, request: &ExportMetricsServiceRequest) {
        {
            let mut inner = self.lock();
            let Inner {
                metrics, durations, ..
            } = &mut *inner;
            metrics.ingest(request, &self.limits, durations.bytes());
            durations.ingest(request, &self.limits, metrics.bytes());
        }
        self.changed.notify_waiters();
    }

    /// Calls `f` with each stream of request-duration deltas (under the lock: keep it short).
    pub(crate) fn visit_durations(&self, f: impl FnMut(&durations::Stream)) {
        self.lock().durations.visit(f);
    }

    /// One trace by its 32-hex-digit id (case-insensitive), spans in depth-first order.
    pub fn trace(&self, trace_id: &str) -> Option<Trace> {
        let id = trace_id.to_ascii_lowercase();
        let (spans, resources) = self.lock().traces.trace(&id)?;
        Some(Trace {
            trace_id: id,
            spans,
            resources,
        })
    }

    /// Calls `f` with each stored trace's spans (arrival order) and resources, newest
    /// first, until it answers false. The store is locked meanwhile: keep `f` short and
    /// copy out only what you need.
    pub fn visit_traces(&self, f: impl FnMut(&[StoredSpan], &[Arc<Attributes>]) -> bool) {
        self.lock().traces.visit(f);
    }

    /// The traces with a span for which `matches` holds, newest first, at most `limit`
    /// of them and at most `max_spans` spans in all (the first trace found always comes):
    /// the search stops at the first trace that would go over, so an answer's size is
    /// bounded by the budget, not by how large the store's traces are.
    pub fn find_traces(
        &self,
        limit: usize,
        max_spans: usize,
        matches: impl Fn(&StoredSpan) -> bool,
    ) -> Vec<Trace> {
        let mut out = Vec::new();
        if limit == 0 {
            return out;
        }
        let mut budget = max_spans;
        self.visit_traces(|spans, resources| {
            if spans.iter().any(&matches) {
                if !out.is_empty() && spans.len() > budget {
                    return false;
                }
                budget = budget.saturating_sub(spans.len());
                let mut spans = spans.to_vec();
                traces::order_spans(&mut spans);
                out.push(Trace {
                    trace_id: spans[0].trace_id.clone(),
                    spans,
                    resources: resources.to_vec(),
                });
            }
            out.len() < limit
        });
        out
    }

    /// The traces matching `query`, newest first.
    pub fn traces(&self, query: &TraceQuery) -> Vec<TraceSummary> {
        self.lock().traces.query(query)
    }

    /// The services that sent the stored spans, sorted.
    pub fn services(&self) -> Vec<String> {
        self.lock().traces.services()
    }

    /// The span names of `service` among the stored spans, sorted.
    pub fn operations(&self, service: &str) -> Vec<String> {
        self.lock().traces.operations(service)
    }

    /// Log records carrying `trace_id`, in arrival order.
    pub fn logs_for_trace(&self, trace_id: &str) -> Vec<LogRecord> {
        self.lock().logs.for_trace(&trace_id.to_ascii_lowercase())
    }

    /// Names of the metrics received, sorted.
    pub fn metric_names(&self) -> Vec<String> {
        self.lock().metrics.names()
    }

    /// What is known of each metric (senders, kind, last point), sorted by name.
    pub fn metrics(&self) -> Vec<MetricInfo> {
        self.lock().metrics.all()
    }

    /// Spans stored now.
    pub fn span_count(&self) -> usize {
        self.lock().traces.spans()
    }

    /// Counts and sizes.
    pub fn stats(&self) -> StoreStats {
        let inner = self.lock();
        StoreStats {
            spans: inner.traces.spans(),
            traces: inner.traces.traces(),
            span_bytes: inner.traces.bytes(),
            logs: inner.logs.len(),
            log_bytes: inner.logs.bytes(),
            metrics: inner.metrics.len(),
            metric_bytes: inner.metrics.bytes() + inner.durations.bytes(),
            received_spans: inner.received_spans,
            rejected_spans: inner.rejected_spans,
            persist_dropped: self.persist.get().map_or(0, persist::Persister::dropped),
        }
    }

    /// Waits until at least `n` spans are stored or `timeout` passes; true if they are.
    pub async fn wait_for_spans(&self, n: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |s| s.span_count() >= n).await
    }

    /// Waits until `trace_id` has at least `n` spans stored; true if it has.
    pub async fn wait_for_trace(&self, trace_id: &str, n: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |s| {
            s.trace(trace_id).is_some_and(|t| t.spans.len() >= n)
        })
        .await
    }

    /// Waits until at least `n` log records carry `trace_id`; true if they do.
    pub async fn wait_for_logs(&self, trace_id: &str, n: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |s| s.logs_for_trace(trace_id).len() >= n)
            .await
    }

    /// Waits until a metric called `name` has arrived; true if it has.
    pub async fn wait_for_metric(&self, name: &str, timeout: Duration) -> bool {
        self.wait_until(timeout, |s| s.metric_names().iter().any(|m| m == name))
            .await
    }

    /// Waits until `done(self)` holds, re-checking after every ingest; false at `timeout`.
    pub async fn wait_until(&self, timeout: Duration, done: impl Fn(&Store) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Register before checking, so an ingest between the two is not missed.
            let notified = self.changed.notified();
            if done(self) {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return done(self);
            }
        }
    }
}

#[cfg(test)]
mod tests;
