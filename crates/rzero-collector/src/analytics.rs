//! What is computed from the stored spans for the service map and the RED charts.
//!
//! - Service map: an edge per caller -> callee. Between services: a span whose parent
//!   (in the same trace) is another service's; its duration and status are the call's.
//!   To databases and caches: a CLIENT span with `db.system.name` (or the older
//!   `db.system`), the node named by the system and `server.address`; redis and memcached
//!   are caches. To other peers: a CLIENT span with `server.address` and no span of the
//!   callee in the trace (an uninstrumented service). A CLIENT span's `peer.service`
//!   names its callee before all of these: the name the caller knows it by, which is
//!   the callee's own service name when it is instrumented but its spans are not here
//!   (sampled out, evicted), so those calls join its node instead of an address.
//! - RED: per service and operation, the entry spans (SERVER or CONSUMER, or a root) in
//!   fixed time buckets: rate, errors, p50/p95/p99, and example trace ids per bucket
//!   (the slowest, and an error if there was one), so a chart point links to traces.
//!
//!   When services send request-duration histograms over OTLP (`store/durations.rs`), an
//!   operation's series comes from them instead (`source: "metrics"`): they count every
//!   call, where the stored spans are what sampling kept. Its examples are the exemplars'
//!   traces and the span examples of the same bucket.
//!
//! Percentiles from spans are nearest-rank over the exact durations: the store is
//! bounded, so sorting what one query sees is cheap and needs no sketch. From metrics
//! they are interpolated inside the histogram's buckets, as Prometheus does.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use crate::store::durations::{merge, quantile};
use crate::store::{Store, StoredSpan};

/// A node of the service map.
#[derive(Debug, Serialize, PartialEq, Eq, PartialOrd, Ord, Clone)]
pub(crate) struct Node {
    pub(crate) id: String,
    /// `service`, `database`, `cache` or `external`.
    pub(crate) kind: &'static str,
}

/// An edge of the service map.
#[derive(Debug, Serialize)]
pub(crate) struct Edge {
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) calls: u64,
    pub(crate) errors: u64,
    pub(crate) error_rate: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
}

#[derive(Debug, Serialize)]
pub(crate) struct ServiceMap {
    pub(crate) nodes: Vec<Node>,
    pub(crate) edges: Vec<Edge>,
}

/// The nearest-rank `q` percentile of sorted `d`, in milliseconds.
fn percentile_ms(d: &[u64], q: f64) -> f64 {
    if d.is_empty() {
        return 0.0;
    }
    let rank = ((q * d.len() as f64).ceil() as usize).clamp(1, d.len());
    d[rank - 1] as f64 / 1e6
}

fn attr<'a>(s: &'a StoredSpan, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|k| s.attributes.get(*k))
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
}

fn in_window(s: &StoredSpan, from: u64, to: u64) -> bool {
    s.start_unix_nanos >= from && s.start_unix_nanos <= to
}

/// The service map of the spans that started in `[from, to]` (Unix nanoseconds).
pub(crate) fn service_map(store: &Store, from: u64, to: u64) -> ServiceMap {
    let mut nodes: BTreeMap<String, &'static str> = BTreeMap::new();
    let mut edges: BTreeMap<(String, String), (u64, Vec<u64>)> = BTreeMap::new();
    store.visit_traces(|spans, _| {
        let by_id: BTreeMap<&str, &StoredSpan> =
            spans.iter().map(|s| (s.span_id.as_str(), s)).collect();
        let parents: HashSet<&str> = spans
            .iter()
            .filter_map(|s| s.parent_span_id.as_deref())
            .collect();
        for s in spans {
            if !in_window(s, from, to) {
                continue;
            }
            nodes.entry(s.service.clone()).or_insert("service");
            let parent = s.parent_span_id.as_deref().and_then(|p| by_id.get(p));
            let callee = match parent {
                Some(p) if p.service != s.service => Some((p.service.clone(), s.service.clone())),
                _ => None,
            };
            let callee = callee.or_else(|| {
                if s.kind != "Client" || parents.contains(s.span_id.as_str()) {
                    return None;
                }
                let address = attr(s, &["server.address", "net.peer.name"]);
                let peer = attr(s, &["peer.service"]).filter(|p| !p.is_empty());
                let target = match attr(s, &["db.system.name", "db.system"]) {
                    Some(system) => {
                        let kind = if matches!(system, "redis" | "memcached") {
                            "cache"
                        } else {
                            "database"
                        };
                        let id = match (peer, address) {
                            (Some(p), _) => p.to_owned(),
                            (None, Some(a)) => format!("{system} ({a})"),
                            (None, None) => system.to_owned(),
                        };
                        (id, kind)
                    }
                    None => match peer {
                        Some(p) => (p.to_owned(), "service"),
                        None => (address?.to_owned(), "external"),
                    },
                };
                nodes.entry(target.0.clone()).or_insert(target.1);
                Some((s.service.clone(), target.0))
            });
            if let Some(key) = callee {
                let e = edges.entry(key).or_default();
                e.0 += u64::from(s.is_error());
                e.1.push(s.duration_nanos());
            }
        }
        true
    });
    let edges = edges
        .into_iter()
        .map(|((from, to), (errors, mut d))| {
            d.sort_unstable();
            let calls = d.len() as u64;
            Edge {
                from,
                to,
                calls,
                errors,
                error_rate: errors as f64 / calls.max(1) as f64,
                p50_ms: percentile_ms(&d, 0.5),
                p99_ms: percentile_ms(&d, 0.99),
            }
        })
        .collect();
    ServiceMap {
        nodes: nodes
            .into_iter()
            .map(|(id, kind)| Node { id, kind })
            .collect(),
        edges,
    }
}

