//! The collector's views with the order system's own traces and metrics, in headless
//! Chromium: the three services (embedded backend) export to the in-test collector, real
//! requests go through the gateway, and each view (service map, RED, critical path,
//! comparison, search) is loaded and checked; screenshots under `target/artifacts/`.

#[path = "../../../crates/rzero-collector/tests/chrome/mod.rs"]
mod chrome;
mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chrome::{artifacts, attr_values, chromium};
use common::{Backend, ORDER, Reach, call, start_reaching};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get_json(addr: SocketAddr, path: &str) -> Value {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_string(&mut out))
        .await
        .expect("an answer within 20 s")
        .expect("read");
    let body = out.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

/// The count of operation `op` in the RED series of `service`, summed over buckets.
fn red_count(red: &Value, op: &str) -> (u64, &'static str) {
    let Some(s) = red["data"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["operation"] == op))
    else {
        return (0, "none");
    };
    let n = s["buckets"]
        .as_array()
        .map_or(0, |b| b.iter().filter_map(|b| b["count"].as_u64()).sum());
    let source = if s["source"] == "metrics" {
        "metrics"
    } else {
        "spans"
    };
    (n, source)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_view_draws_the_order_systems_traces() {
    // A missing Chromium fails the test (a silent early return would pass it).
    if !chrome::available() {
        return;
    }
    let sys = start_reaching(
        Backend::Embedded,
        Reach {
            viewer: true,
            metric_interval_ms: Some(300),
            ..Reach::default()
        },
    )
    .await;
    let ui = sys.collector.ui_addr().expect("viewer on");

    // Real requests: four creates, a read of the first, an unknown user, an unknown order.
    let mut creates = Vec::new();
    for _ in 0..4 {
        let a = call(sys.api, "POST", "/api/v1/orders", ORDER).await;
        assert_eq!(a.status, 200, "{}", a.body);
        creates.push(a);
    }
    let order_id = creates[0].body["order_id"].as_i64().expect("order id");
    let read = call(sys.api, "GET", &format!("/api/v1/orders/{order_id}"), "").await;
    assert_eq!(read.status, 200, "{}", read.body);
    let unknown_user = r#"{"user_id": 99, "product_id": 1, "amount": 5}"#;
    let missing_user = call(sys.api, "POST", "/api/v1/orders", unknown_user).await;
    assert_eq!(missing_user.status, 404, "{}", missing_user.body);
    let missing = call(sys.api, "GET", "/api/v1/orders/987654321", "").await;
    assert_eq!(missing.status, 404, "{}", missing.body);

    // Each create's trace complete (every service exports on its own schedule).
    let store = sys.collector.store();
    // (Only the first create reads user 1 from the database; later ones find it cached.)
    let services = ["order-api", "order.rpc", "user.rpc"];
    for a in &creates {
        let complete = store
            .wait_until(Duration::from_secs(30), |st| {
                st.trace(&a.trace_id).is_some_and(|t| {
                    t.spans.iter().any(|s| s.name == "UpdateCache")
                        && services
                            .iter()
                            .all(|n| t.spans.iter().any(|s| s.service == *n))
                })
            })
            .await;
        assert!(complete, "trace {} arrived whole", a.trace_id);
    }
    for a in [&read, &missing_user, &missing] {
        assert!(
            store
                .wait_for_trace(&a.trace_id, 3, Duration::from_secs(30))
                .await,
            "trace {} arrived",
            a.trace_id
        );
    }
    // The gateway's duration histogram has counted the six POSTs (metric exports every
    // 300 ms); polled through the API, which is what the RED view reads.
    let deadline = Instant::now() + Duration::from_secs(30);
    let red_path = "/rzero/api/red?service=order-api";
    let (posts, source) = loop {
        let red = get_json(ui, red_path).await;
        let got = red_count(&red, "POST /api/v1/orders");
        if got == (5, "metrics") || Instant::now() > deadline {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        (posts, source),
        (5, "metrics"),
        "four creates and one refused, from order-api's http.server.request.duration"
    );

    let base = format!("http://{ui}");
    let (a, b) = (&creates[1].trace_id, &read.trace_id);
    let urls = [
        format!("{base}/#/map"),
        format!("{base}/#/red?service=order-api"),
        format!("{base}/#/trace/{a}"),
        format!("{base}/#/compare/{a}/{b}"),
        format!("{base}/#/?attr=http.response.status_code%3D404"),
    ];
    let dir = artifacts();
    let shots = [
        "order-system-map.png",
        "order-system-red.png",
        "order-system-critical-path.png",
        "order-system-compare.png",
        "order-system-search.png",
    ];
    let doms = tokio::task::spawn_blocking(move || {
        let doms: Vec<String> = urls.iter().map(|u| chromium(u, None)).collect();
        for (u, name) in urls.iter().zip(shots) {
            chromium(u, Some(&dir.join(name)));
        }
        doms
    })
    .await
    .expect("join");
    let (map, red, trace, compare, search) = (&doms[0], &doms[1], &doms[2], &doms[3], &doms[4]);

    // Service map: the three services, the gateway -> order-rpc -> user-rpc calls, and
    // the database the rpc services query.
    let nodes = attr_values(map, "data-node-id");
    for service in ["order-api", "order.rpc", "user.rpc"] {
        assert!(nodes.iter().any(|n| n == service), "{service} in {nodes:?}");
    }
    let kinds = attr_values(map, "data-kind");
    assert!(
        kinds.iter().any(|k| k == "database"),
        "a database node: {nodes:?} {kinds:?}"
    );
    let edges: Vec<String> = attr_values(map, "data-edge")
        .into_iter()
        .map(|e| e.replace("&gt;", ">"))
        .collect();
    for e in ["order-api->order.rpc", "order.rpc->user.rpc"] {
        assert!(edges.contains(&e.to_owned()), "{e} in {edges:?}");
    }

    // RED: the gateway's two routes, drawn from its OTLP metrics.
    let ops = attr_values(red, "data-operation");
    assert!(
        ops.iter().any(|o| o == "POST /api/v1/orders")
            && ops.iter().any(|o| o == "GET /api/v1/orders/{order_id}"),
        "{ops:?}"
    );
    assert!(
        red.contains("data-source=\"metrics\""),
        "a card says its numbers come from the service's metrics"
    );

    // Critical path: the create's waterfall has all three services and a path from the
    // root through order-rpc.
    let services = attr_values(trace, "data-service");
    for service in ["order-api", "order.rpc", "user.rpc"] {
        assert!(
            services.iter().any(|s| s == service),
            "{service} in the waterfall"
        );
    }
    let critical: Vec<&str> = trace
        .split("<div class=\"span-row")
        .skip(1)
        .filter(|row| {
            row.split('"')
                .next()
                .is_some_and(|c| c.contains("critical"))
        })
        .filter_map(|row| row.split("title=\"").nth(1)?.split('"').next())
        .collect();
    assert!(
        critical
            .first()
            .is_some_and(|t| t.contains("POST /api/v1/orders")),
        "the root bounds the trace: {critical:?}"
    );
    assert!(
        critical.iter().any(|t| t.starts_with("order.rpc")),
        "order-rpc's work is on the path: {critical:?}"
    );

    // Comparison of a create with a read: the create's spans are missing from the read.
    assert!(
        compare.contains(
            "data-key=\"order-api: POST /api/v1/orders\" data-count-a=\"1\" data-count-b=\"0\""
        ),
        "{compare}"
    );
    assert!(compare.contains("cmp-row diff"), "differences marked");

    // Search by attribute: the two requests answered 404.
    let mut listed = attr_values(search, "data-trace-id");
    listed.sort();
    let mut expected = vec![missing_user.trace_id.clone(), missing.trace_id.clone()];
    expected.sort();
    assert_eq!(listed, expected, "the traces with a 404");

    for name in shots {
        assert!(artifacts().join(name).exists(), "{name} saved");
    }
    drop(sys.stops);
}
