//! The duration histograms services send over OTLP (`http.server.request.duration`,
//! `rpc.server.duration`, the older `http.server.duration`), kept as a bounded series of
//! deltas per service, operation and outcome, so the RED charts can be drawn from what
//! the services measured rather than from the spans the collector happened to keep
//! (a head- or tail-sampled store holds a share of the calls; the metrics hold them all).
//!
//! - Cumulative points (the SDK's default) are turned into deltas here, per data point
//!   stream (sender, instance and attribute set): the first point of a stream, or one
//!   whose start time moved or whose count fell (a restart), counts whole.
//! - The operation is named as the server span is: `{method} {route}` for HTTP,
//!   `{rpc.service}/{rpc.method}` for gRPC; an error is a point with `error.type`, an
//!   HTTP status of 500 or more, or a gRPC code the RPC conventions call a server error.
//! - Bounded: at most [`MAX_STREAMS`] streams and [`MAX_DELTAS`] deltas each (the oldest
//!   go first), and the bytes are counted into the metric budget
//!   (`max_metric_bytes`): once it is used, new streams are not kept.

use std::collections::{HashMap, VecDeque};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{AggregationTemporality, HistogramDataPoint, metric};

use super::convert;
use crate::config::StoreLimits;

/// Streams (sender + attribute set) kept.
const MAX_STREAMS: usize = 4096;
/// Deltas kept per stream: an hour at the SDK's default 60 s interval, ten minutes at 1 s.
const MAX_DELTAS: usize = 720;
/// Bucket bounds kept per histogram (the conventions recommend 14 to 17).
const MAX_BOUNDS: usize = 64;
/// Trace ids of exemplars kept per delta.
const MAX_EXEMPLARS: usize = 2;

/// gRPC codes the RPC conventions count as a server's failure: UNKNOWN,
/// DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS.
const GRPC_SERVER_ERRORS: [i64; 6] = [2, 4, 12, 13, 14, 15];

/// What one export interval of one stream adds: calls, their duration histogram (in
/// milliseconds) and the traces of its exemplars.
#[derive(Clone, Debug)]
pub(crate) struct Delta {
    /// End of the interval, Unix nanoseconds.
    pub(crate) time: u64,
    pub(crate) count: u64,
    /// Upper bounds in milliseconds; `counts` has one more (the overflow bucket).
    pub(crate) bounds_ms: Vec<f64>,
    pub(crate) counts: Vec<u64>,
    /// Largest duration seen, when the sender says (milliseconds).
    pub(crate) max_ms: Option<f64>,
    pub(crate) exemplars: Vec<String>,
}

/// One data point stream.
#[derive(Debug)]
pub(crate) struct Stream {
    pub(crate) service: String,
    pub(crate) operation: String,
    pub(crate) error: bool,
    pub(crate) deltas: VecDeque<Delta>,
    /// The last cumulative point: `(start, count, counts)`.
    last: Option<(u64, u64, Vec<u64>)>,
    bytes: usize,
}

/// The streams, by sender and attribute set.
#[derive(Debug, Default)]
pub(crate) struct DurationTable {
    streams: HashMap<String, Stream>,
    bytes: usize,
}

fn delta_bytes(d: &Delta) -> usize {
    std::mem::size_of::<Delta>()
        + 8 * (d.bounds_ms.len() + d.counts.len())
        + d.exemplars.iter().map(|e| e.len() + 24).sum::<usize>()
}

/// Milliseconds per unit of `unit`; an empty unit is what the metric's convention says
/// (seconds for the stable HTTP one, milliseconds for the older ones).
fn ms_per_unit(unit: &str, name: &str) -> f64 {
    match unit {
        "s" => 1000.0,
        "ms" => 1.0,
        "us" | "µs" => 1e-3,
        "ns" => 1e-6,
        _ if name == "http.server.request.duration" => 1000.0,
        _ => 1.0,
    }
}

fn str_attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
        .and_then(|v| match v {
            any_value::Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        })
}