/// One time bucket of a RED series.
#[derive(Debug, Serialize)]
pub(crate) struct Bucket {
    pub(crate) start_unix_ms: u64,
    pub(crate) count: u64,
    pub(crate) errors: u64,
    pub(crate) rate_per_s: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p95_ms: f64,
    pub(crate) p99_ms: f64,
    /// The slowest call's trace, then the first error's if another trace.
    pub(crate) example_trace_ids: Vec<String>,
}

/// RED of one service's operation.
#[derive(Debug, Serialize)]
pub(crate) struct Series {
    pub(crate) service: String,
    pub(crate) operation: String,
    /// `metrics` (the services' duration histograms) or `spans` (the stored spans).
    pub(crate) source: &'static str,
    pub(crate) buckets: Vec<Bucket>,
}

/// One bucket of one operation from the duration histograms.
#[derive(Default)]
struct MetricAcc {
    count: u64,
    errors: u64,
    bounds: Vec<f64>,
    counts: Vec<u64>,
    max: Option<f64>,
    exemplars: Vec<String>,
}

type Key = (String, String);

/// The duration histograms of the matching operations, summed per bucket.
fn metric_buckets(
    store: &Store,
    service: Option<&str>,
    operation: Option<&str>,
    from: u64,
    to: u64,
    bucket_ns: u64,
) -> BTreeMap<Key, BTreeMap<u64, MetricAcc>> {
    let mut out: BTreeMap<Key, BTreeMap<u64, MetricAcc>> = BTreeMap::new();
    store.visit_durations(|st| {
        if service.is_some_and(|x| x != st.service) || operation.is_some_and(|x| x != st.operation)
        {
            return;
        }
        for d in st.deltas.iter().filter(|d| d.time >= from && d.time <= to) {
            let a = out
                .entry((st.service.clone(), st.operation.clone()))
                .or_default()
                .entry(d.time / bucket_ns * bucket_ns)
                .or_default();
            if a.bounds.is_empty() && a.counts.is_empty() {
                a.bounds.clone_from(&d.bounds_ms);
                a.counts = vec![0; d.bounds_ms.len() + 1];
            }
            merge(&a.bounds, &mut a.counts, &d.bounds_ms, &d.counts);
            a.count += d.count;
            if st.error {
                a.errors += d.count;
            }
            a.max = match (a.max, d.max_ms) {
                (Some(x), Some(y)) => Some(x.max(y)),
                (x, y) => x.or(y),
            };
            for e in &d.exemplars {
                if a.exemplars.len() < 3 && !a.exemplars.contains(e) {
                    a.exemplars.push(e.clone());
                }
            }
        }
    });
    out
}

#[derive(Default)]
struct Acc {
    durations: Vec<u64>,
    errors: u64,
    slowest: Option<(u64, String)>,
    error_example: Option<String>,
}

