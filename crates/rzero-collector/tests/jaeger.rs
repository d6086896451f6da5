//! Jaeger's HTTP query API against the real receiver: spans go in over OTLP/HTTP, come
//! back from `/api/*` in Jaeger's JSON model, checked field by field against Jaeger's own
//! fixture (`fixtures/jaeger/ui_01.json`) and against what the test sent.

use std::collections::BTreeSet;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::trace::v1::{Span, Status, span};
use rzero_collector::{Collector, CollectorConfig, RunningCollector};
use serde_json::Value;

mod otlp;

use otlp::{MS, kv_of as kv, s};

const FIXTURE: &str = include_str!("fixtures/jaeger/ui_01.json");

struct Sp {
    trace: u8,
    id: u8,
    parent: Option<u8>,
    name: &'static str,
    kind: i32,
    start_ms: u64,
    ms: u64,
    error: bool,
}

fn span(base: u64, p: &Sp) -> Span {
    let mut attributes = vec![kv("http.route", s("/api/v1/orders"))];
    if p.error {
        attributes.push(kv(
            "http.response.status_code",
            any_value::Value::IntValue(500),
        ));
    }
    Span {
        trace_id: vec![p.trace; 16],
        span_id: vec![p.id; 8],
        parent_span_id: p.parent.map(|x| vec![x; 8]).unwrap_or_default(),
        name: p.name.into(),
        kind: p.kind,
        start_time_unix_nano: base + p.start_ms * MS,
        end_time_unix_nano: base + (p.start_ms + p.ms) * MS,
        attributes,
        events: if p.error {
            vec![span::Event {
                time_unix_nano: base + (p.start_ms + 1) * MS,
                name: "exception".into(),
                attributes: vec![kv("exception.message", s("boom"))],
                ..Default::default()
            }]
        } else {
            Vec::new()
        },
        status: p.error.then(|| Status {
            code: 2,
            message: "boom".into(),
        }),
        ..Default::default()
    }
}

fn export(service: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    otlp::export_from(
        otlp::resource(service, vec![otlp::kv("host.name", "box-1")]),
        spans,
    )
}

async fn get(c: &RunningCollector, path: &str) -> (u16, Value) {
    otlp::get_json(c.ui_addr().expect("ui"), path).await
}

