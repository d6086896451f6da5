//! Tail-aware sampling: each trace is held until it is complete (its decision wait has
//! passed since its first span), then judged as a whole by the [`policy`] list — every
//! error and slow trace kept, a share of the rest — and only the kept ones go on to the
//! store and the upstream. Works the same embedded and as a forwarding agent.
//!
//! Bounds: at most `max_traces` traces and `max_bytes` bytes are held; beyond, the
//! oldest trace is judged early (counted as `forced`), so a flood costs memory up to the
//! bound and no error trace is dropped unjudged. Decided trace ids are remembered
//! (`decision_cache` of them, oldest forgotten first) so a late span follows its trace's
//! decision, and is passed on once, by itself: nothing is forwarded twice.

pub mod policy;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use tokio::sync::watch;

pub use policy::{Policy, Rule, TailConfig, ratio_keeps};

use crate::receiver::Sink;

/// One held span with the resource and scope it came with (shared by its export).
#[derive(Debug)]
pub(crate) struct Held {
    pub(crate) resource: Option<Arc<Resource>>,
    pub(crate) scope: Option<Arc<InstrumentationScope>>,
    pub(crate) span: Span,
    /// What the span counts against the byte bound, computed once: an encoded length
    /// walks every attribute.
    bytes: usize,
}

impl Held {
    pub(crate) fn new(
        resource: Option<Arc<Resource>>,
        scope: Option<Arc<InstrumentationScope>>,
        span: Span,
    ) -> Self {
        let bytes = std::mem::size_of::<Self>() + span.encoded_len() * 2;
        Held {
            resource,
            scope,
            span,
            bytes,
        }
    }

    fn bytes(&self) -> usize {
        self.bytes
    }
}

/// A trace id as a map key without an allocation (OTLP's ids are 16 bytes; a malformed
/// one is cut or padded, and only ever meets other malformed ones).
type TraceKey = [u8; 16];

fn trace_key(id: &[u8]) -> TraceKey {
    let mut key = [0u8; 16];
    let n = id.len().min(16);
    key[..n].copy_from_slice(&id[..n]);
    key
}

#[derive(Debug)]
struct Pending {
    since: Instant,
    spans: Vec<Held>,
    bytes: usize,
}

/// What tail sampling did since start.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct TailStats {
    /// Traces kept, by the name of the policy that kept them.
    pub kept: BTreeMap<String, u64>,
    /// Traces no policy kept.
    pub dropped: u64,
    /// Traces judged before their decision wait because the hold was full.
    pub forced: u64,
    /// Spans that arrived after their trace was kept, passed on.
    pub late_kept: u64,
    /// Spans that arrived after their trace was dropped, dropped.
    pub late_dropped: u64,
    /// Traces held now.
    pub pending_traces: usize,
    /// Estimated bytes held now.
    pub pending_bytes: usize,
}

#[derive(Debug)]
struct State {
    judge: policy::Judge,
    pending: HashMap<TraceKey, Pending>,
    /// Trace ids in first-arrival order (ids already decided are skipped when met).
    order: VecDeque<TraceKey>,
    bytes: usize,
    decided: HashMap<TraceKey, bool>,
    decided_order: VecDeque<TraceKey>,
    stats: TailStats,
}

/// The sampler. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct TailSampler {
    state: Arc<Mutex<State>>,
    config: Arc<TailConfig>,
    /// Where kept traces go (store and upstream), not through the sampler again.
    out: Sink,
}