/// Entry spans of `service`/`operation` (all when `None`) that started in `[from, to]`,
/// in buckets of `bucket_ms` aligned to the Unix epoch.
pub(crate) fn red(
    store: &Store,
    service: Option<&str>,
    operation: Option<&str>,
    from: u64,
    to: u64,
    bucket_ms: u64,
) -> Vec<Series> {
    let bucket_ns = bucket_ms.max(1).saturating_mul(1_000_000);
    let from_metrics = metric_buckets(store, service, operation, from, to, bucket_ns);
    let mut acc: BTreeMap<Key, BTreeMap<u64, Acc>> = BTreeMap::new();
    store.visit_traces(|spans, _| {
        for s in spans {
            if !s.is_entry()
                || !in_window(s, from, to)
                || service.is_some_and(|x| x != s.service)
                || operation.is_some_and(|x| x != s.name)
            {
                continue;
            }
            let b = s.start_unix_nanos / bucket_ns * bucket_ns;
            let a = acc
                .entry((s.service.clone(), s.name.clone()))
                .or_default()
                .entry(b)
                .or_default();
            let d = s.duration_nanos();
            a.durations.push(d);
            if s.is_error() {
                a.errors += 1;
                a.error_example.get_or_insert_with(|| s.trace_id.clone());
            }
            if a.slowest.as_ref().is_none_or(|(max, _)| d > *max) {
                a.slowest = Some((d, s.trace_id.clone()));
            }
        }
        true
    });
    let rate = |count: u64| count as f64 / (bucket_ns as f64 / 1e9);
    let mut series: Vec<Series> = Vec::new();
    for (key, buckets) in &from_metrics {
        let spans = acc.get(key);
        series.push(Series {
            service: key.0.clone(),
            operation: key.1.clone(),
            source: "metrics",
            buckets: buckets
                .iter()
                .map(|(start, m)| {
                    let mut examples = m.exemplars.clone();
                    if let Some(a) = spans.and_then(|s| s.get(start)) {
                        for id in span_examples(a) {
                            if !examples.contains(&id) {
                                examples.push(id);
                            }
                        }
                    }
                    let q = |q| round3(quantile(&m.bounds, &m.counts, m.max, q));
                    Bucket {
                        start_unix_ms: start / 1_000_000,
                        count: m.count,
                        errors: m.errors,
                        rate_per_s: rate(m.count),
                        p50_ms: q(0.5),
                        p95_ms: q(0.95),
                        p99_ms: q(0.99),
                        example_trace_ids: examples,
                    }
                })
                .collect(),
        });
    }
    for (key, buckets) in acc {
        if from_metrics.contains_key(&key) {
            continue;
        }
        series.push(Series {
            service: key.0,
            operation: key.1,
            source: "spans",
            buckets: buckets
                .into_iter()
                .map(|(start, mut a)| {
                    a.durations.sort_unstable();
                    let count = a.durations.len() as u64;
                    Bucket {
                        start_unix_ms: start / 1_000_000,
                        count,
                        errors: a.errors,
                        rate_per_s: rate(count),
                        p50_ms: percentile_ms(&a.durations, 0.5),
                        p95_ms: percentile_ms(&a.durations, 0.95),
                        p99_ms: percentile_ms(&a.durations, 0.99),
                        example_trace_ids: span_examples(&a),
                    }
                })
                .collect(),
        });
    }
    series.sort_by(|a, b| (&a.service, &a.operation).cmp(&(&b.service, &b.operation)));
    series
}

/// A bucket's example traces from spans: the slowest call's, then the first error's.
fn span_examples(a: &Acc) -> Vec<String> {
    let mut examples: Vec<String> = a.slowest.iter().map(|(_, id)| id.clone()).collect();
    if let Some(e) = &a.error_example
        && !examples.contains(e)
    {
        examples.push(e.clone());
    }
    examples
}

/// Milliseconds to the microsecond, so interpolated figures read cleanly.
fn round3(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let d: Vec<u64> = (1..=10).map(|i| i * 10_000_000).collect();
        assert_eq!(percentile_ms(&d, 0.5), 50.0);
        assert_eq!(percentile_ms(&d, 0.95), 100.0);
        assert_eq!(percentile_ms(&d, 0.99), 100.0);
        assert_eq!(percentile_ms(&d, 0.1), 10.0);
        assert_eq!(percentile_ms(&[], 0.5), 0.0);
    }
}