fn int_attr(attrs: &[KeyValue], key: &str) -> Option<i64> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
        .and_then(|v| match v {
            any_value::Value::IntValue(i) => Some(*i),
            any_value::Value::StringValue(s) => s.parse().ok(),
            _ => None,
        })
}

/// The server span's name and whether the point counts failures, or `None` when the
/// point says too little to name the operation.
fn operation(name: &str, attrs: &[KeyValue]) -> Option<(String, bool)> {
    let errored = str_attr(attrs, "error.type").is_some();
    if name.starts_with("rpc.") {
        let service = str_attr(attrs, "rpc.service")?;
        let method = str_attr(attrs, "rpc.method")?;
        let code = int_attr(attrs, "rpc.grpc.status_code");
        let failed = code.is_some_and(|c| GRPC_SERVER_ERRORS.contains(&c));
        return Some((format!("{service}/{method}"), errored || failed));
    }
    let method =
        str_attr(attrs, "http.request.method").or_else(|| str_attr(attrs, "http.method"))?;
    let status = int_attr(attrs, "http.response.status_code")
        .or_else(|| int_attr(attrs, "http.status_code"));
    let op = match str_attr(attrs, "http.route") {
        Some(route) => format!("{method} {route}"),
        None => method.to_owned(),
    };
    Some((op, errored || status.is_some_and(|s| s >= 500)))
}

/// The key of a stream: sender, instance and the point's attributes, sorted.
fn stream_key(service: &str, instance: &str, attrs: &[KeyValue]) -> String {
    let mut parts: Vec<String> = attrs
        .iter()
        .map(|kv| {
            format!(
                "{}={:?}",
                kv.key,
                kv.value.as_ref().and_then(|v| v.value.as_ref())
            )
        })
        .collect();
    parts.sort_unstable();
    format!("{service}\u{0}{instance}\u{0}{}", parts.join("\u{0}"))
}

// === impl DurationTable ===

impl DurationTable {
    /// The duration metric names this table reads.
    pub(crate) fn reads(name: &str) -> bool {
        matches!(
            name,
            "http.server.request.duration" | "http.server.duration" | "rpc.server.duration"
        )
    }

    /// Estimated bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Calls `f` with every stream.
    pub(crate) fn visit(&self, mut f: impl FnMut(&Stream)) {
        self.streams.values().for_each(&mut f);
    }

