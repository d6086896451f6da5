//! The trace table: spans grouped by trace, in arrival order, with what the list and its
//! filters need kept up to date on insert (start, end, error, services, bytes) and a
//! service -> operation -> span count index, so that a query never walks every span.
//!
//! Eviction is FIFO by a trace's first arrival: the trace that started arriving first
//! goes first, whichever limit (spans, traces, bytes) is reached.

use std::collections::{BTreeSet, HashMap, VecDeque};

use std::sync::Arc;

use super::model::{Attributes, StoredSpan, TraceQuery, TraceSummary, resource_bytes};
use crate::config::StoreLimits;

/// One trace and its cached facts.
#[derive(Debug, Default)]
struct Entry {
    spans: Vec<StoredSpan>,
    start: u64,
    end: u64,
    errors: usize,
    bytes: usize,
    /// Services taking part, in first-seen order (a handful per trace).
    services: Vec<String>,
    /// The distinct resources of the spans (a handful per trace), each counted once in
    /// `bytes`.
    resources: Vec<Arc<Attributes>>,
}

#[derive(Debug, Default)]
pub(crate) struct TraceTable {
    traces: HashMap<String, Entry>,
    order: VecDeque<String>,
    spans: usize,
    bytes: usize,
    /// Spans stored per service and operation; entries go when their count reaches 0.
    index: HashMap<String, HashMap<String, usize>>,
    /// Trace ids evicted since the store last took them (for the database mirror).
    pub(crate) evicted: Vec<String>,
}

/// Bytes a trace costs beyond its spans: its entry in the id map and the arrival queue
/// (two copies of the 32-digit id), its cached facts.
const TRACE_OVERHEAD: usize = 2 * (24 + 32) + std::mem::size_of::<Entry>() + 32;

/// Why a span was not stored.
#[derive(Debug, PartialEq)]
pub(crate) enum Refused {
    /// The trace already has `max_spans_per_trace` spans.
    TraceFull,
    /// The span alone is larger than the whole byte budget.
    TooLarge,
}

// === impl TraceTable ===

impl TraceTable {
    pub(crate) fn spans(&self) -> usize {
        self.spans
    }

