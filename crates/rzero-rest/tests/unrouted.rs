//! Requests no route serves (404) or whose method a route does not serve (405) are
//! requests like any other: a span, an access-log line and a metric point, through the
//! real `Server` on loopback; without `http.route`, as the HTTP conventions say.
//! Also: handlers reach the server's state with axum's `State`.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use common::{send, start, test_conf};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use rzero_rest::{Route, Server};

/// Log lines, captured.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Lines {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

#[tokio::test]
async fn not_found_and_method_not_allowed_get_a_span_a_log_line_and_a_metric() {
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _log = tracing::subscriber::set_default(subscriber);

    let spans = InMemorySpanExporter::default();
    let tracer = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build()
        .tracer("rzero");
    let metrics = InMemoryMetricExporter::default();
    let meters = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metrics.clone()).build())
        .build();
    let server = Server::with_state(test_conf(), Arc::new("shared".to_owned()))
        .tracer(tracer)
        .meter(meters.meter("rzero"))
        .route(Route::get(
            "/hello",
            |State(s): State<Arc<String>>| async move { s.to_string() },
        ));
    let (addr, _stop, _task) = start(server).await;

    assert_eq!(send(addr, "GET", "/hello", "", "").await.body, "shared");
    assert_eq!(send(addr, "GET", "/nope", "", "").await.status, 404);
    assert_eq!(send(addr, "DELETE", "/hello", "", "").await.status, 405);

    let finished = spans.get_finished_spans().expect("spans");
    let names: Vec<_> = finished.iter().map(|s| s.name.to_string()).collect();
    assert!(names.contains(&"GET /hello".to_owned()), "{names:?}");
    for (name, status) in [("GET", 404), ("DELETE", 405)] {
        let span = finished
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("a span named {name}: {names:?}"));
        let attr = |k: &str| span.attributes.iter().find(|kv| kv.key.as_str() == k);
        assert!(attr("http.route").is_none(), "no route on {name}");
        assert_eq!(
            attr("http.response.status_code").map(|kv| kv.value.to_string()),
            Some(status.to_string())
        );
    }

    let log = lines.text();
    assert!(
        log.lines()
            .any(|l| l.contains("404") && l.contains("/nope")),
        "{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("405") && l.contains("DELETE")),
        "{log}"
    );

    meters.force_flush().expect("flush");
    let exported = metrics.get_finished_metrics().expect("metrics");
    let mut statuses = Vec::new();
    for scope in exported.iter().flat_map(|rm| rm.scope_metrics()) {
        for metric in scope.metrics() {
            if metric.name() != "http.server.request.duration" {
                continue;
            }
            if let AggregatedMetrics::F64(MetricData::Histogram(h)) = metric.data() {
                for point in h.data_points() {
                    let attrs: Vec<_> = point.attributes().collect();
                    let status = attrs
                        .iter()
                        .find(|kv| kv.key.as_str() == "http.response.status_code")
                        .map(|kv| kv.value.to_string());
                    let route = attrs.iter().any(|kv| kv.key.as_str() == "http.route");
                    statuses.push((status, route));
                }
            }
        }
    }
    assert!(
        statuses.contains(&(Some("404".into()), false)),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&(Some("405".into()), false)),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&(Some("200".into()), true)),
        "{statuses:?}"
    );
}
