//! Stores for rzero: SQL (MySQL/MariaDB, SQLite) and Redis, traced with the
//! OpenTelemetry DB semantic conventions, and go-zero's cache-aside on top.
//!
//! go-zero's `sqlx`, `redis` and `sqlc.CachedConn`, on sqlx and redis-rs. Every SQL
//! statement and every Redis command is a CLIENT span under the current
//! `opentelemetry::Context` and a point in the `db.client.operation.duration` histogram;
//! values never reach a span and passwords never reach a span, a log or an error.
//!
//! | module | holds |
//! |---|---|
//! | [`sql`] | [`SqlPool`](sql::SqlPool) and its transactions ([`Tx`](sql::Tx)), its config, data-source parsing, migrations |
//! | [`redis`] | [`RedisStore`](redis::RedisStore), a traced client from `RedisConf` |
//! | [`limit`] | [`PeriodLimit`](limit::PeriodLimit) and [`TokenLimit`](limit::TokenLimit): go-zero's rate limits shared through Redis |
//! | [`cache`] | [`CachedConn`](cache::CachedConn) (cache-aside with single-flight and not-found placeholders), the in-process [`MemoryCache`](cache::MemoryCache) |
//! | `error.rs` | [`StoreError`]: not found / conflict / unavailable / query / config |
//! | `telemetry.rs` | [`Telemetry`]: the tracer and histogram stores report to |
//!
//! The embedded default, SQLite in memory with the in-process cache:
//!
//! ```
//! use rzero_stores::cache::{Cache, CacheConf, CachedConn};
//! use rzero_stores::sql::{SqlPool, SqlPoolConf};
//! use rzero_stores::{StoreError, Telemetry};
//!
//! /// A repository method: go-zero's `FindOne` of a generated model.
//! async fn find_user(conn: &CachedConn, id: i64) -> Result<String, StoreError> {
//!     let key = format!("cache:user:id:{id}");
//!     conn.query_row(&key, |db| async move {
//!         let (name,): (String,) = db
//!             .query("SELECT name FROM users WHERE id = ?")
//!             .bind(id)
//!             .fetch_one()
//!             .await?;
//!         Ok(name)
//!     })
//!     .await
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let pool = SqlPool::connect_with(&SqlPoolConf::sqlite_memory(), Telemetry::global()).await?;
//! pool.query("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)").execute().await?;
//! pool.query("INSERT INTO users (id, name) VALUES (1, 'ann')").execute().await?;
//!
//! let conf = CacheConf::default();
//! let conn = CachedConn::new(pool, Cache::memory(&conf), conf);
//! assert_eq!(find_user(&conn, 1).await?, "ann"); // from the database, then cached
//! assert_eq!(find_user(&conn, 1).await?, "ann"); // from the cache
//! assert_eq!(find_user(&conn, 2).await, Err(StoreError::NotFound)); // remembered as absent
//! # Ok::<(), StoreError>(())
//! # }).unwrap();
//! ```

#![warn(missing_docs)]

pub mod cache;
mod error;
pub mod limit;
pub mod redis;
#[cfg(feature = "sql")]
pub mod sql;
mod telemetry;

pub use error::{ErrorKind, StoreError};
#[cfg(feature = "sql")]
/// The sqlx version rows decode with (`sqlx::FromRow`, `sqlx::Row`, `sqlx::any::AnyRow`).
pub use sqlx;
pub use telemetry::{SCOPE, Telemetry};
