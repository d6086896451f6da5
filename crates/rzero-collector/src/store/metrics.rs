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
use super::model::{MetricInfo, MetricPoint};
use crate::config::StoreLimits;

/// A metric point keeps at most this many attributes, each value cut to
/// [`POINT_VALUE_BYTES`].
const POINT_ATTRIBUTES: usize = 32;
const POINT_VALUE_BYTES: usize = 256;
/// Services remembered per metric.
const SERVICES_PER_METRIC: usize = 64;

#[derive(Debug, Default)]
pub(crate) struct MetricTable {
    metrics: BTreeMap<String, MetricInfo>,
}

// === impl MetricTable ===

impl MetricTable {
    pub(crate) fn names(&self) -> Vec<String> {
        self.metrics.keys().cloned().collect()
    }

    pub(crate) fn all(&self) -> Vec<MetricInfo> {
        self.metrics.values().cloned().collect()
    }

    pub(crate) fn ingest(&mut self, request: &ExportMetricsServiceRequest, limits: &StoreLimits) {
        let point_limits = StoreLimits {
            max_attributes: POINT_ATTRIBUTES.min(limits.max_attributes),
            max_value_bytes: POINT_VALUE_BYTES.min(limits.max_value_bytes),
            ..*limits
        };
        for rm in &request.resource_metrics {
            let (_, service) = convert::resource(rm.resource.as_ref(), limits);
            for m in rm.scope_metrics.iter().flat_map(|sm| &sm.metrics) {
                let name = convert::cut(&m.name, 256);
                if !self.metrics.contains_key(&name) && self.metrics.len() >= limits.max_metrics {
                    continue;
                }
                let (kind, points, last) = summarize(m.data.as_ref(), &point_limits);
                let entry = self
                    .metrics
                    .entry(name.clone())
                    .or_insert_with(|| MetricInfo {
                        name,
                        kind: kind.to_owned(),
                        unit: convert::cut(&m.unit, 64),
                        services: Vec::new(),
                        points: 0,
                        last_point: None,
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

/// Kind, number of points, and the latest point (by time) of one metric.
fn summarize(
    data: Option<&Data>,
    limits: &StoreLimits,
) -> (&'static str, usize, Option<MetricPoint>) {
    match data {
        Some(Data::Sum(s)) => {
            let last = s.data_points.iter().max_by_key(|p| p.time_unix_nano);
            let last = last.map(|p| {
                point(
                    p.time_unix_nano,
                    number(p.value.as_ref()),
                    &p.attributes,
                    limits,
                )
            });
            ("sum", s.data_points.len(), last)
        }
        Some(Data::Gauge(g)) => {
            let last = g.data_points.iter().max_by_key(|p| p.time_unix_nano);
            let last = last.map(|p| {
                point(
                    p.time_unix_nano,
                    number(p.value.as_ref()),
                    &p.attributes,
                    limits,
                )
            });
            ("gauge", g.data_points.len(), last)
        }
        Some(Data::Histogram(h)) => {
            let last = h
                .data_points
                .iter()
                .max_by_key(|p| p.time_unix_nano)
                .map(|p| {
                    let v = json!({
                        "count": p.count,
                        "sum": p.sum.map(float),
                        "min": p.min.map(float),
                        "max": p.max.map(float),
                    });
                    point(p.time_unix_nano, v, &p.attributes, limits)
                });
            ("histogram", h.data_points.len(), last)
        }
        Some(Data::ExponentialHistogram(h)) => {
            let last = h
                .data_points
                .iter()
                .max_by_key(|p| p.time_unix_nano)
                .map(|p| {
                    let v = json!({
                        "count": p.count,
                        "sum": p.sum.map(float),
                        "min": p.min.map(float),
                        "max": p.max.map(float),
                    });
                    point(p.time_unix_nano, v, &p.attributes, limits)
                });
            ("exponential_histogram", h.data_points.len(), last)
        }
        Some(Data::Summary(s)) => {
            let last = s
                .data_points
                .iter()
                .max_by_key(|p| p.time_unix_nano)
                .map(|p| {
                    let v = json!({ "count": p.count, "sum": float(p.sum) });
                    point(p.time_unix_nano, v, &p.attributes, limits)
                });
            ("summary", s.data_points.len(), last)
        }
        None => ("empty", 0, None),
    }
}