    pub(crate) fn traces(&self) -> usize {
        self.traces.len()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Adds a span, evicting the oldest traces to stay within the limits.
    pub(crate) fn insert(
        &mut self,
        mut span: StoredSpan,
        limits: &StoreLimits,
    ) -> Result<(), Refused> {
        let known = self.traces.get(&span.trace_id);
        // A resource new to this trace is counted with the span that brings it.
        let shared = known.and_then(|e| {
            e.resources
                .iter()
                .position(|r| Arc::ptr_eq(r, &span.resource) || **r == *span.resource)
        });
        let size = span.approx_bytes()
            + if shared.is_some() {
                0
            } else {
                resource_bytes(&span.resource)
            };
        if size > limits.max_span_bytes {
            return Err(Refused::TooLarge);
        }
        if known.is_some_and(|e| e.spans.len() >= limits.max_spans_per_trace.max(1)) {
            return Err(Refused::TraceFull);
        }
        let is_new = known.is_none();
        let size = size + if is_new { TRACE_OVERHEAD } else { 0 };
        while !self.order.is_empty()
            && (self.spans >= limits.max_spans.max(1)
                || self.bytes + size > limits.max_span_bytes
                || (is_new && self.traces.len() >= limits.max_traces.max(1)))
        {
            self.evict_oldest();
        }
        // The trace may just have been evicted to make room for its own span: then it
        // costs its overhead again.
        let size = if !is_new && !self.traces.contains_key(&span.trace_id) {
            size + TRACE_OVERHEAD
        } else {
            size
        };
        let id = span.trace_id.clone();
        let entry = match self.traces.get_mut(&id) {
            Some(entry) => entry,
            None => {
                self.order.push_back(id.clone());
                self.traces.entry(id).or_insert_with(|| Entry {
                    start: u64::MAX,
                    ..Entry::default()
                })
            }
        };
        entry.start = entry.start.min(span.start_unix_nanos);
        entry.end = entry.end.max(span.end_unix_nanos);
        entry.errors += usize::from(span.is_error());
        entry.bytes += size;
        // `shared` may be stale if the trace was evicted above: look again.
        match entry
            .resources
            .iter()
            .position(|r| Arc::ptr_eq(r, &span.resource) || **r == *span.resource)
        {
            Some(i) => {
                span.resource = entry.resources[i].clone();
                span.resource_index = i;
            }
            None => {
                span.resource_index = entry.resources.len();
                entry.resources.push(span.resource.clone());
                if shared.is_some() {
                    // Its trace was evicted to make room: the resource is new after all.
                    let extra = resource_bytes(&span.resource);
                    entry.bytes += extra;
                    self.bytes += extra;
                }
            }
        }
        if !entry.services.contains(&span.service) {
            entry.services.push(span.service.clone());
        }
        *self
            .index
            .entry(span.service.clone())
            .or_default()
            .entry(span.name.clone())
            .or_default() += 1;
        entry.spans.push(span);
        self.spans += 1;
        self.bytes += size;
        Ok(())
    }

    fn evict_oldest(&mut self) {
        let Some(oldest) = self.order.pop_front() else {
            return;
        };
        let Some(evicted) = self.traces.remove(&oldest) else {
            return;
        };
        self.evicted.push(oldest);
        self.spans -= evicted.spans.len();
        self.bytes -= evicted.bytes;
        for span in &evicted.spans {
            let Some(ops) = self.index.get_mut(&span.service) else {
                continue;
            };
            if let Some(n) = ops.get_mut(&span.name) {
                *n -= 1;
                if *n == 0 {
                    ops.remove(&span.name);
                }
            }
            if ops.is_empty() {
                self.index.remove(&span.service);
            }
        }
    }

    /// The spans of one trace, parents before children, and its resources.
    pub(crate) fn trace(&self, id: &str) -> Option<(Vec<StoredSpan>, Vec<Arc<Attributes>>)> {
        let entry = self.traces.get(id)?;
        let mut spans = entry.spans.clone();
        order_spans(&mut spans);
        Some((spans, entry.resources.clone()))
    }

    /// Calls `f` with each trace's spans (arrival order) and resources, newest trace
    /// first, until it answers false.
    pub(crate) fn visit(&self, mut f: impl FnMut(&[StoredSpan], &[Arc<Attributes>]) -> bool) {
        for id in self.order.iter().rev() {
            if let Some(e) = self.traces.get(id)
                && !f(&e.spans, &e.resources)
            {
                return;
            }
        }
    }

    /// Newest first; the index answers "nothing" without walking the traces.
    pub(crate) fn query(&self, query: &TraceQuery) -> Vec<TraceSummary> {
        let limit = query.limit.unwrap_or(100);
        let known = match (&query.service, &query.operation) {
            (Some(s), Some(op)) => self.index.get(s).is_some_and(|ops| ops.contains_key(op)),
            (Some(s), None) => self.index.contains_key(s),
            (None, Some(op)) => self.index.values().any(|ops| ops.contains_key(op)),
            (None, None) => true,
        };
        if !known || limit == 0 {
            return Vec::new();
        }
        let mut out = Vec::new();
        for id in self.order.iter().rev() {
            let Some(e) = self.traces.get(id) else {
                continue;
            };
            let text = |v: &serde_json::Value, want: &str| match v {
                serde_json::Value::String(s) => s == want,
                // Numbers and booleans compare by their text (`200`, `true`).
                other => {
                    let text = other.to_string();
                    text == want
                }
            };
            let bounded = |start: u64, length: u64, error: bool| {
                (!query.errors_only || error)
                    && query.min_duration_nanos.is_none_or(|d| length >= d)
                    && query.max_duration_nanos.is_none_or(|d| length <= d)
                    && query.start_after_nanos.is_none_or(|t| start >= t)
                    && query.start_before_nanos.is_none_or(|t| start < t)
            };
            let keep = query.attribute.as_ref().is_none_or(|(k, v)| {
                e.spans.iter().any(|s| {
                    s.attributes.get(k).is_some_and(|x| text(x, v))
                        || s.resource.get(k).is_some_and(|x| text(x, v))
                })
            }) && query
                .service
                .as_ref()
                .is_none_or(|s| e.services.contains(s))
                && match &query.operation {
                    // One span of the operation meets the bounds, as Jaeger searches.
                    Some(op) => e.spans.iter().any(|s| {
                        &s.name == op
                            && query.service.as_ref().is_none_or(|sv| &s.service == sv)
                            && (!query.entry_only || s.is_entry())
                            && bounded(s.start_unix_nanos, s.duration_nanos(), s.is_error())
                    }),
                    None => bounded(e.start, e.end.saturating_sub(e.start), e.errors > 0),
                };
            if keep {
                out.push(summarize(id, e));
                if out.len() >= limit {
                    break;
                }
            }
        }
        out
    }

    /// Services that sent the stored spans, sorted.
    pub(crate) fn services(&self) -> Vec<String> {
        let set: BTreeSet<&String> = self.index.keys().collect();
        set.into_iter().cloned().collect()
    }

    /// Span names of `service`, sorted.
    pub(crate) fn operations(&self, service: &str) -> Vec<String> {
        let set: BTreeSet<&String> = self
            .index
            .get(service)
            .map(|ops| ops.keys().collect())
            .unwrap_or_default();
        set.into_iter().cloned().collect()
    }
}

fn summarize(id: &str, e: &Entry) -> TraceSummary {
    let ids: BTreeSet<&str> = e.spans.iter().map(|s| s.span_id.as_str()).collect();
    // The root: a span without a stored parent, the earliest if several (a trace whose
    // root has not arrived yet shows its earliest orphan).
    let root = e
        .spans
        .iter()
        .filter(|s| s.parent_span_id.as_deref().is_none_or(|p| !ids.contains(p)))
        .min_by_key(|s| (s.parent_span_id.is_some(), s.start_unix_nanos));
    let start = if e.spans.is_empty() { 0 } else { e.start };
    TraceSummary {
        trace_id: id.to_owned(),
        root_service: root.map(|s| s.service.clone()).unwrap_or_default(),
        root_operation: root.map(|s| s.name.clone()).unwrap_or_default(),
        start_unix_nanos: start,
        duration_nanos: e.end.saturating_sub(start),
        span_count: e.spans.len(),
        error: e.errors > 0,
        services: e.services.clone(),
    }
}

/// Depth-first from the roots, children by start time; orphans (parent not received)
/// follow as roots of their own, and spans in a parent cycle come last.
pub(crate) fn order_spans(spans: &mut Vec<StoredSpan>) {
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
    order.extend((0..spans.len()).filter(|i| !seen[*i]));
    let mut taken: Vec<Option<StoredSpan>> = spans.drain(..).map(Some).collect();
    spans.extend(order.into_iter().filter_map(|i| taken[i].take()));
}
