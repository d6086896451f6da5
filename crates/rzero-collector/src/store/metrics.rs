//! The metric table: per metric name, its kind, unit, the services that send it, how many
//! points arrived and the latest point. Bounded by the number of names; a point's
//! attributes are cut harder than a span's, since there is one kept per metric.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point;
use serde_json::{Value, json};

use super::convert;
use super::model::{MetricInfo, MetricPoint, attributes_bytes};
use crate::config::StoreLimits;

/// A metric point keeps at most this many attributes, each value cut to
/// [`POINT_VALUE_BYTES`].
const POINT_ATTRIBUTES: usize = 32;
const POINT_VALUE_BYTES: usize = 256;
/// Services remembered per metric.
const SERVICES_PER_METRIC: usize = 64;

#[derive(Debug, Default)]
pub(crate) struct MetricTable {
    /// Each metric with its size as counted in `bytes`.
    metrics: BTreeMap<String, (MetricInfo, usize)>,
    bytes: usize,
}

/// Bytes one metric holds: its strings, its services, its last point.
fn metric_bytes(m: &MetricInfo) -> usize {
    std::mem::size_of::<MetricInfo>()
        + 2 * m.name.len()
        + m.kind.len()
        + m.unit.len()
        + m.services.iter().map(|s| s.len() + 24).sum::<usize>()
        + m.last_point.as_ref().map_or(0, |p| {
            std::mem::size_of::<MetricPoint>()
                + p.service.len()
                + p.value.to_string().len()
                + attributes_bytes(&p.attributes)
        })
}

// === impl MetricTable ===

impl MetricTable {
    pub(crate) fn names(&self) -> Vec<String> {
        self.metrics.keys().cloned().collect()
    }

    pub(crate) fn all(&self) -> Vec<MetricInfo> {
        self.metrics.values().map(|(m, _)| m.clone()).collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.metrics.len()
    }

    /// Estimated bytes held, within `max_metric_bytes` (a new metric name is not kept
    /// once the budget is used; known ones keep their latest point).
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Adds `request`; `others` is what the duration series hold, counted in the same budget.
    pub(crate) fn ingest(
        &mut self,
        request: &ExportMetricsServiceRequest,
        limits: &StoreLimits,
        others: usize,
    ) {
        let point_limits = StoreLimits {
            max_attributes: POINT_ATTRIBUTES.min(limits.max_attributes),
            max_value_bytes: POINT_VALUE_BYTES.min(limits.max_value_bytes),
            ..*limits
        };
        for rm in &request.resource_metrics {
            let (_, service) = convert::resource(rm.resource.as_ref(), limits);
            for m in rm.scope_metrics.iter().flat_map(|sm| &sm.metrics) {
                let name = convert::cut(&m.name, 256);
                if !self.metrics.contains_key(&name)
                    && (self.metrics.len() >= limits.max_metrics
                        || self.bytes + others >= limits.max_metric_bytes)
                {
                    continue;
                }
                let (kind, points, last) = summarize(m.data.as_ref(), &point_limits);
                let (entry, size) = self.metrics.entry(name.clone()).or_insert_with(|| {
                    (
                        MetricInfo {
                            name,
                            kind: kind.to_owned(),
                            unit: convert::cut(&m.unit, 64),
                            services: Vec::new(),
                            points: 0,
                            last_point: None,
                        },
                        0,
                    )
                });
                entry.points += points as u64;
                if let Some(mut last) = last {
                    last.service = service.clone();
                    entry.last_point = Some(last);
                }
                if !entry.services.contains(&service) && entry.services.len() < SERVICES_PER_METRIC
                {
                    entry.services.push(service.clone());
                }
                let now = metric_bytes(entry);
                self.bytes = self.bytes - *size + now;
                *size = now;
            }
        }
    }
}

fn point(time: u64, value: Value, attrs: &[KeyValue], limits: &StoreLimits) -> MetricPoint {
    MetricPoint {
        time_unix_nanos: time,
        value,
        attributes: convert::attributes(attrs, limits),
        service: String::new(),
    }
}

fn number(v: Option<&number_data_point::Value>) -> Value {
    match v {
        Some(number_data_point::Value::AsInt(i)) => Value::from(*i),
        Some(number_data_point::Value::AsDouble(d)) => {
            serde_json::Number::from_f64(*d).map_or(Value::Null, Value::Number)
        }
        None => Value::Null,
    }
}

fn float(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// The latest point (by time) of `points`, its value made by `value`. The five point
/// types of OTLP share these fields but no trait, hence a macro.
macro_rules! latest {
    ($points:expr, $limits:expr, |$p:ident| $value:expr) => {
        $points
            .iter()
            .max_by_key(|p| p.time_unix_nano)
            .map(|$p| point($p.time_unix_nano, $value, &$p.attributes, $limits))
    };
}

/// Kind, number of points, and the latest point (by time) of one metric.
fn summarize(
    data: Option<&Data>,
    limits: &StoreLimits,
) -> (&'static str, usize, Option<MetricPoint>) {
    let histogram = |count: u64, sum: Option<f64>, min: Option<f64>, max: Option<f64>| json!({ "count": count, "sum": sum.map(float), "min": min.map(float), "max": max.map(float) });
    match data {
        Some(Data::Sum(s)) => {
            let last = latest!(s.data_points, limits, |p| number(p.value.as_ref()));
            ("sum", s.data_points.len(), last)
        }
        Some(Data::Gauge(g)) => {
            let last = latest!(g.data_points, limits, |p| number(p.value.as_ref()));
            ("gauge", g.data_points.len(), last)
        }
        Some(Data::Histogram(h)) => {
            let last = latest!(h.data_points, limits, |p| histogram(
                p.count, p.sum, p.min, p.max
            ));
            ("histogram", h.data_points.len(), last)
        }
        Some(Data::ExponentialHistogram(h)) => {
            let last = latest!(h.data_points, limits, |p| histogram(
                p.count, p.sum, p.min, p.max
            ));
            ("exponential_histogram", h.data_points.len(), last)
        }
        Some(Data::Summary(s)) => {
            let last = latest!(
                s.data_points,
                limits,
                |p| json!({ "count": p.count, "sum": float(p.sum) })
            );
            ("summary", s.data_points.len(), last)
        }
        None => ("empty", 0, None),
    }
}
