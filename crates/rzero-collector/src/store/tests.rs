use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord as OtlpLog, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

use super::*;

fn kv(key: &str, v: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(v) }),
        ..Default::default()
    }
}

fn resource(service: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![kv(
            "service.name",
            any_value::Value::StringValue(service.into()),
        )],
        ..Default::default()
    })
}

/// Span `id` of trace `trace`, starting at `start` ms and lasting `ms`.
fn span(trace: u8, id: u8, parent: Option<u8>, name: &str, start: u64, ms: u64) -> Span {
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: name.into(),
        start_time_unix_nano: start * 1_000_000,
        end_time_unix_nano: (start + ms) * 1_000_000,
        ..Default::default()
    }
}

fn traces(service: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(service),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn hex(b: u8, n: usize) -> String {
    format!("{b:02x}").repeat(n)
}

#[test]
fn spans_come_back_depth_first_with_orphans_and_cycles_last() {
    let store = Store::new(StoreLimits::default());
    store.ingest_traces(&traces(
        "a",
        vec![
            span(1, 5, Some(1), "late child of root", 30, 1),
            span(1, 3, Some(2), "grandchild", 12, 1),
            span(1, 2, Some(1), "child", 10, 5),
            span(1, 1, None, "root", 0, 40),
            span(1, 7, Some(9), "orphan", 20, 1),
            span(1, 8, Some(8), "own parent", 21, 1),
            span(1, 10, Some(11), "cycle a", 25, 1),
            span(1, 11, Some(10), "cycle b", 26, 1),
        ],
    ));
    let t = store.trace(&hex(1, 16)).expect("stored");
    let names: Vec<&str> = t.spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "root",
            "child",
            "grandchild",
            "late child of root",
            "orphan",
            "own parent",
            "cycle a",
            "cycle b"
        ]
    );
    let summary = &store.traces(&TraceQuery::default())[0];
    assert_eq!(summary.root_operation, "root");
    assert_eq!(summary.duration_nanos, 40_000_000);
    assert_eq!(summary.span_count, 8);
}

#[test]
fn a_search_stops_at_its_span_budget() {
    let store = Store::new(StoreLimits::default());
    // Traces 1..=4, two spans each; 4 is the newest.
    for t in 1..=4u8 {
        store.ingest_traces(&traces(
            "api",
            vec![
                span(t, 1, None, "GET", 0, 5),
                span(t, 2, Some(1), "SELECT", 1, 3),
            ],
        ));
    }
    let ids = |limit, budget| -> Vec<String> {
        store
            .find_traces(limit, budget, |_| true)
            .into_iter()
            .map(|t| t.trace_id)
            .collect()
    };
    assert_eq!(
        ids(10, 5),
        [hex(4, 16), hex(3, 16)],
        "a third would make six spans"
    );
    assert_eq!(ids(10, 1), [hex(4, 16)], "the first trace always comes");
    assert_eq!(
        ids(3, 100),
        [hex(4, 16), hex(3, 16), hex(2, 16)],
        "the limit still holds"
    );
    assert!(ids(0, 100).is_empty());
}

#[test]
fn queries_filter_by_service_operation_errors_and_duration() {
    let store = Store::new(StoreLimits::default());
    let mut failed = span(2, 1, None, "POST /orders", 0, 50);
    failed.status = Some(Status {
        code: 2,
        message: "boom".into(),
    });
    store.ingest_traces(&traces("api", vec![span(1, 1, None, "GET /orders", 0, 5)]));
    store.ingest_traces(&traces("api", vec![failed]));
    store.ingest_traces(&traces("rpc", vec![span(2, 2, Some(1), "Create", 1, 40)]));
    let ids = |q: TraceQuery| -> Vec<String> {
        store.traces(&q).into_iter().map(|t| t.trace_id).collect()
    };
    assert_eq!(ids(TraceQuery::default()), [hex(2, 16), hex(1, 16)]);
    let only = |service: &str, op: &str| TraceQuery {
        service: Some(service.into()),
        operation: Some(op.into()),
        ..TraceQuery::default()
    };
    assert_eq!(ids(only("rpc", "Create")), [hex(2, 16)]);
    assert!(
        ids(only("rpc", "GET /orders")).is_empty(),
        "op of another service"
    );
    assert!(ids(only("nobody", "x")).is_empty());
    let errors = TraceQuery {
        errors_only: true,
        ..TraceQuery::default()
    };
    assert_eq!(ids(errors), [hex(2, 16)]);
    let slow = TraceQuery {
        min_duration_nanos: Some(10_000_000),
        ..TraceQuery::default()
    };
    assert_eq!(ids(slow), [hex(2, 16)]);
    let one = TraceQuery {
        limit: Some(1),
        ..TraceQuery::default()
    };
    assert_eq!(ids(one).len(), 1);
    assert_eq!(store.services(), ["api", "rpc"]);
    assert_eq!(store.operations("api"), ["GET /orders", "POST /orders"]);
}