    /// Adds the duration histograms of `request`; `others` is what the rest of the metric
    /// store holds, counted into the same budget.
    pub(crate) fn ingest(
        &mut self,
        request: &ExportMetricsServiceRequest,
        limits: &StoreLimits,
        others: usize,
    ) {
        for rm in &request.resource_metrics {
            let (resource, service) = convert::resource(rm.resource.as_ref(), limits);
            let instance = resource
                .get("service.instance.id")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("")
                .to_owned();
            for m in rm.scope_metrics.iter().flat_map(|sm| &sm.metrics) {
                if !Self::reads(&m.name) {
                    continue;
                }
                let Some(metric::Data::Histogram(h)) = &m.data else {
                    continue;
                };
                let cumulative = h.aggregation_temporality != AggregationTemporality::Delta as i32;
                let scale = ms_per_unit(&m.unit, &m.name);
                for p in &h.data_points {
                    self.point(
                        &service, &instance, &m.name, p, cumulative, scale, limits, others,
                    );
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn point(
        &mut self,
        service: &str,
        instance: &str,
        name: &str,
        p: &HistogramDataPoint,
        cumulative: bool,
        scale: f64,
        limits: &StoreLimits,
        others: usize,
    ) {
        let Some((operation, error)) = operation(name, &p.attributes) else {
            return;
        };
        if p.explicit_bounds.len() > MAX_BOUNDS
            || p.bucket_counts.len() != p.explicit_bounds.len() + 1
        {
            return;
        }
        let key = stream_key(service, instance, &p.attributes);
        if !self.streams.contains_key(&key)
            && (self.streams.len() >= MAX_STREAMS || self.bytes + others >= limits.max_metric_bytes)
        {
            return;
        }
        let bytes = &mut self.bytes;
        let stream = self.streams.entry(key).or_insert_with_key(|key| {
            // The key twice (map and hash), the names, the last cumulative counts.
            let size = std::mem::size_of::<Stream>()
                + 2 * key.len()
                + service.len()
                + operation.len()
                + 8 * p.bucket_counts.len();
            *bytes += size;
            Stream {
                service: convert::cut(service, 256),
                operation: convert::cut(&operation, 256),
                error,
                deltas: VecDeque::new(),
                last: None,
                bytes: size,
            }
        });
        let (count, counts) = match (&stream.last, cumulative) {
            (Some((start, last_count, last_counts)), true)
                if *start == p.start_time_unix_nano && p.count >= *last_count =>
            {
                let counts = p
                    .bucket_counts
                    .iter()
                    .zip(last_counts.iter().chain(std::iter::repeat(&0)))
                    .map(|(now, before)| now.saturating_sub(*before))
                    .collect();
                (p.count - last_count, counts)
            }
            _ => (p.count, p.bucket_counts.clone()),
        };
        if cumulative {
            stream.last = Some((p.start_time_unix_nano, p.count, p.bucket_counts.clone()));
        }
        if count == 0 {
            return;
        }
        let delta = Delta {
            time: p.time_unix_nano,
            count,
            bounds_ms: p.explicit_bounds.iter().map(|b| b * scale).collect(),
            counts,
            // A cumulative max is the stream's, not the interval's: only a delta's is kept.
            max_ms: (!cumulative).then_some(p.max).flatten().map(|m| m * scale),
            exemplars: p
                .exemplars
                .iter()
                .filter_map(|e| convert::hex_id(&e.trace_id, 16))
                .take(MAX_EXEMPLARS)
                .collect(),
        };
        let added = delta_bytes(&delta);
        stream.deltas.push_back(delta);
        stream.bytes += added;
        self.bytes += added;
        if stream.deltas.len() > MAX_DELTAS
            && let Some(old) = stream.deltas.pop_front()
        {
            let freed = delta_bytes(&old);
            stream.bytes -= freed;
            self.bytes -= freed;
        }
    }
}

/// The nearest-rank-like `q` quantile of a histogram, interpolated linearly inside the
/// bucket it falls in (Prometheus' `histogram_quantile`); the overflow bucket reaches
/// `max` when known, else its lower bound.
pub(crate) fn quantile(bounds: &[f64], counts: &[u64], max: Option<f64>, q: f64) -> f64 {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return 0.0;
    }
    let rank = q * total as f64;
    let mut seen = 0u64;
    for (i, c) in counts.iter().enumerate() {
        if *c == 0 {
            continue;
        }
        if (seen + c) as f64 >= rank {
            let lower = if i == 0 { 0.0 } else { bounds[i - 1] };
            let upper = match bounds.get(i) {
                Some(b) => *b,
                None => max.unwrap_or(lower).max(lower),
            };
            let within = (rank - seen as f64) / *c as f64;
            return lower + (upper - lower) * within.clamp(0.0, 1.0);
        }
        seen += c;
    }
    bounds.last().copied().unwrap_or(0.0)
}

/// Adds histogram `(bounds, counts)` into `(into_bounds, into_counts)`; a bucket of
/// other bounds goes to the first target bucket whose bound holds its upper bound.
pub(crate) fn merge(into_bounds: &[f64], into_counts: &mut [u64], bounds: &[f64], counts: &[u64]) {
    if into_bounds == bounds {
        for (a, b) in into_counts.iter_mut().zip(counts) {
            *a += b;
        }
        return;
    }
    for (i, c) in counts.iter().enumerate() {
        let upper = bounds.get(i).copied().unwrap_or(f64::INFINITY);
        let j = into_bounds
            .iter()
            .position(|b| upper <= *b)
            .unwrap_or(into_bounds.len());
        if let Some(slot) = into_counts.get_mut(j) {
            *slot += c;
        }
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::common::v1::AnyValue;
    use opentelemetry_proto::tonic::metrics::v1::{
        Histogram, Metric, ResourceMetrics, ScopeMetrics,
    };
    use opentelemetry_proto::tonic::resource::v1::Resource;

    use super::*;

    fn kv(k: &str, v: &str) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(v.into())),
            }),
            ..Default::default()
        }
    }

    /// One `http.server.request.duration` point of GET /x: `(start, time, count)`, all in
    /// the first bucket.
    fn request(
        temporality: AggregationTemporality,
        points: &[(u64, u64, u64)],
    ) -> ExportMetricsServiceRequest {
        let data_points = points
            .iter()
            .map(|&(start, time, count)| HistogramDataPoint {
                attributes: vec![kv("http.request.method", "GET"), kv("http.route", "/x")],
                start_time_unix_nano: start,
                time_unix_nano: time,
                count,
                bucket_counts: vec![count, 0],
                explicit_bounds: vec![0.1],
                ..Default::default()
            })
            .collect();
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(Resource {
                    attributes: vec![kv("service.name", "s")],
                    ..Default::default()
                }),
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![Metric {
                        name: "http.server.request.duration".into(),
                        unit: "s".into(),
                        data: Some(metric::Data::Histogram(Histogram {
                            data_points,
                            aggregation_temporality: temporality as i32,
                        })),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    fn deltas(t: &DurationTable) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        t.visit(|s| {
            assert_eq!((s.operation.as_str(), s.error), ("GET /x", false));
            out.extend(s.deltas.iter().map(|d| (d.time, d.count)));
        });
        out
    }

    #[test]
    fn cumulative_points_become_deltas_and_a_restart_counts_whole() {
        let limits = StoreLimits::default();
        let mut t = DurationTable::default();
        let cumulative = AggregationTemporality::Cumulative;
        for points in [[(1, 10, 10)], [(1, 20, 15)], [(1, 30, 15)], [(25, 40, 3)]] {
            t.ingest(&request(cumulative, &points), &limits, 0);
        }
        assert_eq!(
            deltas(&t),
            [(10, 10), (20, 5), (40, 3)],
            "no change, no delta"
        );
        assert!(t.bytes() > 0);

        let mut d = DurationTable::default();
        for points in [[(1, 10, 4)], [(10, 20, 4)]] {
            d.ingest(&request(AggregationTemporality::Delta, &points), &limits, 0);
        }
        assert_eq!(deltas(&d), [(10, 4), (20, 4)], "deltas as sent");
        assert_eq!(
            d.streams
                .values()
                .next()
                .map(|s| s.deltas[0].bounds_ms.clone()),
            Some(vec![100.0]),
            "seconds to ms"
        );
    }

    #[test]
    fn quantiles_interpolate_inside_the_bucket() {
        // 10 calls in (0, 10], 10 in (10, 20].
        let bounds = [10.0, 20.0];
        let counts = [10, 10, 0];
        assert_eq!(quantile(&bounds, &counts, None, 0.5), 10.0);
        assert_eq!(quantile(&bounds, &counts, None, 0.25), 5.0);
        assert_eq!(quantile(&bounds, &counts, None, 0.75), 15.0);
        assert_eq!(quantile(&bounds, &counts, None, 1.0), 20.0);
        // Overflow: up to the max when known.
        assert_eq!(quantile(&bounds, &[0, 0, 4], Some(40.0), 0.5), 30.0);
        assert_eq!(quantile(&bounds, &[0, 0, 4], None, 0.5), 20.0);
        assert_eq!(quantile(&bounds, &[0, 0, 0], None, 0.5), 0.0);
    }

    #[test]
    fn merging_other_bounds_keeps_every_call() {
        let mut into = [0u64; 3];
        merge(&[10.0, 20.0], &mut into, &[5.0, 15.0, 30.0], &[1, 2, 3, 4]);
        assert_eq!(into, [1, 2, 7]);
        merge(&[10.0, 20.0], &mut into, &[10.0, 20.0], &[1, 1, 1]);
        assert_eq!(into, [2, 3, 8]);
    }
}
