//! Statement timeouts follow the caller's deadline (issue 15, item 6): a CreateOrder whose
//! INSERT waits on a lock held by another connection gives up when the caller's
//! `grpc-timeout` (300 ms) runs out, not after the pool's fixed statement timeout (6 s),
//! and the insert it gave up on never commits, even once the lock is gone; the client's
//! retry with the same idempotency key then makes exactly one row. Real MariaDB.

use std::time::{Duration, Instant};

use order_rpc::pb::order::CreateOrderRequest;
use order_rpc::pb::order::order_client::OrderClient;
use rzero_conf::Loader;
use rzero_stores::sql::{SqlPool, SqlPoolConf};
use tonic::Code;

const DB: &str = "rzero_deadline";

fn telemetry(name: &str) -> rzero_telemetry::TelemetryGuard {
    rzero_telemetry::Telemetry::new(name, "test")
        .env(vec![("OTEL_SDK_DISABLED".to_owned(), "true".to_owned())])
        .without_subscriber()
        .init()
        .expect("telemetry")
}

async fn admin(db: &str) -> SqlPool {
    SqlPool::connect(&SqlPoolConf::new(format!("root:@tcp(127.0.0.1:3306)/{db}")))
        .await
        .expect("MariaDB on 127.0.0.1:3306 (cargo xtask test starts it)")
}

/// user-rpc and order-rpc on fresh databases; order-rpc's address.
async fn start() -> std::net::SocketAddr {
    let root = admin("test").await;
    for svc in ["user", "order"] {
        for sql in [
            format!("DROP DATABASE IF EXISTS {DB}_{svc}"),
            format!("CREATE DATABASE {DB}_{svc}"),
        ] {
            root.query(&sql).execute().await.expect("reset");
        }
    }
    let yaml = format!(
        "Name: user.rpc\nListenOn: 127.0.0.1:0\nMysql:\n  DataSource: root:@tcp(127.0.0.1:3306)/{DB}_user\n  Migrate: true\n"
    );
    let conf: user_rpc::config::Config = Loader::new().load_str("user.yaml", &yaml).expect("conf");
    let user = user_rpc::server(conf, telemetry("user.rpc"))
        .await
        .expect("user-rpc")
        .bind()
        .await
        .expect("bind");
    let user_addr = user.local_addr();
    tokio::spawn(user.serve(std::future::pending()));
    let yaml = format!(
        "Name: order.rpc\nListenOn: 127.0.0.1:0\nMysql:\n  DataSource: root:@tcp(127.0.0.1:3306)/{DB}_order\n  Migrate: true\n\
         UserRpc:\n  Endpoints: [\"{user_addr}\"]\n"
    );
    let conf: order_rpc::config::Config =
        Loader::new().load_str("order.yaml", &yaml).expect("conf");
    let order = order_rpc::server(conf, telemetry("order.rpc"))
        .await
        .expect("order-rpc")
        .bind()
        .await
        .expect("bind");
    let addr = order.local_addr();
    tokio::spawn(order.serve(std::future::pending()));
    addr
}

fn create(key: &str, timeout: Duration) -> tonic::Request<CreateOrderRequest> {
    let mut r = tonic::Request::new(CreateOrderRequest {
        user_id: 1,
        product_id: 1,
        amount: 12.34,
        idempotency_key: key.to_owned(),
    });
    r.set_timeout(timeout);
    r
}

async fn rows_with(db: &SqlPool, key: &str) -> Vec<(i64, i64)> {
    db.query("SELECT id, amount_cents FROM orders WHERE idempotency_key = ?")
        .bind(key)
        .fetch_all()
        .await
        .expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_past_its_deadline_fails_fast_and_leaves_no_row() {
    let addr = start().await;
    let mut client = OrderClient::connect(format!("http://{addr}"))
        .await
        .expect("connect");
    // Warm: migrations ran, the pools hold connections.
    let warm = client
        .create_order(create("warm-up", Duration::from_secs(10)))
        .await;
    assert!(warm.is_ok(), "{warm:?}");

    // Another connection locks the table's index: every INSERT waits (InnoDB next-key
    // locks up to the supremum), reads do not.
    let db = admin(&format!("{DB}_order")).await;
    let mut lock = db.begin().await.expect("begin");
    let _: Vec<(i64,)> = lock
        .query("SELECT id FROM orders FOR UPDATE")
        .fetch_all()
        .await
        .expect("lock");

    let key = "deadline-7f1c0b9e";
    let started = Instant::now();
    let refused = client
        .create_order(create(key, Duration::from_millis(300)))
        .await
        .expect_err("the insert cannot finish while the lock is held");
    let took = started.elapsed();
    eprintln!(
        "[deadline] CreateOrder with grpc-timeout 300 ms under a held lock: {:?} after {took:?}: {}",
        refused.code(),
        refused.message()
    );
    assert!(
        matches!(refused.code(), Code::Unavailable | Code::DeadlineExceeded),
        "{refused:?}"
    );

    // The lock goes; the cancelled insert must not commit now. Wait until no statement of
    // order-rpc is left running on the database (bounded), then look.
    lock.rollback().await.expect("unlock");
    let mut idle = false;
    for _ in 0..200 {
        let (busy,): (i64,) = db
            .query(
                "SELECT COUNT(*) FROM information_schema.processlist \
                 WHERE db = ? AND command <> 'Sleep' AND id <> CONNECTION_ID()",
            )
            .bind(format!("{DB}_order"))
            .fetch_one()
            .await
            .expect("processlist");
        if busy == 0 {
            idle = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        idle,
        "order-rpc's statements ended within 20 s of the unlock"
    );
    assert_eq!(
        rows_with(&db, key).await,
        vec![],
        "the create the caller was told to retry committed anyway"
    );

    // The client's retry with the same key: one order, to the cent.
    let retry = client
        .create_order(create(key, Duration::from_secs(10)))
        .await
        .expect("the retry succeeds")
        .into_inner();
    let again = client
        .create_order(create(key, Duration::from_secs(10)))
        .await
        .expect("a second retry succeeds")
        .into_inner();
    assert_eq!(retry.order_id, again.order_id, "same key, same order");
    assert_eq!(rows_with(&db, key).await, vec![(retry.order_id, 1234)]);
}