#[test]
fn with_an_operation_the_bounds_are_its_spans_and_the_end_is_exclusive() {
    let store = Store::new(StoreLimits::default());
    let mut root = span(2, 1, None, "POST /orders", 0, 50);
    root.status = Some(Status {
        code: 2,
        message: "boom".into(),
    });
    store.ingest_traces(&traces("api", vec![root]));
    // The call starts 1 ms after its trace and takes 40 of its 50 ms, and succeeds.
    store.ingest_traces(&traces("rpc", vec![span(2, 2, Some(1), "Create", 1, 40)]));
    let ids = |q: TraceQuery| -> Vec<String> {
        store.traces(&q).into_iter().map(|t| t.trace_id).collect()
    };
    let create = |f: fn(&mut TraceQuery)| {
        let mut q = TraceQuery {
            service: Some("rpc".into()),
            operation: Some("Create".into()),
            ..TraceQuery::default()
        };
        f(&mut q);
        q
    };
    let whole = |f: fn(&mut TraceQuery)| {
        let mut q = TraceQuery::default();
        f(&mut q);
        q
    };
    let at_least_45 = |q: &mut TraceQuery| q.min_duration_nanos = Some(45_000_000);
    assert!(ids(create(at_least_45)).is_empty(), "Create took 40 ms");
    assert_eq!(ids(whole(at_least_45)), [hex(2, 16)], "the trace took 50");
    let errors = |q: &mut TraceQuery| q.errors_only = true;
    assert!(ids(create(errors)).is_empty(), "Create succeeded");
    assert_eq!(ids(whole(errors)), [hex(2, 16)], "the root failed");
    // [1 ms, 2 ms) holds Create's start, not the trace's; [0, 1 ms) the reverse.
    let from_1ms = |q: &mut TraceQuery| {
        q.start_after_nanos = Some(1_000_000);
        q.start_before_nanos = Some(2_000_000);
    };
    assert_eq!(ids(create(from_1ms)), [hex(2, 16)]);
    assert!(ids(whole(from_1ms)).is_empty());
    // Create has no kind and a parent: not an entry span, which RED counts.
    let entry = |q: &mut TraceQuery| q.entry_only = true;
    assert!(ids(create(entry)).is_empty(), "not a SERVER span");
    let first_ms = |q: &mut TraceQuery| q.start_before_nanos = Some(1_000_000);
    assert!(ids(create(first_ms)).is_empty(), "the end is exclusive");
    assert_eq!(ids(whole(first_ms)), [hex(2, 16)]);
}

#[test]
fn the_byte_budget_evicts_oldest_traces_and_their_index_entries() {
    let limits = StoreLimits {
        max_span_bytes: 64 * 1024,
        max_value_bytes: 1024,
        ..StoreLimits::default()
    };
    let store = Store::new(limits);
    for t in 1..=100u8 {
        let mut s = span(t, 1, None, &format!("op-{t}"), 0, 1);
        s.attributes = (0..20)
            .map(|i| {
                kv(
                    &format!("k{i}"),
                    any_value::Value::StringValue("v".repeat(5000)),
                )
            })
            .collect();
        store.ingest_traces(&traces(&format!("svc-{t}"), vec![s]));
    }
    let stats = store.stats();
    assert!(stats.span_bytes <= 64 * 1024, "{stats:?}");
    assert!(stats.spans > 0 && stats.spans < 100, "{stats:?}");
    assert!(store.trace(&hex(100, 16)).is_some(), "newest kept");
    assert!(store.trace(&hex(1, 16)).is_none(), "oldest gone");
    assert!(
        !store.services().contains(&"svc-1".to_owned()),
        "index follows"
    );
    assert_eq!(store.services().len(), stats.traces);
    let kept = store.trace(&hex(100, 16)).expect("kept");
    let v = kept.spans[0].attributes["k0"].as_str().expect("string");
    assert!(
        v.len() <= 1024 + '…'.len_utf8(),
        "values are cut: {}",
        v.len()
    );
}

#[test]
fn hostile_values_are_cut_not_followed() {
    let limits = StoreLimits {
        max_attributes: 4,
        ..StoreLimits::default()
    };
    let store = Store::new(limits);
    let mut deep = AnyValue {
        value: Some(any_value::Value::IntValue(1)),
    };
    for _ in 0..200 {
        deep = AnyValue {
            value: Some(any_value::Value::ArrayValue(ArrayValue {
                values: vec![deep],
            })),
        };
    }
    let mut s = span(1, 1, None, "deep", 0, 1);
    s.attributes = (0..50)
        .map(|i| KeyValue {
            key: format!("k{i}"),
            value: Some(deep.clone()),
            ..Default::default()
        })
        .collect();
    s.end_time_unix_nano = 0; // ends before it starts
    store.ingest_traces(&traces("x", vec![s]));
    let t = store.trace(&hex(1, 16)).expect("stored");
    assert_eq!(t.spans[0].attributes.len(), 4);
    assert_eq!(t.spans[0].duration_nanos(), 0);
}