async fn post(c: &RunningCollector, req: ExportTraceServiceRequest) {
    otlp::post_traces(c.http_addr().expect("http"), &req).await;
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

const A: u8 = 0xa1;
const B: u8 = 0xb2;

/// Trace A: order-api POST (40 ms, error) -> its client call (30 ms) -> order-rpc (25 ms)
/// -> user-rpc (5 ms). Trace B, 10 s later: order-api GET (5 ms) -> order-rpc (2 ms).
async fn start() -> (RunningCollector, u64) {
    let any = "127.0.0.1:0".parse().ok();
    let c = Collector::start(CollectorConfig {
        otlp_grpc: None,
        otlp_http: any,
        ui: any,
        ..CollectorConfig::default()
    })
    .await
    .expect("start");
    let base = otlp::now() - 60_000 * MS;
    let sp = |trace, id, parent, name, kind, start_ms, ms, error| Sp {
        trace,
        id,
        parent,
        name,
        kind,
        start_ms,
        ms,
        error,
    };
    post(
        &c,
        export(
            "order-api",
            vec![
                span(base, &sp(A, 1, None, "POST /api/v1/orders", 2, 0, 40, true)),
                span(
                    base,
                    &sp(A, 2, Some(1), "order.Order/CreateOrder", 3, 5, 30, false),
                ),
                span(
                    base,
                    &sp(B, 1, None, "GET /api/v1/orders/:id", 2, 10_000, 5, false),
                ),
                span(
                    base,
                    &sp(B, 2, Some(1), "order.Order/GetOrder", 3, 10_001, 3, false),
                ),
            ],
        ),
    )
    .await;
    post(
        &c,
        export(
            "order-rpc",
            vec![
                span(
                    base,
                    &sp(A, 3, Some(2), "order.Order/CreateOrder", 2, 6, 25, false),
                ),
                span(
                    base,
                    &sp(B, 3, Some(2), "order.Order/GetOrder", 2, 10_001, 2, false),
                ),
            ],
        ),
    )
    .await;
    post(
        &c,
        export(
            "user-rpc",
            vec![{
                let mut s = span(
                    base,
                    &sp(A, 4, Some(3), "user.User/GetUser", 2, 8, 5, false),
                );
                // A link to trace B's root: a FOLLOWS_FROM reference in Jaeger's model.
                s.links = vec![span::Link {
                    trace_id: vec![B; 16],
                    span_id: vec![1; 8],
                    ..Default::default()
                }];
                s
            }],
        ),
    )
    .await;
    (c, base)
}

fn hex(b: u8) -> String {
    format!("{b:02x}").repeat(16)
}

fn trace_ids(v: &Value) -> Vec<String> {
    v["data"]
        .as_array()
        .expect("data[]")
        .iter()
        .map(|t| t["traceID"].as_str().expect("traceID").to_owned())
        .collect()
}

#[tokio::test]
async fn a_trace_reads_as_jaegers_own_fixture() {
    let (c, base) = start().await;
    let fixture: Value = serde_json::from_str(FIXTURE).expect("fixture");
    let (status, v) = get(&c, &format!("/api/traces/{}", hex(A))).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        keys(&v),
        ["data", "errors", "limit", "offset", "total"]
            .map(String::from)
            .into()
    );
    assert!(v["errors"].is_null());
    let t = &v["data"][0];
    assert_eq!(keys(t), keys(&fixture), "trace fields");
    let fixture_span_keys = keys(&fixture["spans"][0]);
    let spans = t["spans"].as_array().expect("spans");
    assert_eq!(spans.len(), 4);
    for sp in spans {
        assert_eq!(keys(sp), fixture_span_keys, "span fields: {sp}");
        for tag in sp["tags"].as_array().expect("tags") {
            assert_eq!(keys(tag), keys(&fixture["spans"][1]["tags"][0]), "{tag}");
        }
        for r in sp["references"].as_array().expect("refs") {
            assert_eq!(keys(r), keys(&fixture["spans"][2]["references"][0]), "{r}");
        }
    }
    for (_, p) in t["processes"].as_object().expect("processes") {
        assert_eq!(keys(p), keys(&fixture["processes"]["p1"]));
    }
    let log = &spans[0]["logs"][0];
    assert_eq!(keys(log), keys(&fixture["spans"][0]["logs"][0]));

    // ... and holds what was sent.
    let root = &spans[0];
    assert_eq!(root["operationName"], "POST /api/v1/orders");
    assert_eq!(root["startTime"], base / 1000);
    assert_eq!(root["duration"], 40_000, "microseconds");
    assert_eq!(root["references"].as_array().map(Vec::len), Some(0));
    let tag = |sp: &Value, k: &str| {
        sp["tags"]
            .as_array()
            .and_then(|ts| ts.iter().find(|t| t["key"] == k).cloned())
            .unwrap_or(Value::Null)
    };
    assert_eq!(tag(root, "error")["type"], "bool");
    assert_eq!(tag(root, "error")["value"], true);
    assert_eq!(tag(root, "span.kind")["value"], "server");
    assert_eq!(tag(root, "http.response.status_code")["type"], "int64");
    assert_eq!(tag(root, "http.response.status_code")["value"], 500);
    assert_eq!(tag(root, "otel.status_description")["value"], "boom");
    assert_eq!(log["fields"][0]["key"], "event");
    assert_eq!(log["fields"][0]["value"], "exception");
    let child = &spans[1];
    assert_eq!(child["references"][0]["refType"], "CHILD_OF");
    assert_eq!(child["references"][0]["spanID"], "0101010101010101");
    assert_eq!(tag(child, "span.kind")["value"], "client");
    let process = |sp: &Value| {
        let id = sp["processID"].as_str().expect("processID");
        t["processes"][id]["serviceName"].clone()
    };
    let services: Vec<Value> = spans.iter().map(process).collect();
    assert_eq!(
        services,
        ["order-api", "order-api", "order-rpc", "user-rpc"]
    );
    assert_eq!(t["processes"].as_object().map(|p| p.len()), Some(3));
    assert_eq!(t["processes"]["p1"]["tags"][0]["key"], "host.name");
    let user = &spans[3]["references"];
    assert_eq!(user[0]["refType"], "CHILD_OF");
    assert_eq!(user[1]["refType"], "FOLLOWS_FROM");
    assert_eq!(user[1]["traceID"], hex(B));
}