impl TailSampler {
    pub(crate) fn new(config: TailConfig, out: Sink) -> Self {
        let mut stats = TailStats::default();
        let judge = policy::Judge::new(config.policies.clone());
        for name in judge.names() {
            stats.kept.insert(name.to_owned(), 0);
        }
        TailSampler {
            state: Arc::new(Mutex::new(State {
                judge,
                pending: HashMap::new(),
                order: VecDeque::new(),
                bytes: 0,
                decided: HashMap::new(),
                decided_order: VecDeque::new(),
                stats,
            })),
            config: Arc::new(config),
            out,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn stats(&self) -> TailStats {
        let s = self.lock();
        let mut stats = s.stats.clone();
        stats.pending_traces = s.pending.len();
        stats.pending_bytes = s.bytes;
        stats
    }

    /// Holds the spans of `request`; passes on late spans of kept traces, and any
    /// trace judged early to stay within the bounds.
    pub(crate) fn offer(&self, request: ExportTraceServiceRequest) {
        let mut late = Vec::new();
        let mut kept = Vec::new();
        {
            let mut s = self.lock();
            for rs in request.resource_spans {
                let resource = rs.resource.map(Arc::new);
                for ss in rs.scope_spans {
                    let scope = ss.scope.map(Arc::new);
                    for span in ss.spans {
                        let held = Held::new(resource.clone(), scope.clone(), span);
                        s.hold(held, &mut late);
                    }
                }
            }
            while s.pending.len() > self.config.max_traces || s.bytes > self.config.max_bytes {
                if !s.decide_oldest(&self.config, &mut kept, true) {
                    break;
                }
            }
        }
        self.pass_on(late);
        // One request for every trace kept at once: a resource is copied once per
        // request, not once per trace.
        self.pass_on(kept.into_iter().flatten().collect());
    }

    /// Judges every trace whose wait is over (all of them when `all`).
    fn tick(&self, all: bool) {
        let mut kept = Vec::new();
        {
            let mut s = self.lock();
            loop {
                let due = s
                    .order
                    .front()
                    .and_then(|id| s.pending.get(id))
                    .map(|p| p.since);
                match due {
                    Some(since) if all || since.elapsed() >= self.config.decision_wait => {
                        s.decide_oldest(&self.config, &mut kept, false);
                    }
                    // Not pending any more (decided early): skip it.
                    None if !s.order.is_empty() => {
                        s.order.pop_front();
                    }
                    _ => break,
                }
            }
        }
        self.pass_on(kept.into_iter().flatten().collect());
    }

    fn pass_on(&self, spans: Vec<Held>) {
        if spans.is_empty() {
            return;
        }
        let size: usize = spans.iter().map(Held::bytes).sum();
        self.out.traces(rebuild(spans), size as u64);
    }

    /// Judges due traces until `stop`, then all that are held.
    pub(crate) async fn run(self, mut stop: watch::Receiver<bool>) {
        let every = (self.config.decision_wait / 4)
            .clamp(Duration::from_millis(10), Duration::from_millis(250));
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => self.tick(false),
                _ = stop.wait_for(|s| *s) => {
                    self.tick(true);
                    return;
                }
            }
        }
    }
}

impl State {
    fn hold(&mut self, held: Held, late: &mut Vec<Held>) {
        let id = trace_key(&held.span.trace_id);
        if let Some(&keep) = self.decided.get(&id) {
            if keep {
                self.stats.late_kept += 1;
                late.push(held);
            } else {
                self.stats.late_dropped += 1;
            }
            return;
        }
        let bytes = held.bytes();
        self.bytes += bytes;
        let entry = self.pending.entry(id).or_insert_with_key(|id| {
            self.order.push_back(*id);
            Pending {
                since: Instant::now(),
                spans: Vec::new(),
                bytes: 0,
            }
        });
        entry.bytes += bytes;
        entry.spans.push(held);
    }

    /// Judges the oldest held trace; false if none is held.
    fn decide_oldest(
        &mut self,
        config: &TailConfig,
        kept: &mut Vec<Vec<Held>>,
        forced: bool,
    ) -> bool {
        while let Some(id) = self.order.pop_front() {
            let Some(p) = self.pending.remove(&id) else {
                continue;
            };
            self.bytes -= p.bytes;
            let decision = self.judge.decide(&id, &p.spans);
            if forced {
                self.stats.forced += 1;
            }
            match decision {
                Some(i) => {
                    let name = self.judge.names().nth(i).unwrap_or("").to_owned();
                    *self.stats.kept.entry(name).or_default() += 1;
                    kept.push(p.spans);
                }
                None => self.stats.dropped += 1,
            }
            self.decided.insert(id, decision.is_some());
            self.decided_order.push_back(id);
            while self.decided_order.len() > config.decision_cache {
                if let Some(old) = self.decided_order.pop_front() {
                    self.decided.remove(&old);
                }
            }
            return true;
        }
        false
    }
}

/// Held spans back into one export request, grouped by the resource and scope they came
/// with.
fn rebuild(spans: Vec<Held>) -> ExportTraceServiceRequest {
    let mut out: Vec<ResourceSpans> = Vec::new();
    let mut keys: Vec<(usize, Vec<usize>)> = Vec::new();
    let ptr = |a: &Option<Arc<Resource>>| a.as_ref().map_or(0, |a| Arc::as_ptr(a) as usize);
    let sptr =
        |a: &Option<Arc<InstrumentationScope>>| a.as_ref().map_or(0, |a| Arc::as_ptr(a) as usize);
    for h in spans {
        let r = ptr(&h.resource);
        let ri = match keys.iter().position(|(k, _)| *k == r) {
            Some(i) => i,
            None => {
                keys.push((r, Vec::new()));
                out.push(ResourceSpans {
                    resource: h.resource.as_deref().cloned(),
                    ..Default::default()
                });
                keys.len() - 1
            }
        };
        let s = sptr(&h.scope);
        let si = match keys[ri].1.iter().position(|k| *k == s) {
            Some(i) => i,
            None => {
                keys[ri].1.push(s);
                out[ri].scope_spans.push(ScopeSpans {
                    scope: h.scope.as_deref().cloned(),
                    ..Default::default()
                });
                keys[ri].1.len() - 1
            }
        };
        out[ri].scope_spans[si].spans.push(h.span);
    }
    ExportTraceServiceRequest {
        resource_spans: out,
    }
}
