//! The viewer in a real browser (Debian's headless Chromium): the list shows a known
//! trace, its page shows one waterfall bar per span in parent order, and a screenshot is
//! kept under `target/artifacts/` for a person to look at; and the page loads nothing from
//! another origin (no CDN, no build step).

use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::AnyValue;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

mod chrome;
mod otlp;

use chrome::{artifacts, attr_values, chromium};
use otlp::kv;
const TRACE: [u8; 16] = [
    0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36,
];

/// Span id byte, parent, service, name, start ms, end ms, error.
type TestSpan = (u8, Option<u8>, &'static str, &'static str, u64, u64, bool);

const SPANS: [TestSpan; 5] = [
    (1, None, "order-api", "POST /api/v1/orders", 0, 40, false),
    (
        2,
        Some(1),
        "order-api",
        "order.Order/CreateOrder",
        2,
        38,
        false,
    ),
    (
        3,
        Some(2),
        "order-rpc",
        "order.Order/CreateOrder",
        4,
        36,
        false,
    ),
    (4, Some(3), "order-rpc", "INSERT orders", 10, 20, false),
    (5, Some(1), "order-api", "SET order:42", 38, 39, true),
];

fn request() -> ExportTraceServiceRequest {
    let base = 1_764_000_000_000_000_000u64;
    let resource_spans = ["order-api", "order-rpc"]
        .iter()
        .map(|service| ResourceSpans {
            resource: Some(otlp::resource(service, Vec::new())),
            scope_spans: vec![ScopeSpans {
                spans: SPANS
                    .iter()
                    .filter(|s| s.2 == *service)
                    .map(|&(id, parent, _, name, start, end, error)| Span {
                        trace_id: TRACE.to_vec(),
                        span_id: vec![id; 8],
                        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
                        name: name.into(),
                        kind: 2,
                        start_time_unix_nano: base + start * 1_000_000,
                        end_time_unix_nano: base + end * 1_000_000,
                        // Hostile text must show as text, never run.
                        attributes: vec![kv("note", "<img src=x onerror=alert(1)>")],
                        status: error.then(|| Status {
                            code: 2,
                            message: "redis down".into(),
                        }),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest { resource_spans }
}

/// Two log lines of the trace: one in the insert, one in the failed cache write.
fn logs() -> ExportLogsServiceRequest {
    let base = 1_764_000_000_000_000_000u64;
    let record = |span: u8, at_ms: u64, severity: i32, body: &str| LogRecord {
        time_unix_nano: base + at_ms * 1_000_000,
        severity_number: severity,
        body: Some(AnyValue {
            value: Some(otlp::s(body)),
        }),
        trace_id: TRACE.to_vec(),
        span_id: vec![span; 8],
        ..Default::default()
    };
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(otlp::resource("order-api", Vec::new())),
            scope_logs: vec![ScopeLogs {
                log_records: vec![
                    record(4, 15, 9, "order 42 inserted"),
                    record(5, 39, 17, "cache write failed: redis down"),
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewer_lists_the_trace_and_draws_its_waterfall() {
    if !chrome::available() {
        return;
    }
    let collector = chrome::ui_collector().await;
    collector.store().ingest_traces(&request());
    collector.store().ingest_logs(&logs());
    let base = format!("http://{}", collector.ui_addr().expect("ui"));
    let trace_id = otlp::hex(&TRACE);

    let (list_url, trace_url) = (format!("{base}/#/"), format!("{base}/#/trace/{trace_id}"));
    let span_url = format!("{trace_url}/{}", "05".repeat(8));
    let dir = artifacts();
    let (list, page, selected, shot) = tokio::task::spawn_blocking(move || {
        let list = chromium(&list_url, None);
        let page = chromium(&trace_url, None);
        let selected = chromium(&span_url, None);
        let shot = dir.join("viewer-trace.png");
        chromium(&trace_url, Some(&shot));
        chromium(&list_url, Some(&dir.join("viewer-list.png")));
        (list, page, selected, shot)
    })
    .await
    .expect("join");

    assert_eq!(
        attr_values(&list, "data-trace-id"),
        std::slice::from_ref(&trace_id),
        "the list shows the trace"
    );
    assert!(
        list.contains("POST /api/v1/orders"),
        "root operation in the list"
    );
    assert!(list.contains("● error"), "error mark in the list");

    let ids = attr_values(&page, "data-span-id");
    let bars = ids;
    let hex = |b: u8| format!("{b:02x}").repeat(8);
    // Depth-first, children by start: root, its client, the server, the insert, the cache.
    let expected: Vec<String> = [1, 2, 3, 4, 5].iter().map(|b| hex(*b)).collect();
    // The details panel repeats the selected span's id last; the bars come first.
    assert_eq!(
        &bars[..5],
        &expected[..],
        "one bar per span, in parent order: {bars:?}"
    );
    assert_eq!(
        page.matches("class=\"span-bar\"").count(),
        5,
        "one bar per span"
    );
    let depths = attr_values(&page, "data-depth");
    assert_eq!(&depths[..5], ["0", "1", "2", "3", "1"]);
    let parents = attr_values(&page, "data-parent-id");
    assert_eq!(
        &parents[..5],
        ["".to_owned(), hex(1), hex(2), hex(3), hex(1)]
    );
    assert!(page.contains("span-row error"), "the failed span is marked");
    assert!(
        page.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "attributes are text, not markup"
    );
    // A span picked by address (what a click does) shows its status and attributes.
    let details = selected
        .split("id=\"span-details\"")
        .nth(1)
        .expect("details panel");
    assert!(
        details.contains("SET order:42") && details.contains("status Error: redis down"),
        "{details}"
    );
    assert!(
        details.contains("service.name") && details.contains("order-api"),
        "resource shown"
    );
    let row = format!("selected\" data-span-id=\"{}\"", "05".repeat(8));
    assert!(
        selected.contains(&row) && selected.contains("class=\"span-row error"),
        "the row is highlighted"
    );
    let logs = page.split("id=\"trace-logs\"").nth(1).expect("logs table");
    assert!(
        logs.contains("order 42 inserted") && logs.contains("cache write failed: redis down"),
        "the trace's logs are on its page"
    );
    assert!(logs.contains("INSERT orders"), "a log names its span");
    assert!(
        std::fs::metadata(&shot)
            .map(|m| m.len() > 10_000)
            .unwrap_or(false),
        "screenshot saved"
    );
    let _ = tokio::time::timeout(Duration::from_secs(10), collector.shutdown()).await;
}

/// No CDN and no build step: the page is three files served from the collector itself,
/// which name no other origin, under a policy that lets the browser load from none.
#[tokio::test]
async fn the_viewer_loads_nothing_from_elsewhere() {
    let collector = chrome::ui_collector().await;
    let ui = collector.ui_addr().expect("ui");
    let page = otlp::get_raw(ui, "/").await;
    let mut loads: Vec<String> = attr_values(&page, "src");
    loads.extend(
        attr_values(&page, "href")
            .into_iter()
            .filter(|h| !h.starts_with('#')),
    );
    assert_eq!(
        loads,
        ["/static/views.js", "/static/app.js", "/static/app.css"],
        "{page}"
    );
    for path in ["/", "/static/app.js", "/static/views.js", "/static/app.css"] {
        let answer = otlp::get_raw(ui, path).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{path}: {answer}");
        let head = answer
            .split("\r\n\r\n")
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        assert!(
            head.contains("content-security-policy: default-src 'self'"),
            "{path}: {head}"
        );
        // The SVG namespace is a name, not a load.
        let body = answer.replace("http://www.w3.org/2000/svg", "");
        for scheme in ["http://", "https://", "//cdn", "import "] {
            assert!(!body.contains(scheme), "{path} mentions {scheme}");
        }
    }
    collector.shutdown().await;
}
