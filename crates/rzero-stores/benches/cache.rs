//! What cache-aside costs over doing the same by hand, against the real MariaDB and
//! Redis of SPEC §5, in one run so the figures compare as ratios:
//!
//! - `hit/*`: a row cached in Redis, read through [`CachedConn`] (traced with a real SDK
//!   tracer and meter, no exporter) and by hand (raw redis-rs `GET` + serde, untraced);
//! - `miss/*`: a key never seen, so `GET` misses, the row comes from MariaDB and is
//!   written back; by hand with raw sqlx (MySQL driver) and raw redis-rs, untraced;
//! - `memory_hit`: a cached read from the in-process cache, the embedded default: the
//!   cost of the helper alone, in ns.
//!
//! `cargo bench -p rzero-stores --bench cache -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::SdkTracerProvider;
use redis::AsyncCommands;
use rzero_conf::RedisConf;
use rzero_stores::cache::{Cache, CacheConf, CachedConn};
use rzero_stores::redis::RedisStore;
use rzero_stores::sql::{SqlPool, SqlPoolConf};
use rzero_stores::{StoreError, Telemetry};
use serde::{Deserialize, Serialize};
use tokio::runtime::Runtime;

const DB: &str = "rzero_stores_bench";
const PREFIX: &str = "rzero-stores-bench:";
const SELECT: &str = "SELECT id, name, balance_cents FROM users WHERE id = ?";

#[derive(Clone, Debug, Serialize, Deserialize)]
struct User {
    id: i64,
    name: String,
    balance_cents: i64,
}

struct Fixture {
    conn: CachedConn,
    memory: CachedConn,
    raw_db: sqlx::MySqlPool,
    raw_redis: redis::aio::ConnectionManager,
    _tracing: (SdkTracerProvider, SdkMeterProvider),
}

async fn load(db: SqlPool, id: i64) -> Result<User, StoreError> {
    let (id, name, balance_cents) = db.query(SELECT).bind(id).fetch_one().await?;
    Ok(User {
        id,
        name,
        balance_cents,
    })
}

async fn fixture() -> Fixture {
    let admin = SqlPool::connect_with(
        &SqlPoolConf::new("root@tcp(127.0.0.1:3306)/test"),
        Telemetry::global(),
    )
    .await
    .expect("MariaDB at 127.0.0.1:3306");
    for sql in [
        format!("DROP DATABASE IF EXISTS {DB}"),
        format!("CREATE DATABASE {DB}"),
        format!(
            "CREATE TABLE {DB}.users (id BIGINT PRIMARY KEY, name VARCHAR(64), balance_cents BIGINT)"
        ),
        format!("INSERT INTO {DB}.users VALUES (1, 'ann', 100)"),
    ] {
        admin.query(&sql).execute().await.expect("setup");
    }

    let tracer_provider = SdkTracerProvider::builder().build();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(
            PeriodicReader::builder(InMemoryMetricExporter::default())
                .with_interval(Duration::from_secs(3600))
                .build(),
        )
        .build();
    let telemetry = Telemetry::new(
        tracer_provider.tracer("bench"),
        &meter_provider.meter("bench"),
    );
    let conf = CacheConf {
        expiry: Duration::from_secs(60),
        ..CacheConf::default()
    };
    let pool = SqlPool::connect_with(
        &SqlPoolConf::new(format!("root@tcp(127.0.0.1:3306)/{DB}")),
        telemetry.clone(),
    )
    .await
    .expect("pool");
    let redis_conf = RedisConf {
        host: "127.0.0.1:6379".into(),
        ..RedisConf::default()
    };
    let redis = RedisStore::connect_with(&redis_conf, telemetry.clone())
        .await
        .expect("Redis at 127.0.0.1:6379");
    let conn = CachedConn::new(pool, redis, conf.clone());

    let sqlite = SqlPool::connect_with(&SqlPoolConf::sqlite_memory(), telemetry)
        .await
        .expect("sqlite");
    sqlite
        .query("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, balance_cents BIGINT)")
        .execute()
        .await
        .expect("schema");
    sqlite
        .query("INSERT INTO users VALUES (1, 'ann', 100)")
        .execute()
        .await
        .expect("seed");
    let memory = CachedConn::new(sqlite, Cache::memory(&conf), conf);

    let raw_db = sqlx::MySqlPool::connect(&format!("mysql://root@127.0.0.1:3306/{DB}"))
        .await
        .expect("raw pool");
    let raw_redis = redis::Client::open("redis://127.0.0.1:6379")
        .expect("client")
        .get_connection_manager()
        .await
        .expect("raw redis");
    Fixture {
        conn,
        memory,
        raw_db,
        raw_redis,
        _tracing: (tracer_provider, meter_provider),
    }
}

async fn raw_read(f: &Fixture, key: &str) -> User {
    let mut r = f.raw_redis.clone();
    if let Some(json) = r.get::<_, Option<String>>(key).await.expect("get") {
        return serde_json::from_str(&json).expect("decode");
    }
    let (id, name, balance_cents): (i64, String, i64) = sqlx::query_as(SELECT)
        .bind(1_i64)
        .fetch_one(&f.raw_db)
        .await
        .expect("select");
    let user = User {
        id,
        name,
        balance_cents,
    };
    let json = serde_json::to_string(&user).expect("encode");
    let _: () = r.set_ex(key, json, 60).await.expect("set");
    user
}

fn benches(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let f = rt.block_on(fixture());
    let hot = format!("{PREFIX}user:1");
    rt.block_on(raw_read(&f, &hot));
    let seq = AtomicU64::new(0);
    let fresh = || format!("{PREFIX}miss:{}", seq.fetch_add(1, Ordering::Relaxed));

    let mut g = c.benchmark_group("hit");
    g.bench_function("cached_conn", |b| {
        b.to_async(&rt).iter(|| async {
            let u: User = f
                .conn
                .query_row(&hot, |db| load(db, 1))
                .await
                .expect("read");
            black_box(u)
        })
    });
    g.bench_function("raw", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(raw_read(&f, &hot).await) })
    });
    g.finish();

    let mut g = c.benchmark_group("miss");
    g.bench_function("cached_conn", |b| {
        b.to_async(&rt).iter(|| async {
            let u: User = f
                .conn
                .query_row(&fresh(), |db| load(db, 1))
                .await
                .expect("read");
            black_box(u)
        })
    });
    g.bench_function("raw", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(raw_read(&f, &fresh()).await) })
    });
    g.finish();

    rt.block_on(async {
        let _: User = f
            .memory
            .query_row(&hot, |db| load(db, 1))
            .await
            .expect("warm");
    });
    c.bench_function("memory_hit", |b| {
        b.to_async(&rt).iter(|| async {
            let u: User = f
                .memory
                .query_row(&hot, |db| load(db, 1))
                .await
                .expect("read");
            black_box(u)
        })
    });
}

criterion_group!(cache, benches);
criterion_main!(cache);
