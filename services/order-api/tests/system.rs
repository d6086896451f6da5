//! The order system end to end, in one process on loopback: user-rpc, order-rpc and
//! order-api as their libraries build them (real gRPC and HTTP between them), each
//! exporting to a real OTLP receiver (rzero-collector). One request must be one trace
//! across all three services. The same scenarios run on the embedded defaults (SQLite
//! files, in-process caches, fixed endpoints) and on the real MariaDB and Redis of the
//! machine with discovery through a real etcd.

mod common;

use std::time::Duration;

use common::{Backend, ORDER, Proxy, call, call_with, start, start_user, start_with};

async fn one_request_is_one_trace_across_all_services(backend: Backend) {
    let sys = start(backend).await;
    let created = call(sys.api, "POST", "/api/v1/orders", ORDER).await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.body["status"], "created");
    let order_id = created.body["order_id"].as_i64().expect("an id");
    assert!(order_id > 0);

    let store = sys.collector.store();
    // Every service exports on its own schedule: wait for the last span of each.
    let names = ["POST /api/v1/orders", "SELECT users", "UpdateCache"];
    let complete = store
        .wait_until(Duration::from_secs(20), |st| {
            st.trace(&created.trace_id)
                .is_some_and(|t| names.iter().all(|n| t.spans.iter().any(|s| s.name == *n)))
        })
        .await;
    assert!(
        complete,
        "the trace arrived: {:?}",
        store.trace(&created.trace_id).map(|t| t
            .spans
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>())
    );
    let trace = store.trace(&created.trace_id).expect("trace");
    let find = |service: &str, name: &str| {
        trace
            .spans
            .iter()
            .find(|s| s.service == service && s.name == name)
            .unwrap_or_else(|| {
                panic!(
                    "no span {service} {name} in {:?}",
                    trace
                        .spans
                        .iter()
                        .map(|s| (&s.service, &s.name))
                        .collect::<Vec<_>>()
                )
            })
    };
    let parent_of = |child: &rzero_collector::store::StoredSpan,
                     parent: &rzero_collector::store::StoredSpan| {
        assert_eq!(
            child.parent_span_id.as_deref(),
            Some(parent.span_id.as_str()),
            "{} under {}",
            child.name,
            parent.name
        );
    };
    let api = find("order-api", "POST /api/v1/orders");
    assert_eq!(api.parent_span_id, None);
    let api_client = find("order-api", "order.Order/CreateOrder");
    parent_of(api_client, api);
    let rpc = trace
        .spans
        .iter()
        .find(|s| {
            s.service == "order.rpc" && s.name == "order.Order/CreateOrder" && s.kind == "Server"
        })
        .expect("order-rpc server span");
    parent_of(rpc, api_client);
    let validate_user = find("order.rpc", "ValidateUser");
    parent_of(validate_user, rpc);
    let user_client = find("order.rpc", "user.User/GetUser");
    parent_of(user_client, validate_user);
    let user_server = find("user.rpc", "user.User/GetUser");
    parent_of(user_server, user_client);
    parent_of(find("user.rpc", "SELECT users"), user_server);
    let validate_product = find("order.rpc", "ValidateProduct");
    parent_of(validate_product, rpc);
    parent_of(find("order.rpc", "SELECT products"), validate_product);
    let insert = find("order.rpc", "InsertOrder");
    parent_of(insert, rpc);
    let db = find("order.rpc", "INSERT orders");
    parent_of(db, insert);
    let system = match sys.backend {
        Backend::Embedded => "sqlite",
        Backend::Distributed(_) => "mysql",
    };
    assert_eq!(
        db.attributes.get("db.system.name"),
        Some(&serde_json::json!(system))
    );
    let update = find("order.rpc", "UpdateCache");
    parent_of(update, rpc);
    if let Backend::Distributed(_) = sys.backend {
        // With Redis, the cache write is a span of its own under UpdateCache.
        let set = trace
            .spans
            .iter()
            .find(|s| {
                s.name == "SET" && s.parent_span_id.as_deref() == Some(update.span_id.as_str())
            })
            .expect("the Redis SET under UpdateCache");
        assert_eq!(
            set.attributes.get("db.system.name"),
            Some(&serde_json::json!("redis"))
        );
    }

    // The acknowledged order is in the database, to the cent.
    let got = call(sys.api, "GET", &format!("/api/v1/orders/{order_id}"), "").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["amount"], 99.99);
    assert_eq!(got.body["user_id"], 1);
    let pool = rzero_stores::sql::SqlPool::connect(&rzero_stores::sql::SqlPoolConf::new(
        sys.backend.data_source("order", sys.dir.path()),
    ))
    .await
    .expect("open the order database");
    let (cents,): (i64,) = pool
        .query("SELECT amount_cents FROM orders WHERE id = ?")
        .bind(order_id)
        .fetch_one()
        .await
        .expect("the order row");
    assert_eq!(cents, 9999);
    drop(sys.stops);
}