fn log(trace: Option<u8>, body: &str) -> OtlpLog {
    OtlpLog {
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue(body.into())),
        }),
        severity_number: 17,
        trace_id: trace.map(|t| vec![t; 16]).unwrap_or_default(),
        span_id: trace.map(|_| vec![1; 8]).unwrap_or_default(),
        ..Default::default()
    }
}

fn logs(records: Vec<OtlpLog>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource("api"),
            scope_logs: vec![ScopeLogs {
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[test]
fn logs_are_bounded_and_found_by_trace() {
    let store = Store::new(StoreLimits {
        max_logs: 10,
        ..StoreLimits::default()
    });
    let records = (0..25u8)
        .map(|i| log((i % 3 != 0).then_some(i % 2 + 1), &format!("line {i}")))
        .collect();
    assert_eq!(store.ingest_logs(&logs(records)), 0);
    assert_eq!(store.stats().logs, 10);
    let one: Vec<String> = store
        .logs_for_trace(&hex(1, 16))
        .into_iter()
        .map(|l| l.body)
        .collect();
    // Lines 15..25 are kept; trace 1 is i % 2 == 0 and i % 3 != 0.
    assert_eq!(one, ["line 16", "line 20", "line 22"]);
    let r = &store.logs_for_trace(&hex(2, 16))[0];
    assert_eq!((r.severity.as_str(), r.service.as_str()), ("ERROR", "api"));
    assert_eq!(r.span_id, hex(1, 8));
    assert!(store.logs_for_trace(&hex(9, 16)).is_empty());
}

#[test]
fn metrics_keep_names_senders_and_the_last_point_within_the_cap() {
    let store = Store::new(StoreLimits {
        max_metrics: 2,
        ..StoreLimits::default()
    });
    let gauge = |name: &str, points: &[(u64, f64)]| Metric {
        name: name.into(),
        unit: "ms".into(),
        data: Some(metric::Data::Gauge(Gauge {
            data_points: points
                .iter()
                .map(|&(t, v)| NumberDataPoint {
                    time_unix_nano: t,
                    value: Some(number_data_point::Value::AsDouble(v)),
                    ..Default::default()
                })
                .collect(),
        })),
        ..Default::default()
    };
    let request = |service: &str, metrics: Vec<Metric>| ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource(service),
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    store.ingest_metrics(&request(
        "api",
        vec![gauge("lat", &[(5, 2.5), (9, 7.5), (7, 1.0)])],
    ));
    store.ingest_metrics(&request(
        "rpc",
        vec![gauge("lat", &[(11, 3.0)]), gauge("b", &[])],
    ));
    store.ingest_metrics(&request("rpc", vec![gauge("c", &[(1, 1.0)])]));
    assert_eq!(store.metric_names(), ["b", "lat"], "capped at 2 names");
    let lat = store
        .metrics()
        .into_iter()
        .find(|m| m.name == "lat")
        .expect("lat");
    assert_eq!(lat.services, ["api", "rpc"]);
    assert_eq!(lat.points, 4);
    let last = lat.last_point.expect("a last point");
    assert_eq!((last.time_unix_nanos, last.service.as_str()), (11, "rpc"));
    assert_eq!(last.value, serde_json::json!(3.0));
}

#[tokio::test]
async fn waiting_returns_when_spans_arrive_or_at_the_timeout() {
    let store = Store::new(StoreLimits::default());
    let writer = store.clone();
    let wait = tokio::spawn(async move {
        store
            .wait_for_trace(&hex(1, 16), 2, Duration::from_secs(10))
            .await
    });
    tokio::task::yield_now().await;
    writer.ingest_traces(&traces("a", vec![span(1, 1, None, "r", 0, 1)]));
    writer.ingest_traces(&traces("a", vec![span(1, 2, Some(1), "c", 0, 1)]));
    assert!(wait.await.expect("join"));
    assert!(!writer.wait_for_spans(3, Duration::from_millis(20)).await);
}

#[test]
fn a_resource_is_kept_and_counted_once_per_trace() {
    let store = Store::new(StoreLimits::default());
    // A large resource, sent with every one of three exports of the same trace.
    let big = |service: &str| {
        let mut r = resource(service).expect("resource");
        for i in 0..50 {
            r.attributes.push(kv(
                &format!("host.label.{i}"),
                any_value::Value::StringValue("x".repeat(200)),
            ));
        }
        Some(r)
    };
    let one_export = |id: u8| {
        let mut t = traces("api", vec![span(1, id, None, "op", 0, 1)]);
        t.resource_spans[0].resource = big("api");
        t
    };
    store.ingest_traces(&one_export(1));
    let after_one = store.stats().span_bytes;
    store.ingest_traces(&one_export(2));
    store.ingest_traces(&one_export(3));
    let per_span = (store.stats().span_bytes - after_one) / 2;
    assert!(
        per_span < after_one / 4,
        "later spans share the resource: {per_span} vs first {after_one}"
    );
    let t = store.trace(&hex(1, 16)).expect("stored");
    assert_eq!(t.resources.len(), 1, "one resource in the answer");
    assert!(t.spans.iter().all(|s| s.resource_index == 0));
    assert!(std::sync::Arc::ptr_eq(
        &t.spans[0].resource,
        &t.spans[2].resource
    ));
    let json = serde_json::to_string(&t).expect("json");
    assert_eq!(
        json.matches("host.label.7").count(),
        1,
        "not copied per span"
    );
    // Another service in the same trace brings a second resource.
    let mut other = traces("db", vec![span(1, 4, Some(1), "query", 0, 1)]);
    other.resource_spans[0].resource = big("db");
    store.ingest_traces(&other);
    let t = store.trace(&hex(1, 16)).expect("stored");
    assert_eq!(t.resources.len(), 2);
    let db = t.spans.iter().find(|s| s.service == "db").expect("db span");
    assert_eq!(db.resource_index, 1);
}

#[test]
fn metrics_are_counted_in_bytes_and_bounded() {
    let limits = StoreLimits {
        max_metric_bytes: 64 << 10,
        ..StoreLimits::default()
    };
    let store = Store::new(limits);
    for batch in 0..50 {
        let metrics = (0..20)
            .map(|i| Metric {
                name: format!("metric.{batch}.{i}"),
                data: Some(metric::Data::Gauge(Gauge {
                    data_points: vec![NumberDataPoint {
                        attributes: (0..32)
                            .map(|a| {
                                kv(
                                    &format!("label{a}"),
                                    any_value::Value::StringValue("v".repeat(300)),
                                )
                            })
                            .collect(),
                        value: Some(number_data_point::Value::AsInt(1)),
                        ..Default::default()
                    }],
                })),
                ..Default::default()
            })
            .collect();
        store.ingest_metrics(&ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: resource("api"),
                scope_metrics: vec![ScopeMetrics {
                    metrics,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        });
    }
    let stats = store.stats();
    assert!(stats.metrics > 0 && stats.metrics < 1000, "{stats:?}");
    // The budget is checked before each new name, so one metric at most goes over.
    assert!(stats.metric_bytes < (64 << 10) + (16 << 10), "{stats:?}");
}

#[test]
fn a_trace_goes_back_to_otlp_and_reads_the_same() {
    let store = Store::new(StoreLimits::default());
    let mut a = traces("api", vec![span(1, 1, None, "root", 0, 40)]);
    a.resource_spans[0].scope_spans[0].spans[0].attributes = vec![
        kv("n", any_value::Value::IntValue(7)),
        kv("f", any_value::Value::DoubleValue(1.5)),
        kv(
            "list",
            any_value::Value::ArrayValue(ArrayValue {
                values: vec![AnyValue {
                    value: Some(any_value::Value::StringValue("x".into())),
                }],
            }),
        ),
    ];
    store.ingest_traces(&a);
    let mut b = traces("db", vec![span(1, 2, Some(1), "query", 5, 10)]);
    b.resource_spans[0].scope_spans[0].spans[0].links =
        vec![opentelemetry_proto::tonic::trace::v1::span::Link {
            trace_id: vec![9; 16],
            span_id: vec![8; 8],
            ..Default::default()
        }];
    b.resource_spans[0].scope_spans[0].spans[0].status = Some(Status {
        code: 2,
        message: "boom".into(),
    });
    store.ingest_traces(&b);
    let t = store.trace(&hex(1, 16)).expect("stored");
    let again = Store::new(StoreLimits::default());
    again.ingest_traces(&to_otlp(&t));
    let u = again.trace(&hex(1, 16)).expect("stored again");
    let view = |t: &Trace| serde_json::to_value(t).expect("json");
    assert_eq!(view(&t), view(&u));
    assert_eq!(to_otlp(&t).resource_spans.len(), 2, "one per resource");
    let linked = u.spans.iter().find(|s| s.name == "query").expect("query");
    assert_eq!(linked.links[0].span_id, hex(8, 8));
}
