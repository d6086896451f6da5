//! Cache-aside against real MariaDB + Redis, and SQLite + the in-process cache.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{GUARD, Recorded, attr, closed_port, mariadb, prefix, redis_conf};
use opentelemetry::trace::Status;
use rzero_conf::RedisConf;
use rzero_stores::cache::{Cache, CacheConf, CachedConn, NOT_FOUND_PLACEHOLDER};
use rzero_stores::redis::RedisStore;
use rzero_stores::sql::{SqlPool, SqlPoolConf};
use rzero_stores::{StoreError, Telemetry};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct User {
    id: i64,
    name: String,
    balance_cents: i64,
}

/// A repository as a service writes one: every load is counted.
#[derive(Clone)]
struct Users {
    conn: CachedConn,
    prefix: String,
    loads: Arc<AtomicUsize>,
}

impl Users {
    async fn new(pool: SqlPool, cache: Cache, prefix: String) -> Self {
        let ddl = match pool.system() {
            rzero_stores::sql::DbSystem::MySql => {
                "CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL, balance_cents BIGINT NOT NULL)"
            }
            rzero_stores::sql::DbSystem::Sqlite => {
                "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, balance_cents BIGINT NOT NULL)"
            }
        };
        pool.query(ddl).execute().await.expect("schema");
        pool.query(
            "INSERT INTO users (id, name, balance_cents) VALUES (1, 'ann', 100), (2, 'bob', 200)",
        )
        .execute()
        .await
        .expect("seed");
        let conf = CacheConf {
            not_found_expiry: Duration::from_millis(300),
            ..CacheConf::default()
        };
        Users {
            conn: CachedConn::new(pool, cache, conf),
            prefix,
            loads: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn key(&self, id: i64) -> String {
        format!("{}user:id:{id}", self.prefix)
    }

    async fn find(&self, id: i64) -> Result<User, StoreError> {
        let loads = self.loads.clone();
        self.conn
            .query_row(&self.key(id), move |db| async move {
                loads.fetch_add(1, Ordering::SeqCst);
                // Slow enough that every concurrent miss arrives while it runs.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let (id, name, balance_cents): (i64, String, i64) = db
                    .query("SELECT id, name, balance_cents FROM users WHERE id = ?")
                    .bind(id)
                    .fetch_one()
                    .await?;
                Ok(User {
                    id,
                    name,
                    balance_cents,
                })
            })
            .await
    }

    async fn set_balance(&self, id: i64, cents: i64) -> Result<u64, StoreError> {
        let key = self.key(id);
        self.conn
            .exec(&[&key], move |db| async move {
                let r = db
                    .query("UPDATE users SET balance_cents = ? WHERE id = ?")
                    .bind(cents)
                    .bind(id)
                    .execute()
                    .await?;
                Ok(r.rows_affected)
            })
            .await
    }

    fn loads(&self) -> usize {
        self.loads.load(Ordering::SeqCst)
    }
}

async fn hundred_cold_reads(users: &Users) {
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let users = users.clone();
            tokio::spawn(async move { users.find(1).await })
        })
        .collect();
    for t in tasks {
        let user = tokio::time::timeout(GUARD, t)
            .await
            .expect("guard")
            .expect("task")
            .expect("read");
        assert_eq!(user.name, "ann");
    }
    assert_eq!(
        users.loads(),
        1,
        "100 concurrent misses of one key make one query"
    );
}

async fn absent_rows_stop_at_the_cache(users: &Users) {
    for _ in 0..5 {
        assert_eq!(users.find(404).await, Err(StoreError::NotFound));
    }
    assert_eq!(users.loads(), 1, "the placeholder answers repeated misses");
    let raw = users
        .conn
        .cache()
        .get(&users.key(404))
        .await
        .expect("cache");
    assert_eq!(raw.as_deref(), Some(NOT_FOUND_PLACEHOLDER));
}