#[tokio::test]
async fn searches_filter_as_jaeger_does() {
    let (c, base) = start().await;
    let (_, v) = get(&c, "/api/services").await;
    assert_eq!(
        v["data"],
        serde_json::json!(["order-api", "order-rpc", "user-rpc"])
    );
    assert_eq!(v["total"], 3);
    let (_, v) = get(&c, "/api/services/order-rpc/operations").await;
    assert_eq!(
        v["data"],
        serde_json::json!(["order.Order/CreateOrder", "order.Order/GetOrder"])
    );

    let (_, v) = get(&c, "/api/operations?service=order-api&spanKind=client").await;
    assert_eq!(
        v["data"],
        serde_json::json!([
            {"name": "order.Order/CreateOrder", "spanKind": "client"},
            {"name": "order.Order/GetOrder", "spanKind": "client"},
        ])
    );
    let search = |q: &str| format!("/api/traces?{q}");
    let (_, v) = get(&c, &search("service=order-api")).await;
    assert_eq!(trace_ids(&v), [hex(B), hex(A)], "newest first");
    let tags = urlencode(r#"{"error":"true"}"#);
    let (_, v) = get(&c, &search(&format!("service=order-api&tags={tags}"))).await;
    assert_eq!(trace_ids(&v), [hex(A)]);
    // The query Grafana's Jaeger data source sends from `http.response.status_code=500
    // error=true` in its search form: tags as JSON (logfmt converted), the panel's time
    // range in microseconds, `lookback=custom`; older Grafana left logfmt's booleans
    // and numbers unconverted.
    let (start, end) = ((base - 60_000 * MS) / 1000, (base + 60_000 * MS) / 1000);
    for json in [
        r#"{"http.response.status_code":"500","error":"true"}"#,
        r#"{"http.response.status_code":500,"error":true}"#,
    ] {
        let q = format!(
            "service=order-api&tags={}&limit=20&start={start}&end={end}&lookback=custom",
            urlencode(json)
        );
        let (status, v) = get(&c, &search(&q)).await;
        assert_eq!(status, 200, "{json}: {v}");
        assert_eq!(trace_ids(&v), [hex(A)], "{json}");
    }
    let (status, v) = get(
        &c,
        &search(&format!(
            "service=order-api&tags={}",
            urlencode(r#"{"error":false}"#)
        )),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(trace_ids(&v).len(), 0, "no span carries error=false");
    let (status, v) = get(
        &c,
        &search(&format!(
            "service=order-api&tags={}",
            urlencode(r#"{"error":[true]}"#)
        )),
    )
    .await;
    assert_eq!(status, 400, "{v}");
    let (_, v) = get(
        &c,
        &search("service=order-api&tag=http.response.status_code:500"),
    )
    .await;
    assert_eq!(trace_ids(&v), [hex(A)]);
    let (_, v) = get(&c, &search("service=order-api&tag=host.name:box-1")).await;
    assert_eq!(trace_ids(&v).len(), 2, "resource attributes are tags too");
    let (_, v) = get(&c, &search("service=order-api&minDuration=35ms")).await;
    assert_eq!(trace_ids(&v), [hex(A)]);
    let (_, v) = get(&c, &search("service=order-rpc&maxDuration=10ms")).await;
    assert_eq!(trace_ids(&v), [hex(B)]);
    let (_, v) = get(
        &c,
        &search("service=user-rpc&operation=user.User%2FGetUser"),
    )
    .await;
    assert_eq!(trace_ids(&v), [hex(A)]);
    let (_, v) = get(&c, &search("service=order-api&operation=nope")).await;
    assert_eq!(trace_ids(&v).len(), 0);
    let (_, v) = get(&c, &search("service=order-api&limit=1")).await;
    assert_eq!(trace_ids(&v), [hex(B)]);
    let (start, end) = ((base + 5_000 * MS) / 1000, (base + 20_000 * MS) / 1000);
    let (_, v) = get(
        &c,
        &search(&format!("service=order-api&start={start}&end={end}")),
    )
    .await;
    assert_eq!(trace_ids(&v), [hex(B)]);
    let (_, v) = get(&c, &search(&format!("traceID={}&traceID=b2b2", hex(A)))).await;
    assert_eq!(trace_ids(&v), [hex(A)], "unknown ids are left out");

    // rzero's extensions, what its viewer sends: no service searches them all, and
    // `entry=true` lets only SERVER, CONSUMER or root spans meet the conditions.
    let (status, v) = get(&c, &search("minDuration=20ms")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(trace_ids(&v), [hex(A)], "every service's spans");
    let create = "operation=order.Order%2FCreateOrder";
    let (_, v) = get(&c, &search(&format!("service=order-api&{create}"))).await;
    assert_eq!(trace_ids(&v), [hex(A)], "the gateway's client span");
    let (_, v) = get(
        &c,
        &search(&format!("service=order-api&{create}&entry=true")),
    )
    .await;
    assert_eq!(trace_ids(&v).len(), 0, "a client span is no entry");
    let (_, v) = get(
        &c,
        &search(&format!("{create}&entry=true&minDuration=25ms")),
    )
    .await;
    assert_eq!(trace_ids(&v), [hex(A)], "order-rpc's server span");
}

/// One answer holds at most 20,000 spans: three traces of 10,000 (the most a trace
/// keeps) answer two, by search and by id alike, newest first.
#[tokio::test]
async fn an_answer_is_bounded_in_spans() {
    let (c, base) = start().await;
    for t in [0xd1u8, 0xd2, 0xd3] {
        let spans = (0..10_000u32)
            .map(|i| Span {
                trace_id: vec![t; 16],
                span_id: [[t; 4], (i + 1).to_be_bytes()].concat(),
                name: "bulk".into(),
                kind: 2,
                start_time_unix_nano: base + u64::from(i),
                end_time_unix_nano: base + u64::from(i) + MS,
                ..Default::default()
            })
            .collect();
        c.store().ingest_traces(&export("bulk", spans));
    }
    let (status, v) = get(&c, "/api/traces?service=bulk&limit=10").await;
    assert_eq!(status, 200);
    assert_eq!(
        trace_ids(&v),
        [hex(0xd3), hex(0xd2)],
        "20,000 spans, not 30,000"
    );
    let ids = [0xd1u8, 0xd2, 0xd3]
        .map(|t| format!("traceID={}", hex(t)))
        .join("&");
    let (_, v) = get(&c, &format!("/api/traces?{ids}")).await;
    assert_eq!(trace_ids(&v), [hex(0xd1), hex(0xd2)], "in the order asked");
    let spans: usize = v["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| t["spans"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(spans, 20_000);
}

#[tokio::test]
async fn errors_come_in_jaegers_envelope() {
    let (c, _) = start().await;
    let (status, v) = get(&c, "/api/traces?service=a&entry=maybe").await;
    assert_eq!(status, 400);
    assert_eq!(v["errors"][0]["code"], 400);
    assert_eq!(
        v["errors"][0]["msg"],
        "unable to parse param 'entry': `maybe` is not true or false"
    );
    assert!(v["data"].is_null());
    let (status, v) = get(&c, "/api/traces?service=a&minDuration=soon").await;
    assert_eq!(status, 400);
    assert!(
        v["errors"][0]["msg"]
            .as_str()
            .is_some_and(|m| m.contains("minDuration")),
        "{v}"
    );
    let (status, v) = get(&c, &format!("/api/traces/{}", "cd".repeat(16))).await;
    assert_eq!(status, 404);
    assert_eq!(v["errors"][0]["msg"], "trace not found");
    let (status, v) = get(&c, "/api/traces/not-hex").await;
    assert_eq!(status, 400);
    assert!(
        v["errors"][0]["msg"]
            .as_str()
            .is_some_and(|m| m.contains("traceID")),
        "{v}"
    );
    let (status, _) = get(&c, "/api/dependencies?endTs=yesterday").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn dependencies_count_calls_between_services() {
    let (c, base) = start().await;
    let (status, v) = get(&c, "/api/dependencies").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["data"],
        serde_json::json!([
            {"parent": "order-api", "child": "order-rpc", "callCount": 2},
            {"parent": "order-rpc", "child": "user-rpc", "callCount": 1},
        ])
    );
    // A window holding only trace A.
    let end_ms = (base + 1_000 * MS) / MS;
    let (_, v) = get(
        &c,
        &format!("/api/dependencies?endTs={end_ms}&lookback=2000"),
    )
    .await;
    assert_eq!(v["data"][0]["callCount"], 1, "{v}");
    assert_eq!(v["data"].as_array().map(Vec::len), Some(2));
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The case of Jaeger's own OTLP-to-Jaeger fixture pair (`cmd/query/app/fixture/
/// otlp2jaeger-in.json` and `-out.json` in jaegertracing/jaeger, Apache-2.0): one
/// telemetrygen server span whose parent is not in the trace, sent as OTLP/JSON, beside a
/// span of another trace id. The answer is the fixture's, field for field, but for one
/// tag: the scope's name is `otel.scope.name` (the current semantic conventions' key)
/// where the fixture, from Jaeger's older translator, says `otel.library.name`.
#[tokio::test]
async fn an_otlp_json_span_reads_as_jaegers_conversion_fixture() {
    let any = "127.0.0.1:0".parse().ok();
    let c = Collector::start(CollectorConfig {
        otlp_grpc: None,
        otlp_http: any,
        ui: any,
        ..CollectorConfig::default()
    })
    .await
    .expect("start");
    let span = |trace: &str| {
        serde_json::json!({
            "traceId": trace, "spanId": "e127af99e3b3e074", "parentSpanId": "909541b92cf05311",
            "name": "okey-dokey-0", "kind": 2,
            "startTimeUnixNano": "1706678909209712000", "endTimeUnixNano": "1706678909209835000",
            "attributes": [
                {"key": "net.peer.ip", "value": {"stringValue": "1.2.3.4"}},
                {"key": "peer.service", "value": {"stringValue": "telemetrygen-client"}},
            ],
            "status": {},
        })
    };
    let body = serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "telemetrygen"}}]},
        "scopeSpans": [{
            "scope": {"name": "telemetrygen"},
            "spans": [span("83a9efd15c1c98a977e0711cc93ee28b"), span("000083a9efd15c1c98a977e0711cc93e")],
        }],
    }]});
    let (status, answer) = otlp::http(
        c.http_addr().expect("http"),
        "POST",
        "/v1/traces",
        "application/json",
        body.to_string().as_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let (status, mut v) = get(&c, "/api/traces/83a9efd15c1c98a977e0711cc93ee28b").await;
    assert_eq!(status, 200, "{v}");
    // Tags compare as a set: Jaeger's converter and this one order them differently.
    let mut tags: Vec<Value> = v["data"][0]["spans"][0]["tags"]
        .as_array()
        .cloned()
        .expect("tags");
    tags.sort_by_key(|t| t["key"].as_str().unwrap_or("").to_owned());
    v["data"][0]["spans"][0]["tags"] = Value::Array(tags);
    let trace = "83a9efd15c1c98a977e0711cc93ee28b";
    let tag = |k: &str, v: &str| serde_json::json!({"key": k, "type": "string", "value": v});
    let expected = serde_json::json!({
        "data": [{
            "traceID": trace,
            "spans": [{
                "traceID": trace,
                "spanID": "e127af99e3b3e074",
                "operationName": "okey-dokey-0",
                "references": [{"refType": "CHILD_OF", "traceID": trace, "spanID": "909541b92cf05311"}],
                "startTime": 1_706_678_909_209_712u64,
                "duration": 123,
                "tags": [
                    tag("net.peer.ip", "1.2.3.4"),
                    tag("otel.scope.name", "telemetrygen"),
                    tag("peer.service", "telemetrygen-client"),
                    tag("span.kind", "server"),
                ],
                "logs": [],
                "processID": "p1",
                "warnings": null,
            }],
            "processes": {"p1": {"serviceName": "telemetrygen", "tags": []}},
            "warnings": null,
        }],
        "total": 0, "limit": 0, "offset": 0, "errors": null,
    });
    assert_eq!(v, expected);
    // The other span is its own trace, found by its own (short-written) id.
    let (status, other) = get(&c, "/api/traces/83a9efd15c1c98a977e0711cc93e").await;
    assert_eq!(status, 200, "{other}");
    assert_eq!(
        other["data"][0]["traceID"],
        "000083a9efd15c1c98a977e0711cc93e"
    );
    assert_eq!(other["data"][0]["spans"].as_array().map(Vec::len), Some(1));
}
