//! The server from `RestConf`, through real HTTP on loopback: each built-in middleware
//! doing its job, and the JSON error answers.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::{send, start, test_conf};
use rzero_resilience::shedder::FixedCpu;
use rzero_rest::jwt::{Claims, JwtConf};
use rzero_rest::{Group, Json, Route, Server};
use serde_json::json;

#[tokio::test]
async fn health_ready_and_unknown_routes_answer_json() {
    let server = Server::new(test_conf()).route(Route::get("/hello", || async { "hi" }));
    let (addr, stop, task) = start(server).await;
    assert_eq!(send(addr, "GET", "/health", "", "").await.status, 200);
    assert_eq!(send(addr, "GET", "/ready", "", "").await.status, 200);
    assert_eq!(send(addr, "GET", "/hello", "", "").await.body, "hi");
    let missing = send(addr, "GET", "/nope", "", "").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["code"], 404);
    let wrong_method = send(addr, "DELETE", "/hello", "", "").await;
    assert_eq!(wrong_method.status, 405);
    assert!(
        wrong_method.json()["msg"]
            .as_str()
            .is_some_and(|m| m.contains("DELETE"))
    );
    drop(stop);
    task.await.expect("join").expect("served");
}

#[tokio::test]
async fn a_slow_handler_times_out_with_503_and_is_cancelled() {
    let finished = Arc::new(AtomicBool::new(false));
    let f = finished.clone();
    let server = Server::new(test_conf())
        .route(
            Route::get("/slow", move || {
                let f = f.clone();
                async move {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    f.store(true, Ordering::SeqCst);
                    "late"
                }
            })
            .timeout(Duration::from_millis(100)),
        )
        .route(Route::get("/fast", || async { "ok" }));
    let (addr, _stop, _task) = start(server).await;
    let slow = send(addr, "GET", "/slow", "", "").await;
    assert_eq!(slow.status, 503);
    assert!(
        slow.json()["msg"]
            .as_str()
            .is_some_and(|m| m.contains("timed out")),
        "{}",
        slow.body
    );
    assert_eq!(send(addr, "GET", "/fast", "", "").await.status, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !finished.load(Ordering::SeqCst),
        "the handler was cancelled, not left running"
    );
}