async fn errors_map_to_statuses_with_json_bodies(backend: Backend) {
    let sys = start(backend).await;
    let cases = [
        (
            r#"{"user_id": 0, "product_id": 1, "amount": 5}"#,
            400,
            "user_id",
        ),
        (
            r#"{"user_id": 1, "product_id": 1, "amount": -5}"#,
            400,
            "amount",
        ),
        (
            r#"{"user_id": 1, "product_id": 1, "amount": 1.001}"#,
            400,
            "two decimals",
        ),
        (r#"{"user_id": 1, "product_id": 1}"#, 400, "amount"),
        // Rounds to zero cents: refused, not stored as 0 (nor a 500 from a CHECK).
        (
            r#"{"user_id": 1, "product_id": 1, "amount": 1e-9}"#,
            400,
            "at least 0.01",
        ),
        (
            r#"{"user_id": "1", "product_id": 1, "amount": 5}"#,
            400,
            "user_id",
        ),
        (r#"not json"#, 400, "JSON"),
        (
            r#"{"user_id": 3, "product_id": 1, "amount": 5}"#,
            400,
            "inactive",
        ),
        (
            r#"{"user_id": 99, "product_id": 1, "amount": 5}"#,
            404,
            "user 99",
        ),
        (
            r#"{"user_id": 1, "product_id": 77, "amount": 5}"#,
            404,
            "product 77",
        ),
    ];
    let mut traces = Vec::new();
    for (body, status, says) in cases {
        let a = call(sys.api, "POST", "/api/v1/orders", body).await;
        traces.push(a.trace_id.clone());
        assert_eq!(a.status, status, "{body}: {}", a.body);
        assert_eq!(a.body["code"], status);
        let msg = a.body["msg"].as_str().unwrap_or_default();
        assert!(msg.contains(says), "{body}: {msg}");
    }
    for path in [
        "/api/v1/orders/abc",
        "/api/v1/orders/0",
        "/api/v1/orders/99999999999999999999",
    ] {
        assert_eq!(call(sys.api, "GET", path, "").await.status, 400, "{path}");
    }
    // Each error is on the span where it happened, with status Error and its type.
    let store = sys.collector.store();
    for (trace_id, span, kind) in [
        (&traces[1], "POST /api/v1/orders", "validation"),
        (&traces[7], "ValidateUser", "validation"),
        (&traces[8], "ValidateUser", "not_found"),
        (&traces[9], "ValidateProduct", "not_found"),
    ] {
        let found = store
            .wait_until(Duration::from_secs(20), |st| {
                st.trace(trace_id).is_some_and(|t| {
                    t.spans.iter().any(|s| {
                        s.name == span
                            && s.is_error()
                            && s.attributes.get("error.type") == Some(&serde_json::json!(kind))
                    })
                })
            })
            .await;
        assert!(found, "{span} with error.type={kind} in trace {trace_id}");
    }
    let missing = call(sys.api, "GET", "/api/v1/orders/424242", "").await;
    assert_eq!(missing.status, 404);
    assert!(
        missing.body["msg"]
            .as_str()
            .is_some_and(|m| m.contains("424242"))
    );

    // A second miss of the same id is answered by the not-found placeholder: its trace
    // has no database span.
    let again = call(sys.api, "GET", "/api/v1/orders/424242", "").await;
    assert_eq!(again.status, 404);
    let store = sys.collector.store();
    assert!(
        store
            .wait_for_trace(&again.trace_id, 3, Duration::from_secs(20))
            .await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let trace = store.trace(&again.trace_id).expect("trace");
    assert!(
        trace.spans.iter().all(|s| !s.name.starts_with("SELECT")),
        "{:?}",
        trace.spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    drop(sys.stops);
}

async fn user_rpc_down_answers_503_then_recovers_when_it_is_back(backend: Backend) {
    let mut sys = start(backend).await;
    // Stop user-rpc (the first service started).
    let user_stop = sys.stops.remove(0);
    user_stop.send(()).expect("stop user-rpc");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let a = call(sys.api, "POST", "/api/v1/orders", ORDER).await;
    assert_eq!(a.status, 503, "{}", a.body);
    assert!(
        a.body["msg"].as_str().is_some_and(|m| m.contains("retry")),
        "{}",
        a.body
    );
    let store = sys.collector.store();
    assert!(
        store
            .wait_for_trace(&a.trace_id, 4, Duration::from_secs(20))
            .await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let trace = store.trace(&a.trace_id).expect("trace");
    let validate = trace
        .spans
        .iter()
        .find(|s| s.name == "ValidateUser")
        .expect("ValidateUser");
    assert!(
        validate.is_error(),
        "the failed step is marked: {validate:?}"
    );
    assert_eq!(
        validate.attributes.get("error.type"),
        Some(&serde_json::json!("rpc"))
    );

    // user-rpc comes back on its address: creates succeed again (the breaker lets
    // probes through and closes), within a bound.
    let (_, _user_again) = start_user(
        &sys.backend,
        &sys.discovery,
        &sys.user_addr.to_string(),
        sys.dir.path(),
        &sys.otel,
    )
    .await;
    let mut recovered = false;
    for _ in 0..60 {
        if call(sys.api, "POST", "/api/v1/orders", ORDER).await.status == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        recovered,
        "creates succeed again within 30 s of user-rpc's return"
    );
    drop(sys.stops);
}

/// order-rpc goes away: the gateway answers 503 with JSON, and after repeated failures
/// its breaker answers at once instead of trying.
async fn order_rpc_down_answers_503_and_the_breaker_opens(backend: Backend) {
    let mut sys = start(backend).await;
    let order_stop = sys.stops.remove(1);
    order_stop.send(()).expect("stop order-rpc");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut breaker = 0;
    for _ in 0..100 {
        let a = call(sys.api, "POST", "/api/v1/orders", ORDER).await;
        assert_eq!(a.status, 503, "{}", a.body);
        assert_eq!(a.body["code"], 503);
        if a.body["msg"]
            .as_str()
            .is_some_and(|m| m.contains("circuit breaker"))
        {
            breaker += 1;
        }
    }
    assert!(
        breaker > 10,
        "the breaker refused {breaker} of 100 calls to a dead order-rpc"
    );
    drop(sys.stops);
}

/// The order database goes away: reads of uncached orders and creates answer 503 with a
/// JSON body, the failure is on the database span, and service resumes by itself when
/// the database is back.
async fn database_down_answers_503_then_recovers(name: &'static str) {
    let proxy = Proxy::start("127.0.0.1:3306").await;
    let sys = start_with(Backend::Distributed(name), &proxy.addr.to_string()).await;
    let created = call(sys.api, "POST", "/api/v1/orders", ORDER).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.body["order_id"].as_i64().expect("id");

    proxy.cut();
    let get = call(sys.api, "GET", &format!("/api/v1/orders/{}", id + 1000), "").await;
    assert_eq!(get.status, 503, "{}", get.body);
    assert!(
        get.body["msg"]
            .as_str()
            .is_some_and(|m| m.contains("unavailable")),
        "{}",
        get.body
    );
    let post = call(sys.api, "POST", "/api/v1/orders", ORDER).await;
    assert_eq!(post.status, 503, "{}", post.body);
    // The client is told what to do; the driver's text, queries and addresses stay on the
    // span and in the log.
    for answer in [&get, &post] {
        let msg = answer.body["msg"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase();
        for secret in [
            "127.0.0.1",
            "3306",
            "select",
            "insert",
            "sqlx",
            "mysql",
            "io error",
        ] {
            assert!(!msg.contains(secret), "{secret:?} in {msg}");
        }
    }
    // The cached order is still served while the database is away.
    let cached = call(sys.api, "GET", &format!("/api/v1/orders/{id}"), "").await;
    assert_eq!(cached.status, 200, "{}", cached.body);
    let store = sys.collector.store();
    let failed_db_span = store
        .wait_until(Duration::from_secs(20), |st| {
            st.trace(&post.trace_id).is_some_and(|t| {
                t.spans.iter().any(|s| {
                    s.name == "InsertOrder"
                        && s.is_error()
                        && s.attributes.get("error.type") == Some(&serde_json::json!("database"))
                })
            })
        })
        .await;
    assert!(
        failed_db_span,
        "InsertOrder failed with error.type=database on the trace"
    );

    proxy.restore();
    let mut recovered = false;
    for _ in 0..60 {
        if call(sys.api, "POST", "/api/v1/orders", ORDER).await.status == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        recovered,
        "creates succeed again within 30 s of the database's return"
    );
    drop(sys.stops);
}

/// A create retried with the same `Idempotency-Key` (one after the other, and eight at
/// once as a client that times out and retries would) returns the first order and leaves
/// one row; the key reused for other values is refused.
async fn retried_creates_with_one_key_make_one_order(backend: Backend) {
    let sys = start(backend).await;
    let key = |k: &str| format!("Idempotency-Key: {k}\r\n");
    let first = call_with(sys.api, "POST", "/api/v1/orders", &key("retry-1"), ORDER).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let again = call_with(sys.api, "POST", "/api/v1/orders", &key("retry-1"), ORDER).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["order_id"], first.body["order_id"]);

    let racing: Vec<_> = (0..8)
        .map(|_| {
            let (api, h) = (sys.api, key("race-1"));
            tokio::spawn(async move { call_with(api, "POST", "/api/v1/orders", &h, ORDER).await })
        })
        .collect();
    let mut ids = Vec::new();
    for r in racing {
        let a = r.await.expect("task");
        assert_eq!(a.status, 200, "{}", a.body);
        ids.push(a.body["order_id"].as_i64().expect("id"));
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "eight racing retries, one order: {ids:?}");

    let other = r#"{"user_id": 1, "product_id": 1, "amount": 5}"#;
    let misuse = call_with(sys.api, "POST", "/api/v1/orders", &key("retry-1"), other).await;
    assert_eq!(misuse.status, 400, "{}", misuse.body);
    assert!(
        misuse.body["msg"]
            .as_str()
            .is_some_and(|m| m.contains("new key"))
    );
    let bad = call_with(
        sys.api,
        "POST",
        "/api/v1/orders",
        &key(&"k".repeat(65)),
        ORDER,
    )
    .await;
    assert_eq!(bad.status, 400, "{}", bad.body);

    let pool = rzero_stores::sql::SqlPool::connect(&rzero_stores::sql::SqlPoolConf::new(
        sys.backend.data_source("order", sys.dir.path()),
    ))
    .await
    .expect("open the order database");
    for k in ["retry-1", "race-1"] {
        let (rows,): (i64,) = pool
            .query("SELECT COUNT(*) FROM orders WHERE idempotency_key = ?")
            .bind(k)
            .fetch_one()
            .await
            .expect("count");
        assert_eq!(rows, 1, "{k}");
    }
    drop(sys.stops);
}

// === the suite, on each backend ===

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_retried_creates_with_one_key_make_one_order() {
    retried_creates_with_one_key_make_one_order(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_one_request_is_one_trace_across_all_services() {
    one_request_is_one_trace_across_all_services(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_errors_map_to_statuses_with_json_bodies() {
    errors_map_to_statuses_with_json_bodies(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_user_rpc_down_answers_503_then_recovers() {
    user_rpc_down_answers_503_then_recovers_when_it_is_back(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_order_rpc_down_answers_503_and_the_breaker_opens() {
    order_rpc_down_answers_503_and_the_breaker_opens(Backend::Embedded).await;
}

/// One test for the MariaDB + Redis + etcd runs: they share Redis's key space, so they take
/// turns, each on fresh databases with the cached rows of the one before removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mariadb_redis_and_etcd_suite() {
    one_request_is_one_trace_across_all_services(Backend::Distributed("rzero_e2e_trace")).await;
    errors_map_to_statuses_with_json_bodies(Backend::Distributed("rzero_e2e_errors")).await;
    user_rpc_down_answers_503_then_recovers_when_it_is_back(Backend::Distributed(
        "rzero_e2e_outage",
    ))
    .await;
    database_down_answers_503_then_recovers("rzero_e2e_dbdown").await;
    retried_creates_with_one_key_make_one_order(Backend::Distributed("rzero_e2e_idem")).await;
}
