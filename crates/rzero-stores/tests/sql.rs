//! The SQL pool against real MariaDB and SQLite: CRUD, migrations, errors, spans.

mod common;

use std::time::Duration;

use common::{GUARD, Recorded, attr, closed_port, mariadb};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer, TracerProvider as _};
use rzero_stores::sql::{DbSystem, Migration, Migrations, SqlPool, SqlPoolConf};
use rzero_stores::{StoreError, Telemetry};

const MYSQL_SCHEMA: &str = "CREATE TABLE users (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(64) NOT NULL UNIQUE,
    balance_cents BIGINT NOT NULL
)";

const SQLITE_SCHEMA: &str = "CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    balance_cents BIGINT NOT NULL
)";

async fn crud(pool: &SqlPool) {
    let id = pool
        .query("INSERT INTO users (name, balance_cents) VALUES (?, ?)")
        .bind("ann")
        .bind(1050_i64)
        .execute()
        .await
        .expect("insert")
        .last_insert_id
        .expect("an id");
    let (name, cents): (String, i64) = pool
        .query("SELECT name, balance_cents FROM users WHERE id = ?")
        .bind(id)
        .fetch_one()
        .await
        .expect("select");
    assert_eq!((name.as_str(), cents), ("ann", 1050));

    let updated = pool
        .query("UPDATE users SET balance_cents = ? WHERE id = ?")
        .bind(99_i64)
        .bind(id)
        .execute()
        .await
        .expect("update");
    assert_eq!(updated.rows_affected, 1);
    let all: Vec<(i64, String)> = pool
        .query("SELECT id, name FROM users ORDER BY id")
        .fetch_all()
        .await
        .expect("all");
    assert_eq!(all, vec![(id, "ann".to_owned())]);

    let dup = pool
        .query("INSERT INTO users (name, balance_cents) VALUES (?, 0)")
        .bind("ann")
        .execute()
        .await
        .expect_err("duplicate name");
    assert!(dup.is_conflict(), "{dup:?}");

    pool.query("DELETE FROM users WHERE id = ?")
        .bind(id)
        .execute()
        .await
        .expect("delete");
    let gone = pool
        .query("SELECT name FROM users WHERE id = ?")
        .bind(id)
        .fetch_one::<(String,)>()
        .await
        .expect_err("deleted");
    assert_eq!(gone, StoreError::NotFound);
    let none: Option<(String,)> = pool
        .query("SELECT name FROM users WHERE id = ?")
        .bind(id)
        .fetch_optional()
        .await
        .expect("optional");
    assert_eq!(none, None);
}

#[tokio::test]
async fn crud_through_a_mariadb_pool_from_a_go_zero_dsn() {
    let conf = mariadb("crud").await;
    let pool = SqlPool::connect_with(&conf, Telemetry::global())
        .await
        .expect("connect");
    assert_eq!(pool.system(), DbSystem::MySql);
    pool.query(MYSQL_SCHEMA).execute().await.expect("schema");
    crud(&pool).await;
}

#[tokio::test]
async fn transactions_commit_or_roll_back_with_each_statement_traced() {
    let rec = Recorded::new();
    let conf = mariadb("tx").await;
    let pool = SqlPool::connect_with(&conf, rec.telemetry.clone())
        .await
        .expect("connect");
    pool.query(MYSQL_SCHEMA).execute().await.expect("schema");

    let mut tx = pool.begin().await.expect("begin");
    let id = tx
        .query("INSERT INTO users (name, balance_cents) VALUES (?, 1)")
        .bind("kept")
        .execute()
        .await
        .expect("insert")
        .last_insert_id;
    assert!(id.is_some());
    tx.commit().await.expect("commit");

    let mut tx = pool.begin().await.expect("begin");
    tx.query("INSERT INTO users (name, balance_cents) VALUES ('undone', 2)")
        .execute()
        .await
        .expect("insert");
    let (inside,): (i64,) = tx
        .query("SELECT COUNT(*) FROM users")
        .fetch_one()
        .await
        .expect("count inside");
    assert_eq!(inside, 2);
    tx.rollback().await.expect("rollback");

    let names: Vec<(String,)> = pool
        .query("SELECT name FROM users ORDER BY id")
        .fetch_all()
        .await
        .expect("names");
    assert_eq!(names, vec![("kept".to_owned(),)]);
    let spans: Vec<String> = rec.spans().iter().map(|s| s.name.to_string()).collect();
    for name in [
        "BEGIN rzero_stores_tx",
        "COMMIT rzero_stores_tx",
        "ROLLBACK rzero_stores_tx",
    ] {
        assert!(spans.iter().any(|s| s == name), "{name} in {spans:?}");
    }
}

