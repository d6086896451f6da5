//! `OTEL_PROPAGATORS` and `TrustIncoming` end to end: a request comes into a gateway (an
//! rzero `Server` started with `Telemetry::init`), whose route calls a recorder through
//! `httpc`; the recorder answers with the headers it got. B3 and Jaeger in give the same
//! trace out, `none` propagates nothing, outside baggage is dropped unless trusted and
//! over its limits is never forwarded, and an untrusted caller's trace is restarted with a
//! link to it.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use common::send;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use rzero_rest::httpc::Client;
use rzero_rest::trace::TrustConf;
use rzero_rest::{Json, Route, Server};
use rzero_telemetry::TelemetryGuard;

const T: &str = "12345678901234567890123456789012";
const S: &str = "1234567890123456";

/// Answers with every header it received, as a JSON map of lists.
async fn recorder() -> SocketAddr {
    let app = Router::new().route(
        "/record",
        get(|h: http::HeaderMap| async move {
            let mut all: HashMap<String, Vec<String>> = HashMap::new();
            for (k, v) in &h {
                all.entry(k.as_str().to_owned())
                    .or_default()
                    .push(String::from_utf8_lossy(v.as_bytes()).into_owned());
            }
            axum::Json(all)
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

struct Gateway {
    addr: SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
    _guard: TelemetryGuard,
}

/// A gateway with telemetry from `env` (as `main` starts it), `trust`, and a route that
/// calls the recorder; spans go to `exporter` when given.
async fn gateway(
    env: &[(&str, &str)],
    trust: TrustConf,
    exporter: Option<InMemorySpanExporter>,
) -> Gateway {
    let guard = rzero_telemetry::Telemetry::new("gateway", "0.0.0")
        .env(env.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        .without_subscriber()
        .init()
        .expect("telemetry");
    let target = format!("http://{}/record", recorder().await);
    let client = Client::new(Duration::from_secs(5));
    let route = Route::get("/call", move || {
        let (client, target) = (client.clone(), target.clone());
        async move {
            let answer = client.get(&target).await.expect("the recorder answers");
            let headers: serde_json::Value = serde_json::from_slice(answer.body()).expect("json");
            Json(headers)
        }
    });
    let tracer = match exporter {
        Some(exporter) => SdkTracerProvider::builder()
            .with_simple_exporter(exporter)
            .build()
            .tracer("rzero"),
        None => guard.tracer(),
    };
    let mut conf = common::test_conf();
    conf.trust_incoming = trust;
    let server = Server::new(conf).tracer(tracer).route(route);
    let (addr, stop, _task) = common::start(server).await;
    Gateway {
        addr,
        _stop: stop,
        _guard: guard,
    }
}

/// The headers the recorder got for one request with `headers` into the gateway.
async fn through(g: &Gateway, headers: &[(&str, &str)]) -> HashMap<String, Vec<String>> {
    let raw: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let answer = send(g.addr, "GET", "/call", &raw, "").await;
    assert_eq!(answer.status, 200, "{answer:?}");
    serde_json::from_value(answer.json()).expect("a map of header lists")
}

fn first<'a>(got: &'a HashMap<String, Vec<String>>, name: &str) -> &'a str {
    got.get(name)
        .and_then(|v| v.first())
        .map(String::as_str)
        .unwrap_or_else(|| panic!("no {name} in {got:?}"))
}

const CONTEXT_FIELDS: [&str; 8] = [
    "traceparent",
    "tracestate",
    "baggage",
    "b3",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-sampled",
    "uber-trace-id",
];

fn baggage_trusted() -> TrustConf {
    TrustConf {
        baggage: true,
        ..TrustConf::default()
    }
}

// One test: telemetry is process-wide (the global propagator and tracer provider), so
// the configurations run one after the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn propagators_and_trust_decide_what_goes_through_the_gateway() {
    // b3 in, b3 out, same trace; nothing else is written.
    let g = gateway(&[("OTEL_PROPAGATORS", "b3")], TrustConf::default(), None).await;
    let got = through(&g, &[("b3", &format!("{T}-{S}-1"))]).await;
    assert!(first(&got, "b3").starts_with(&format!("{T}-")), "{got:?}");
    assert!(first(&got, "b3").ends_with("-1"), "{got:?}");
    assert!(!got.contains_key("traceparent") && !got.contains_key("uber-trace-id"));

    // jaeger in, jaeger out.
    let g = gateway(
        &[("OTEL_PROPAGATORS", "jaeger")],
        TrustConf::default(),
        None,
    )
    .await;
    let got = through(&g, &[("uber-trace-id", &format!("{T}:{S}:0:1"))]).await;
    assert!(
        first(&got, "uber-trace-id").starts_with(&format!("{T}:")),
        "{got:?}"
    );
    assert_ne!(
        first(&got, "uber-trace-id").split(':').nth(1),
        Some(S),
        "a new parent"
    );

    // Several formats: jaeger in, the same trace out in each.
    let g = gateway(
        &[("OTEL_PROPAGATORS", "tracecontext,b3multi,jaeger")],
        TrustConf::default(),
        None,
    )
    .await;
    let got = through(&g, &[("uber-trace-id", &format!("{T}:{S}:0:1"))]).await;
    assert!(
        first(&got, "traceparent").starts_with(&format!("00-{T}-")),
        "{got:?}"
    );
    assert!(first(&got, "traceparent").ends_with("-01"), "{got:?}");
    assert_eq!(first(&got, "x-b3-traceid"), T);
    assert_eq!(first(&got, "x-b3-sampled"), "1");
    assert!(first(&got, "uber-trace-id").starts_with(T));

    // none: nothing is read and nothing written.
    let g = gateway(&[("OTEL_PROPAGATORS", "none")], baggage_trusted(), None).await;
    let got = through(
        &g,
        &[
            ("traceparent", &format!("00-{T}-{S}-01")),
            ("baggage", "k=v"),
            ("b3", &format!("{T}-{S}-1")),
        ],
    )
    .await;
    for name in CONTEXT_FIELDS {
        assert!(!got.contains_key(name), "{name} sent with none: {got:?}");
    }

    // The default: W3C trace context continued, outside baggage dropped.
    let g = gateway(&[], TrustConf::default(), None).await;
    let got = through(
        &g,
        &[
            ("traceparent", &format!("00-{T}-{S}-01")),
            ("baggage", "user=alice"),
        ],
    )
    .await;
    assert!(first(&got, "traceparent").starts_with(&format!("00-{T}-")));
    assert!(!got.contains_key("baggage"), "{got:?}");

    // Trusted baggage goes through within its limits, and over them not at all.
    let g = gateway(&[], baggage_trusted(), None).await;
    let got = through(&g, &[("baggage", "user=alice"), ("baggage", "tier=gold;p")]).await;
    let mut sent: Vec<&str> = first(&got, "baggage").split(',').collect();
    sent.sort();
    assert_eq!(sent, ["tier=gold;p", "user=alice"]);
    let members = |n: usize| {
        (0..n)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let got = through(&g, &[("baggage", &members(181))]).await;
    assert!(!got.contains_key("baggage"), "181 members are dropped");
    let big = format!("big={}", "v".repeat(4093));
    let got = through(&g, &[("baggage", &format!("{big},small=1"))]).await;
    assert_eq!(
        first(&got, "baggage"),
        "small=1",
        "the 4097-byte member alone is dropped"
    );
    let (a, b) = (
        format!("a={}", "v".repeat(4094)),
        format!("b={}", "v".repeat(4094)),
    );
    let got = through(&g, &[("baggage", &a), ("baggage", &b)]).await;
    assert!(
        !got.contains_key("baggage"),
        "8193 bytes in all are dropped"
    );

    // An untrusted caller's trace is restarted, with a link to it on the server span.
    let exporter = InMemorySpanExporter::default();
    let untrusted = TrustConf {
        trace_context: false,
        baggage: false,
    };
    let g = gateway(&[], untrusted, Some(exporter.clone())).await;
    let got = through(&g, &[("traceparent", &format!("00-{T}-{S}-01"))]).await;
    let out = first(&got, "traceparent");
    assert!(!out.contains(T), "{out}");
    let spans = exporter.get_finished_spans().expect("spans");
    let server = spans
        .iter()
        .find(|s| s.name == "GET /call")
        .expect("server span");
    assert_eq!(
        server.parent_span_id.to_string(),
        "0000000000000000",
        "a root"
    );
    let link = server.links.links.first().expect("a link to the caller");
    assert_eq!(link.span_context.trace_id().to_string(), T);
    assert_eq!(link.span_context.span_id().to_string(), S);
}