async fn writes_invalidate(users: &Users) {
    assert_eq!(users.find(2).await.expect("read").balance_cents, 200);
    // Behind the cache's back: the cached row stays.
    users
        .conn
        .db()
        .query("UPDATE users SET balance_cents = 1 WHERE id = 2")
        .execute()
        .await
        .expect("raw update");
    assert_eq!(users.find(2).await.expect("cached").balance_cents, 200);
    // Through exec: the key goes, the next read loads the new row.
    assert_eq!(users.set_balance(2, 250).await.expect("write"), 1);
    assert_eq!(users.find(2).await.expect("reloaded").balance_cents, 250);
}

async fn mariadb_redis(name: &str, rec: &Recorded) -> Users {
    let pool = SqlPool::connect_with(&mariadb(name).await, rec.telemetry.clone())
        .await
        .expect("pool");
    let redis = RedisStore::connect_with(&redis_conf(), rec.telemetry.clone())
        .await
        .expect("redis");
    Users::new(pool, redis.into(), prefix(name)).await
}

async fn sqlite_memory(name: &str) -> Users {
    let pool = SqlPool::connect_with(&SqlPoolConf::sqlite_memory(), Telemetry::global())
        .await
        .expect("pool");
    Users::new(pool, Cache::memory(&CacheConf::default()), prefix(name)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_concurrent_cold_reads_make_one_query_with_redis() {
    let rec = Recorded::new();
    let users = mariadb_redis("flight", &rec).await;
    hundred_cold_reads(&users).await;
    let selects = rec
        .spans()
        .iter()
        .filter(|s| s.name == "SELECT users")
        .count();
    assert_eq!(selects, 1, "one SELECT span on users");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_concurrent_cold_reads_make_one_query_in_memory() {
    hundred_cold_reads(&sqlite_memory("flight_mem").await).await;
}

#[tokio::test]
async fn absent_row_is_remembered_as_a_placeholder_with_redis() {
    let rec = Recorded::new();
    let users = mariadb_redis("absent", &rec).await;
    absent_rows_stop_at_the_cache(&users).await;
    // The placeholder is short-lived: once it expires the database is asked again.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(users.find(404).await, Err(StoreError::NotFound));
    assert_eq!(users.loads(), 2);
}

#[tokio::test]
async fn absent_row_is_remembered_as_a_placeholder_in_memory() {
    absent_rows_stop_at_the_cache(&sqlite_memory("absent_mem").await).await;
}

#[tokio::test]
async fn writes_delete_the_keys_they_touch_with_redis() {
    let rec = Recorded::new();
    writes_invalidate(&mariadb_redis("invalidate", &rec).await).await;
}

#[tokio::test]
async fn writes_delete_the_keys_they_touch_in_memory() {
    writes_invalidate(&sqlite_memory("invalidate_mem").await).await;
}

#[tokio::test]
async fn redis_down_reads_and_writes_still_succeed_from_the_database() {
    let rec = Recorded::new();
    let pool = SqlPool::connect_with(&mariadb("redis_down").await, rec.telemetry.clone())
        .await
        .expect("pool");
    let conf = RedisConf {
        host: format!("127.0.0.1:{}", closed_port()),
        ..RedisConf::default()
    };
    let redis = RedisStore::connect_with(&conf, rec.telemetry.clone())
        .await
        .expect("starts while Redis is down");
    let users = Users::new(pool, redis.into(), prefix("redis_down")).await;

    for _ in 0..3 {
        let user = tokio::time::timeout(GUARD, users.find(1))
            .await
            .expect("guard");
        assert_eq!(user.expect("read from the database").name, "ann");
    }
    assert_eq!(users.loads(), 3, "no cache: every read asks the database");
    assert_eq!(users.find(404).await, Err(StoreError::NotFound));
    assert_eq!(users.set_balance(1, 5).await.expect("write succeeds"), 1);
    assert_eq!(users.find(1).await.expect("read").balance_cents, 5);

    let spans = rec.spans();
    let failed = spans
        .iter()
        .filter(|s| attr(s, "db.system.name").as_deref() == Some("redis"))
        .filter(|s| matches!(s.status, Status::Error { .. }))
        .count();
    assert!(failed >= 3, "Redis failures are on their spans ({failed})");
}

#[tokio::test]
async fn database_down_reads_are_unavailable_and_leave_no_placeholder() {
    let mut conf = SqlPoolConf::new(format!("root@tcp(127.0.0.1:{})/test", closed_port()));
    conf.connect_timeout = Duration::from_millis(300);
    conf.timeout = Duration::from_millis(300);
    let pool = SqlPool::connect_lazy(&conf, Telemetry::global()).expect("lazy pool");
    let cache = Cache::memory(&CacheConf::default());
    let conn = CachedConn::new(pool, cache.clone(), CacheConf::default());
    let read = conn.query_row("user:id:1", |db| async move {
        let (name,): (String,) = db
            .query("SELECT name FROM users WHERE id = 1")
            .fetch_one()
            .await?;
        Ok(name)
    });
    let err = tokio::time::timeout(GUARD, read)
        .await
        .expect("answers within the guard")
        .expect_err("database down");
    assert!(err.is_unavailable(), "{err:?}");
    assert_eq!(cache.get("user:id:1").await.expect("memory"), None);
}

#[tokio::test]
async fn an_unreadable_cached_value_is_replaced_from_the_database() {
    let users = sqlite_memory("unreadable").await;
    let key = users.key(1);
    users
        .conn
        .cache()
        .set(
            &key,
            "{\"an\":\"older layout\"}".into(),
            Duration::from_secs(60),
        )
        .await
        .expect("set");
    assert_eq!(users.find(1).await.expect("reloaded").name, "ann");
    assert_eq!(users.loads(), 1);
    assert_eq!(users.find(1).await.expect("cached").name, "ann");
    assert_eq!(users.loads(), 1);
}

/// The delete-after-write race, played in order: a miss reads the old row, a write
/// commits and deletes the key, then the miss finishes. The old row must not be put
/// back: the next read sees the write. (Without the lease the next read was the old row,
/// for the whole expiry.)
async fn a_load_that_read_before_a_write_does_not_cache_the_old_row(users: &Users) {
    let key = users.key(1);
    let (read_tx, read_rx) = tokio::sync::oneshot::channel::<()>();
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    let reader = {
        let (conn, key) = (users.conn.clone(), key.clone());
        tokio::spawn(async move {
            conn.query_row(&key, move |db| async move {
                let (balance_cents,): (i64,) = db
                    .query("SELECT balance_cents FROM users WHERE id = 1")
                    .fetch_one()
                    .await?;
                let _ = read_tx.send(());
                let _ = go_rx.await;
                Ok(User {
                    id: 1,
                    name: "ann".into(),
                    balance_cents,
                })
            })
            .await
        })
    };
    tokio::time::timeout(GUARD, read_rx)
        .await
        .expect("guard")
        .expect("the reader read the old row");
    assert_eq!(users.set_balance(1, 999).await, Ok(1));
    let _ = go_tx.send(());
    let old: User = tokio::time::timeout(GUARD, reader)
        .await
        .expect("guard")
        .expect("task")
        .expect("read");
    assert_eq!(old.balance_cents, 100, "it read before the write");
    assert_eq!(
        users.find(1).await.expect("read").balance_cents,
        999,
        "the old row was not put back after the write's delete"
    );
    // And the lease did not stop caching: the fresh row is now served from the cache.
    let loads = users.loads();
    assert_eq!(users.find(1).await.expect("read").balance_cents, 999);
    assert_eq!(users.loads(), loads);
}

#[tokio::test]
async fn a_stale_load_does_not_overwrite_a_write_with_redis() {
    let rec = Recorded::new();
    let users = mariadb_redis("lease_race", &rec).await;
    a_load_that_read_before_a_write_does_not_cache_the_old_row(&users).await;
}

#[tokio::test]
async fn a_stale_load_does_not_overwrite_a_write_in_memory() {
    a_load_that_read_before_a_write_does_not_cache_the_old_row(&sqlite_memory("lease_mem").await)
        .await;
}
