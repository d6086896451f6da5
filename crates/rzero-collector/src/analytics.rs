//! What is computed from the stored spans for the service map and the RED charts.
//!
//! - Service map: an edge per caller -> callee. Between services: a span whose parent
//!   (in the same trace) is another service's; its duration and status are the call's.
//!   To databases and caches: a CLIENT span with `db.system.name` (or the older
//!   `db.system`), the node named by the system and `server.address`; redis and memcached
//!   are caches. To other peers: a CLIENT span with `server.address` and no span of the
//!   callee in the trace (an uninstrumented service).
//! - RED: per service and operation, the entry spans (SERVER or CONSUMER, or a root) in
//!   fixed time buckets: rate, errors, p50/p95/p99, and example trace ids per bucket
//!   (the slowest, and an error if there was one), so a chart point links to traces.
//!
//! Percentiles are nearest-rank over the exact durations: the store is bounded, so
//! sorting what one query sees is cheap and needs no sketch.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use serde_json::Value;

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
                let target = match attr(s, &["db.system.name", "db.system"]) {
                    Some(system) => {
                        let kind = if matches!(system, "redis" | "memcached") {
                            "cache"
                        } else {
                            "database"
                        };
                        let id = match address {
                            Some(a) => format!("{system} ({a})"),
                            None => system.to_owned(),
                        };
                        (id, kind)
                    }
                    None => (address?.to_owned(), "external"),
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
    pub(crate) buckets: Vec<Bucket>,
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
    let mut acc: BTreeMap<(String, String), BTreeMap<u64, Acc>> = BTreeMap::new();
    store.visit_traces(|spans, _| {
        for s in spans {
            let entry =
                matches!(s.kind.as_str(), "Server" | "Consumer") || s.parent_span_id.is_none();
            if !entry
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
    acc.into_iter()
        .map(|((service, operation), buckets)| Series {
            service,
            operation,
            buckets: buckets
                .into_iter()
                .map(|(start, mut a)| {
                    a.durations.sort_unstable();
                    let mut examples: Vec<String> =
                        a.slowest.map(|(_, id)| id).into_iter().collect();
                    if let Some(e) = a.error_example
                        && !examples.contains(&e)
                    {
                        examples.push(e);
                    }
                    let count = a.durations.len() as u64;
                    Bucket {
                        start_unix_ms: start / 1_000_000,
                        count,
                        errors: a.errors,
                        rate_per_s: count as f64 / (bucket_ns as f64 / 1e9),
                        p50_ms: percentile_ms(&a.durations, 0.5),
                        p95_ms: percentile_ms(&a.durations, 0.95),
                        p99_ms: percentile_ms(&a.durations, 0.99),
                        example_trace_ids: examples,
                    }
                })
                .collect(),
        })
        .collect()
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