#[tokio::test]
async fn bodies_over_max_bytes_are_413_declared_or_chunked() {
    let mut conf = test_conf();
    conf.max_bytes = 64;
    let server = Server::new(conf).route(Route::post("/echo", |body: String| async move { body }));
    let (addr, _stop, _task) = start(server).await;
    let big = "x".repeat(65);
    let declared = send(addr, "POST", "/echo", "", &big).await;
    assert_eq!(declared.status, 413, "{declared:?}");
    assert_eq!(declared.json()["code"], 413);
    assert_eq!(
        send(addr, "POST", "/echo", "", &"y".repeat(64))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn max_conns_refuses_what_exceeds_the_limit() {
    let mut conf = test_conf();
    conf.max_conns = 1;
    let gate = Arc::new(tokio::sync::Notify::new());
    let g = gate.clone();
    let server = Server::new(conf).route(Route::get("/hold", move || {
        let g = g.clone();
        async move {
            g.notified().await;
            "released"
        }
    }));
    let (addr, _stop, _task) = start(server).await;
    let first = tokio::spawn(async move { send(addr, "GET", "/hold", "", "").await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = send(addr, "GET", "/hold", "", "").await;
    assert_eq!(second.status, 503);
    assert!(second.body.contains("MaxConns"), "{}", second.body);
    gate.notify_one();
    assert_eq!(first.await.expect("join").status, 200);
}

#[tokio::test]
async fn jwt_groups_refuse_missing_forged_and_expired_tokens() {
    let auth = JwtConf {
        access_secret: rzero_conf::Secret("a-long-enough-test-secret-0123456789".into()),
        access_expire: 3600,
        ..JwtConf::default()
    };
    let server = Server::new(test_conf())
        .group(
            Group::new()
                .prefix("/api")
                .jwt(&auth)
                .route(Route::get("/me", |claims: Claims| async move {
                    Json(json!({ "user": claims.get("userId") }))
                })),
        )
        .route(Route::get("/open", || async { "open" }));
    let (addr, _stop, _task) = start(server).await;

    let token = auth
        .issue(
            json!({"userId": 7})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )
        .expect("sign");
    let ok = send(
        addr,
        "GET",
        "/api/me",
        &format!("authorization: Bearer {token}\r\n"),
        "",
    )
    .await;
    assert_eq!((ok.status, ok.json()["user"].clone()), (200, json!(7)));

    let missing = send(addr, "GET", "/api/me", "", "").await;
    assert_eq!(missing.status, 401);
    assert!(
        missing.json()["msg"]
            .as_str()
            .is_some_and(|m| m.contains("missing"))
    );
    let forged = JwtConf {
        access_secret: rzero_conf::Secret("somebody-else".into()),
        ..auth.clone()
    }
    .issue(Default::default())
    .expect("sign");
    let forged = send(
        addr,
        "GET",
        "/api/me",
        &format!("authorization: Bearer {forged}\r\n"),
        "",
    )
    .await;
    assert_eq!(forged.status, 401);
    let expired = jsonwebtoken_free_expired(&auth);
    let expired = send(
        addr,
        "GET",
        "/api/me",
        &format!("authorization: Bearer {expired}\r\n"),
        "",
    )
    .await;
    assert_eq!(expired.status, 401);
    assert!(
        expired.json()["msg"]
            .as_str()
            .is_some_and(|m| m.contains("expired")),
        "{}",
        expired.body
    );
    assert_eq!(send(addr, "GET", "/open", "", "").await.status, 200);
}

/// A token that expired an hour ago, signed with the right secret.
fn jsonwebtoken_free_expired(auth: &JwtConf) -> String {
    let mut claims = serde_json::Map::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    claims.insert("exp".into(), json!(now - 3600));
    let short = JwtConf {
        access_expire: 0,
        ..auth.clone()
    };
    short.issue(claims).expect("sign")
}

#[tokio::test]
async fn cors_answers_preflight_for_allowed_origins_only() {
    let mut conf = test_conf();
    conf.cors.allow_origins = vec!["https://shop.example.com".into()];
    let server = Server::new(conf).route(Route::post("/orders", || async { "created" }));
    let (addr, _stop, _task) = start(server).await;
    let preflight = "origin: https://shop.example.com\r\naccess-control-request-method: POST\r\naccess-control-request-headers: content-type\r\n";
    let ok = send(addr, "OPTIONS", "/orders", preflight, "").await;
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(
        ok.header("access-control-allow-origin").as_deref(),
        Some("https://shop.example.com")
    );
    let evil = send(
        addr,
        "OPTIONS",
        "/orders",
        &preflight.replace("shop.example.com", "evil.example"),
        "",
    )
    .await;
    assert_eq!(evil.header("access-control-allow-origin"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sheds_with_503_when_cpu_is_over_the_threshold() {
    let mut conf = test_conf();
    conf.cpu_threshold = 500;
    let cpu = FixedCpu::new(1000);
    let server = Server::new(conf)
        .cpu(cpu.clone())
        .route(Route::get("/work", || async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            "done"
        }));
    let (addr, _stop, _task) = start(server).await;
    let mut shed = 0;
    for _wave in 0..4 {
        let calls: Vec<_> = (0..20)
            .map(|_| tokio::spawn(async move { send(addr, "GET", "/work", "", "").await }))
            .collect();
        for c in calls {
            let a = c.await.expect("join");
            if a.status == 503 {
                assert!(a.body.contains("overloaded"), "{}", a.body);
                shed += 1;
            } else {
                assert_eq!(a.status, 200);
            }
        }
    }
    assert!(
        shed > 0,
        "a saturated CPU with requests piling up sheds some"
    );
    // Cool CPU: nothing is shed (after the shedder's one-second cool-off).
    cpu.set(100);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..5 {
        assert_eq!(send(addr, "GET", "/work", "", "").await.status, 200);
    }
}

#[tokio::test]
async fn the_route_breaker_opens_on_failures_and_closes_after_recovery() {
    let failing = Arc::new(AtomicBool::new(true));
    let calls = Arc::new(AtomicUsize::new(0));
    let (f, c) = (failing.clone(), calls.clone());
    let server = Server::new(test_conf())
        .breaker_config(rzero_resilience::breaker::BreakerConfig {
            window: 1000,
            ..Default::default()
        })
        .route(Route::get("/flaky", move || {
            let (f, c) = (f.clone(), c.clone());
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                if f.load(Ordering::SeqCst) {
                    rzero_rest::Error::internal("database on fire")
                } else {
                    rzero_rest::Error::new(http::StatusCode::OK, "fine")
                }
            }
        }));
    let (addr, _stop, _task) = start(server).await;
    let mut refused = 0;
    for _ in 0..200 {
        let a = send(addr, "GET", "/flaky", "", "").await;
        if a.status == 503 {
            assert!(a.body.contains("circuit breaker"), "{}", a.body);
            refused += 1;
        }
    }
    assert!(
        refused > 50,
        "the breaker refused {refused} of 200 failing calls"
    );
    assert!(
        calls.load(Ordering::SeqCst) < 150,
        "refused calls never reach the handler"
    );
    // Recovery: the backend is fine again; after the window rolls, calls pass (half-open
    // lets some through, their success closes it).
    failing.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let mut ok = 0;
    for _ in 0..50 {
        if send(addr, "GET", "/flaky", "", "").await.status == 200 {
            ok += 1;
        }
    }
    assert!(ok > 40, "after recovery {ok} of 50 passed");
}

#[tokio::test]
async fn a_stop_signal_drains_in_flight_requests() {
    let mut conf = test_conf();
    conf.service.shutdown.wait_time = Duration::from_secs(5);
    let server = Server::new(conf).route(Route::get("/slow", || async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        "finished"
    }));
    let readiness = server.readiness();
    let (addr, stop, task) = start(server).await;
    let slow = tokio::spawn(async move { send(addr, "GET", "/slow", "", "").await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).expect("signal");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!readiness.is_ready(), "/ready turns false at the signal");
    let answer = slow.await.expect("join");
    assert_eq!((answer.status, answer.body.as_str()), (200, "finished"));
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("stops after draining")
        .expect("join")
        .expect("clean stop");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "listener closed"
    );
}

#[tokio::test]
async fn overlapping_routes_are_an_error_not_a_panic() {
    let server = Server::new(test_conf())
        .route(Route::get("/orders/:id", || async { "a" }))
        .route(Route::get("/orders/:order_id", || async { "b" }));
    let err = server.into_router().expect_err("conflict");
    assert!(err.to_string().contains("conflicts"), "{err}");
    let twice = Server::new(test_conf())
        .route(Route::get("/a", || async { "a" }))
        .route(Route::get("/a", || async { "b" }));
    assert!(
        twice
            .into_router()
            .expect_err("duplicate")
            .to_string()
            .contains("twice")
    );
    let bad = Server::new(test_conf()).route(Route::get("no-slash", || async { "a" }));
    assert!(bad.into_router().is_err());
}

#[tokio::test]
async fn a_user_route_at_a_probe_path_is_an_error_not_a_panic() {
    for path in ["/health", "/ready"] {
        let server = Server::new(test_conf()).route(Route::get(path, || async { "mine" }));
        let err = server.into_router().expect_err("reserved");
        assert!(err.to_string().contains("probe route"), "{err}");
    }
    // Under a prefix it is the user's.
    let server = Server::new(test_conf()).group(
        Group::new()
            .prefix("/api")
            .route(Route::get("/health", || async { "mine" })),
    );
    assert!(server.into_router().is_ok());
}

/// Set in the child process that [`sigterm_to_a_real_process_drains_its_in_flight_request`]
/// starts: this test binary, re-run to be the server that receives the signal.
const CHILD_ENV: &str = "RZERO_REST_DRAIN_CHILD";

/// The child's side: a server with one slow route that prints its address, serves until
/// SIGTERM, drains, and says so. Does nothing unless run as the child.
#[tokio::test]
async fn drain_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    println!("listening on {}", listener.local_addr().expect("addr"));
    let server = Server::new(test_conf()).route(Route::get("/slow", || async {
        tokio::time::sleep(Duration::from_millis(800)).await;
        "finished"
    }));
    server
        .serve_on(listener, rzero_telemetry::shutdown_signal())
        .await
        .expect("serves");
    println!("drained");
}

#[tokio::test]
async fn sigterm_to_a_real_process_drains_its_in_flight_request() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let exe = std::env::current_exe().expect("exe");
    let mut child = tokio::process::Command::new(&exe)
        .args(["--exact", "drain_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the child server");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let addr: std::net::SocketAddr = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.expect("read") {
            // The harness prints `test drain_child ... ` before the child's own output.
            if let Some((_, addr)) = line.split_once("listening on ") {
                return addr.trim().parse().expect("address");
            }
        }
        panic!("the child exited before listening");
    })
    .await
    .expect("the child listens within 20 s");
    let slow = tokio::spawn(async move { send(addr, "GET", "/slow", "", "").await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pid = child.id().expect("pid").to_string();
    let killed = tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("kill");
    assert!(killed.success());
    let answer = slow.await.expect("join");
    assert_eq!((answer.status, answer.body.as_str()), (200, "finished"));
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("exits after draining")
        .expect("wait");
    assert!(status.success(), "{status}");
    let mut said_drained = false;
    while let Some(line) = lines.next_line().await.expect("read") {
        said_drained |= line.contains("drained");
    }
    assert!(said_drained, "the child finished its drain");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_built_server_traces_routes_with_their_template_and_the_callers_parent() {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let server = Server::new(test_conf())
        .tracer(provider.tracer("rzero"))
        .group(Group::new().prefix("/api/v1").route(Route::get(
            "/orders/:order_id",
            |axum::extract::Path(id): axum::extract::Path<u64>| async move {
                Json(json!({ "order_id": id }))
            },
        )));
    let (addr, _stop, _task) = start(server).await;
    let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let a = send(
        addr,
        "GET",
        "/api/v1/orders/42",
        &format!("traceparent: {parent}\r\n"),
        "",
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        a.header("x-trace-id").as_deref(),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    let spans = exporter.get_finished_spans().expect("spans");
    let span = spans
        .iter()
        .find(|s| s.name == "GET /api/v1/orders/{order_id}")
        .expect("server span");
    assert_eq!(span.parent_span_id.to_string(), "00f067aa0ba902b7");
    // The probes are not traced.
    assert_eq!(send(addr, "GET", "/health", "", "").await.status, 200);
    let spans = exporter.get_finished_spans().expect("spans");
    assert!(spans.iter().all(|s| !s.name.contains("health")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_for_prometheus_on_their_own_port() {
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let guard = rzero_telemetry::Telemetry::new("prom-test", "0.0.0")
        .env(Vec::<(String, String)>::new())
        .without_subscriber()
        .init()
        .expect("telemetry");
    let mut conf = test_conf();
    conf.service.prometheus = Some(rzero_telemetry::PrometheusConf {
        host: "127.0.0.1".into(),
        port: free,
        path: "/metrics".into(),
    });
    let server = Server::new(conf)
        .telemetry(guard)
        .route(Route::get("/hello", || async { "hi" }));
    let (addr, _stop, _task) = start(server).await;
    assert_eq!(send(addr, "GET", "/hello", "", "").await.status, 200);
    let metrics_addr: std::net::SocketAddr = format!("127.0.0.1:{free}").parse().expect("addr");
    let mut scraped = String::new();
    for _ in 0..50 {
        let a = send(metrics_addr, "GET", "/metrics", "", "").await;
        if a.status == 200 && a.body.contains("http_server_request_duration") {
            scraped = a.body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(scraped.contains("http_route=\"/hello\""), "{scraped}");
}

#[tokio::test]
async fn a_group_layer_runs_inside_the_middleware_around_its_routes_only() {
    // A group's own tower layer (`@server(middleware: ...)`): it sees its routes'
    // requests and answers, with state and extractors intact, and no other route's.
    let tag = tower::util::MapResponseLayer::new(|mut resp: axum::response::Response| {
        resp.headers_mut()
            .insert("x-group", http::HeaderValue::from_static("yes"));
        resp
    });
    let server = Server::with_state(test_conf(), 5u32)
        .group(Group::new().prefix("/g").layer(tag).route(Route::post(
            "/n/:id",
            |axum::extract::State(n): axum::extract::State<u32>,
             axum::extract::Path(id): axum::extract::Path<u32>,
             body: String| async move { format!("{}:{body}", n + id) },
        )))
        .route(Route::get("/plain", || async { "plain" }));
    let (addr, _stop, _task) = start(server).await;

    let inside = send(addr, "POST", "/g/n/2", "content-type: text/plain\r\n", "hi").await;
    assert_eq!(
        (inside.status, inside.body.as_str()),
        (200, "7:hi"),
        "{}",
        inside.head
    );
    assert_eq!(inside.header("x-group").as_deref(), Some("yes"));
    let wrong_method = send(addr, "GET", "/g/n/2", "", "").await;
    assert_eq!(wrong_method.status, 405, "{}", wrong_method.head);
    let outside = send(addr, "GET", "/plain", "", "").await;
    assert_eq!((outside.status, outside.body.as_str()), (200, "plain"));
    assert_eq!(outside.header("x-group"), None);
}