#[tokio::test]
async fn crud_through_an_in_memory_sqlite_pool_shared_by_its_connections() {
    let mut conf = SqlPoolConf::sqlite_memory();
    conf.max_open_conns = 4;
    let pool = SqlPool::connect_with(&conf, Telemetry::global())
        .await
        .expect("connect");
    assert_eq!(pool.system(), DbSystem::Sqlite);
    pool.query(SQLITE_SCHEMA).execute().await.expect("schema");
    // Several connections at once must all see the one database.
    let counts = futures_join(&pool).await;
    assert!(counts.iter().all(|c| *c == 0), "{counts:?}");
    crud(&pool).await;
}

async fn futures_join(pool: &SqlPool) -> Vec<i64> {
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let (n,): (i64,) = pool
                .query("SELECT COUNT(*) FROM users")
                .fetch_one()
                .await
                .expect("count");
            n
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

#[tokio::test]
async fn sqlite_file_is_created_and_embedded_migrations_run_once() {
    let dir = std::env::temp_dir().join(format!("rzero-stores-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("migrate.db");
    let _ = std::fs::remove_file(&file);
    let mut conf = SqlPoolConf::new(format!("sqlite://{}", file.display()));
    conf.migrate = true;
    let migrations = Migrations::new([
        Migration::new(
            2,
            "seed",
            "INSERT INTO users (name, balance_cents) VALUES ('root', 0);",
        ),
        Migration::new(1, "users", SQLITE_SCHEMA),
    ]);
    for _ in 0..2 {
        let pool = SqlPool::open(&conf, Telemetry::global(), &migrations)
            .await
            .expect("open and migrate");
        let (n,): (i64,) = pool
            .query("SELECT COUNT(*) FROM users")
            .fetch_one()
            .await
            .expect("count");
        assert_eq!(n, 1, "the seed ran exactly once");
        pool.close().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn statements_are_client_spans_with_db_conventions_and_no_secret() {
    const SECRET: &str = "hunter2-s3cret";
    let conf = mariadb("spans").await;
    // A user with a password, so there is a secret to leak.
    let admin = SqlPool::connect_with(&conf, Telemetry::global())
        .await
        .expect("admin");
    for host in ["%", "localhost", "127.0.0.1"] {
        admin
            .query(&format!(
                "CREATE OR REPLACE USER 'rzero_stores_spans'@'{host}' IDENTIFIED BY '{SECRET}'"
            ))
            .execute()
            .await
            .expect("user");
        admin
            .query(&format!(
                "GRANT ALL ON rzero_stores_spans.* TO 'rzero_stores_spans'@'{host}'"
            ))
            .execute()
            .await
            .expect("grant");
    }
    admin.close().await;

    let rec = Recorded::new();
    let mut conf = SqlPoolConf::new(format!(
        "rzero_stores_spans:{SECRET}@tcp(127.0.0.1:3306)/rzero_stores_spans"
    ));
    conf.slow_threshold = Duration::ZERO; // every statement is "slow": the log path runs
    let pool = SqlPool::connect_with(&conf, rec.telemetry.clone())
        .await
        .expect("connect");
    pool.query(MYSQL_SCHEMA).execute().await.expect("schema");

    // Under a parent span made with the opentelemetry API.
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let parent = provider.tracer("test").start("parent");
    let parent_cx = opentelemetry::Context::current_with_span(parent);
    let parent_id = parent_cx.span().span_context().span_id();
    {
        let _g = parent_cx.clone().attach();
        pool.query("INSERT INTO users (name, balance_cents) VALUES (?, 5)")
            .bind("secret-value-ann")
            .execute()
            .await
            .expect("insert");
    }
    pool.query("SELECT name FROM users WHERE name = 'literal-bob' AND id > 7")
        .fetch_optional::<(String,)>()
        .await
        .expect("select");
    let err = pool
        .query("SELECT nope FROM users")
        .execute()
        .await
        .expect_err("bad column");
    assert!(!err.to_string().contains(SECRET));

    let spans = rec.spans();
    let insert = spans
        .iter()
        .find(|s| s.name == "INSERT users")
        .expect("insert span");
    assert_eq!(insert.span_kind, SpanKind::Client);
    assert_eq!(insert.parent_span_id, parent_id);
    assert_eq!(attr(insert, "db.system.name").as_deref(), Some("mysql"));
    assert_eq!(
        attr(insert, "db.namespace").as_deref(),
        Some("rzero_stores_spans")
    );
    assert_eq!(attr(insert, "db.operation.name").as_deref(), Some("INSERT"));
    assert_eq!(attr(insert, "db.collection.name").as_deref(), Some("users"));
    assert_eq!(attr(insert, "server.address").as_deref(), Some("127.0.0.1"));
    assert_eq!(attr(insert, "server.port").as_deref(), Some("3306"));
    assert_eq!(
        attr(insert, "db.query.text").as_deref(),
        Some("INSERT INTO users (name, balance_cents) VALUES (?, ?)")
    );
    let select = spans
        .iter()
        .find(|s| s.name == "SELECT users")
        .expect("select span");
    assert_eq!(
        attr(select, "db.query.text").as_deref(),
        Some("SELECT name FROM users WHERE name = ? AND id > ?")
    );
    let failed = spans.last().expect("the failed statement");
    assert!(matches!(failed.status, Status::Error { .. }));
    assert_eq!(attr(failed, "error.type").as_deref(), Some("query"));

    assert!(!format!("{pool:?}").contains(SECRET), "Debug of the pool");
    let everything = format!("{spans:?}");
    for leak in [SECRET, "secret-value-ann", "literal-bob"] {
        assert!(!everything.contains(leak), "`{leak}` leaked into a span");
    }
    let durations = rec.durations();
    let insert_points: u64 = durations
        .iter()
        .filter(|(a, _)| {
            a.iter()
                .any(|kv| kv.key.as_str() == "db.operation.name" && kv.value.as_str() == "INSERT")
        })
        .map(|(_, n)| n)
        .sum();
    assert_eq!(insert_points, 1);
    assert!(
        durations
            .iter()
            .any(|(a, _)| a.iter().any(|kv| kv.key.as_str() == "error.type"))
    );
}

#[tokio::test]
async fn wrong_password_errors_do_not_echo_it() {
    let conf = SqlPoolConf::new("root:not-the-password-xyz@tcp(127.0.0.1:3306)/test");
    let err = SqlPool::connect_with(&conf, Telemetry::global())
        .await
        .expect_err("root has no password");
    assert!(!err.to_string().contains("not-the-password-xyz"), "{err}");
    assert!(!format!("{err:?}").contains("not-the-password-xyz"));
}

#[tokio::test]
async fn database_down_is_unavailable_not_a_hang() {
    let rec = Recorded::new();
    let mut conf = SqlPoolConf::new(format!("root:pw@tcp(127.0.0.1:{})/test", closed_port()));
    conf.connect_timeout = Duration::from_millis(300);
    conf.timeout = Duration::from_millis(300);
    let started = tokio::time::timeout(GUARD, SqlPool::connect_with(&conf, rec.telemetry.clone()))
        .await
        .expect("connect answers within the guard");
    assert!(
        matches!(started, Err(StoreError::Unavailable(_))),
        "{started:?}"
    );

    // A pool opened lazily starts, and its statements fail as unavailable.
    let pool = SqlPool::connect_lazy(&conf, rec.telemetry.clone()).expect("lazy pool");
    let err = tokio::time::timeout(GUARD, pool.query("SELECT 1").execute())
        .await
        .expect("a statement answers within the guard")
        .expect_err("database is down");
    assert!(err.is_unavailable(), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("127.0.0.1:") && !msg.contains(":pw@"), "{msg}");
    let span = rec.spans().pop().expect("span");
    assert_eq!(attr(&span, "error.type").as_deref(), Some("unavailable"));
}

/// A migration longer than `Timeout` (a big `ALTER TABLE`) runs to its end: migrations
/// are not cut off by the timeout meant for requests' statements.
#[tokio::test]
async fn a_migration_longer_than_the_statement_timeout_completes() {
    let mut conf = mariadb("slow_migration").await;
    conf.timeout = Duration::from_millis(200);
    conf.connect_timeout = Duration::from_millis(300);
    conf.migrate = true;
    let migrations = Migrations::new([Migration::new(
        1,
        "slow",
        "CREATE TABLE t (id INT PRIMARY KEY); DO SLEEP(1.0); INSERT INTO t VALUES (1);",
    )]);
    let pool = SqlPool::open(&conf, rzero_stores::Telemetry::global(), &migrations)
        .await
        .expect("the slow migration completes");
    let (n,): (i64,) = pool
        .query("SELECT COUNT(*) FROM t")
        .fetch_one()
        .await
        .expect("count");
    assert_eq!(n, 1);
    // Ordinary statements still have their timeout.
    let slow = pool.query("DO SLEEP(1.0)").execute().await;
    assert!(matches!(slow, Err(StoreError::Unavailable(_))), "{slow:?}");
    pool.close().await;
}
