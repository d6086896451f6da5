//! Every request is counted once, in the series of its method, route and status, whether
//! its instruments were bound (the first [`SLOTS`] keys) or not (the keys after them).

use std::convert::Infallible;
use std::time::Duration;

use futures_util::FutureExt;
use http::{Method, Request, Response, StatusCode};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use tower::{Layer, Service, service_fn};

use super::MetricsLayer;
use crate::slots::SLOTS;

/// (method, status, error.type) of each duration series, with its count.
fn durations(exporter: &InMemoryMetricExporter) -> Vec<(String, i64, Option<String>, u64)> {
    let mut out = Vec::new();
    for rm in exporter.get_finished_metrics().expect("metrics") {
        for sm in rm.scope_metrics() {
            for m in sm.metrics() {
                if m.name() != "http.server.request.duration" {
                    continue;
                }
                let AggregatedMetrics::F64(MetricData::Histogram(h)) = m.data() else {
                    panic!("a histogram")
                };
                for dp in h.data_points() {
                    let get = |k: &str| {
                        dp.attributes()
                            .find(|kv| kv.key.as_str() == k)
                            .map(|kv| kv.value.clone())
                    };
                    let method = get("http.request.method")
                        .map(|v| v.to_string())
                        .unwrap_or_default();
                    let status = match get("http.response.status_code") {
                        Some(opentelemetry::Value::I64(s)) => s,
                        _ => 0,
                    };
                    let error = get("error.type").map(|v| v.to_string());
                    out.push((method, status, error, dp.count()));
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_request_lands_in_its_series_bound_or_not() {
    let exporter = InMemoryMetricExporter::default();
    let reader = PeriodicReader::builder(exporter.clone())
        .with_interval(Duration::from_secs(3600))
        .build();
    let provider = SdkMeterProvider::builder().with_reader(reader).build();
    let meter = provider.meter("test");
    // The status comes from the path: `/503` answers 503.
    let inner = service_fn(|req: Request<()>| async move {
        let status: u16 = req.uri().path()[1..].parse().unwrap_or(200);
        let mut resp = Response::new(());
        *resp.status_mut() = StatusCode::from_u16(status).expect("a status");
        Ok::<_, Infallible>(resp)
    });
    let mut svc = MetricsLayer::new(&meter).layer(inner);
    let mut send = |method: &Method, status: u16| {
        let req = Request::builder()
            .method(method.clone())
            .uri(format!("/{status}"))
            .body(())
            .expect("request");
        svc.call(req).now_or_never().expect("ready").expect("ok");
    };
    // More methods than slots, and more statuses per method than slots.
    let methods: Vec<Method> = (0..SLOTS + 3)
        .map(|i| Method::from_bytes(format!("M{i}").as_bytes()).expect("a method"))
        .collect();
    for m in &methods {
        send(m, 200);
        send(m, 200);
    }
    for status in 200..(200 + SLOTS as u16 + 3) {
        send(&methods[0], status);
    }
    send(&methods[0], 503);
    send(&methods[SLOTS + 2], 503);
    provider.force_flush().expect("flush");

    let series = durations(&exporter);
    let count = |m: &str, s: i64| {
        series
            .iter()
            .filter(|(mm, ss, _, _)| mm == m && *ss == s)
            .map(|x| x.3)
            .sum::<u64>()
    };
    for (i, m) in methods.iter().enumerate() {
        let extra = u64::from(i == 0);
        assert_eq!(count(m.as_str(), 200), 2 + extra, "{m} 200: {series:?}");
    }
    assert_eq!(count("M0", 205), 1, "{series:?}");
    assert_eq!(count("M0", 210), 1, "past the slots: {series:?}");
    let last = format!("M{}", SLOTS + 2);
    for m in ["M0", last.as_str()] {
        let five = series
            .iter()
            .find(|(mm, ss, _, _)| mm == m && *ss == 503)
            .unwrap_or_else(|| panic!("{m} 503: {series:?}"));
        assert_eq!((five.2.as_deref(), five.3), (Some("503"), 1), "{series:?}");
    }
    let total: u64 = series.iter().map(|x| x.3).sum();
    let sent = 2 * methods.len() + SLOTS + 3 + 2;
    assert_eq!(total, sent as u64, "each request once: {series:?}");
}
