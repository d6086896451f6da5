//! A SQL pool whose every statement is a CLIENT span and a histogram point.
//!
//! Built on sqlx's `Any` driver, so one type serves MySQL/MariaDB in production and
//! SQLite as the embedded default, chosen by the data source at run time. `Any` decodes
//! the portable types (integers, floats, text, bytes, bools): keep money as integer
//! cents and times as integers or text, which also keeps the two databases alike.
//!
//! ```no_run
//! # async fn demo() -> Result<(), rzero_stores::StoreError> {
//! use rzero_stores::sql::{SqlPool, SqlPoolConf};
//! let pool = SqlPool::connect(&SqlPoolConf::sqlite_memory()).await?;
//! pool.query("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)").execute().await?;
//! let id = pool.query("INSERT INTO users (name) VALUES (?)").bind("ann").execute().await?.last_insert_id;
//! let (name,): (String,) = pool.query("SELECT name FROM users WHERE id = ?").bind(id).fetch_one().await?;
//! # Ok(()) }
//! ```
//!
//! Each statement is wrapped in a timeout (`ConnectTimeout` + `Timeout`), so a database
//! that is down or hung answers [`StoreError::Unavailable`] in bounded time; the pool
//! reconnects by itself when the database is back. Inside a call with a deadline (an rpc
//! handler: [`rzero_resilience::deadline`]) the timeout is the time the caller has left,
//! when that is shorter: a statement does not run on for a caller that gave up. A
//! transaction does not commit when the deadline is too close for the answer to reach
//! the caller (see [`Tx::commit`]).

mod conf;
mod dsn;
mod migrate;
mod statement;
mod text;

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute as semconv;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions};

pub use conf::SqlPoolConf;
pub use dsn::DbSystem;
pub use migrate::{Migration, Migrations};
pub use statement::{COMMIT_MARGIN, ExecResult, Statement, Tx};

use crate::error::StoreError;
use crate::telemetry::Telemetry;
use dsn::Target;

/// A traced connection pool; cheap to clone.
#[derive(Clone, Debug)]
pub struct SqlPool {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: AnyPool,
    target: Target,
    timeout: Duration,
    slow: Duration,
    telemetry: Telemetry,
}

/// SQLite has one writer at a time per file: writers beyond a few only sleep in SQLite's
/// busy handler (in steps up to 100 ms), so a file gets at most [`SQLITE_FILE_CONNS`]
/// connections and the rest of the callers queue, in order, for the pool instead.
const SQLITE_FILE_CONNS: u32 = 4;

fn max_connections(target: &Target, configured: u32) -> u32 {
    let n = configured.max(1);
    if target.system == DbSystem::Sqlite && !target.in_memory {
        n.min(SQLITE_FILE_CONNS)
    } else {
        n
    }
}

// === impl SqlPool ===

impl SqlPool {
    /// Opens a pool reporting to the global telemetry, and checks that the database
    /// answers (an [`StoreError::Unavailable`] after `ConnectTimeout` if not).
    pub async fn connect(conf: &SqlPoolConf) -> Result<Self, StoreError> {
        Self::connect_with(conf, Telemetry::global()).await
    }

    /// [`SqlPool::connect`] reporting to `telemetry`.
    pub async fn connect_with(
        conf: &SqlPoolConf,
        telemetry: Telemetry,
    ) -> Result<Self, StoreError> {
        let pool = Self::connect_lazy(conf, telemetry)?;
        pool.query("SELECT 1").execute().await?;
        Ok(pool)
    }

    /// Opens a pool without touching the database: a service can start while the
    /// database is down, answer 503 meanwhile, and recover by itself.
    pub fn connect_lazy(conf: &SqlPoolConf, telemetry: Telemetry) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let target = dsn::parse(&conf.data_source)?;
        let options = AnyConnectOptions::from_str(&target.url)
            .map_err(|e| StoreError::from(e).scrub(&target.password))?
            .disable_statement_logging();
        let mut pool = AnyPoolOptions::new()
            .max_connections(max_connections(&target, conf.max_open_conns))
            .acquire_timeout(conf.connect_timeout)
            .max_lifetime(Some(conf.max_lifetime));
        if target.system == DbSystem::Sqlite && !target.in_memory {
            // A SQLite file shared by a pool of writers: WAL lets readers run beside the
            // writer and makes a commit one append and fsync (synchronous stays FULL: an
            // acknowledged write survives a crash), and the busy timeout makes writers
            // queue for the lock instead of failing. Without these, concurrent inserts
            // wait on the rollback journal and take hundreds of milliseconds each.
            pool = pool.after_connect(|conn, _| {
                Box::pin(async move {
                    use sqlx::Executor as _;
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = FULL").await?;
                    conn.execute("PRAGMA busy_timeout = 5000").await?;
                    Ok(())
                })
            });
        }
        if target.in_memory {
            // An in-memory database lives as long as one connection to it: keep one.
            pool = pool
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        }
        Ok(SqlPool {
            inner: Arc::new(Inner {
                pool: pool.connect_lazy_with(options),
                timeout: conf.connect_timeout + conf.timeout,
                slow: conf.slow_threshold,
                target,
                telemetry,
            }),
        })
    }

    /// Opens the pool and runs `migrations` when `conf.migrate` is set.
    pub async fn open(
        conf: &SqlPoolConf,
        telemetry: Telemetry,
        migrations: &Migrations,
    ) -> Result<Self, StoreError> {
        let pool = Self::connect_with(conf, telemetry).await?;
        if conf.migrate {
            pool.migrate(migrations).await?;
        }
        Ok(pool)
    }

    /// Applies the migrations not yet applied, without the statement timeout: an
    /// `ALTER TABLE` over a big table may take minutes, and a migration cut off halfway
    /// by a timeout meant for requests is worse than a slow start.
    pub async fn migrate(&self, migrations: &Migrations) -> Result<(), StoreError> {
        let run = migrations.migrator.run(&self.inner.pool);
        self.traced_for("MIGRATE", None, async {
            run.await.map_err(sqlx::Error::from)
        })
        .await?;
        tracing::info!(
            db.system.name = self.inner.target.system.as_str(),
            db.namespace = %self.inner.target.namespace,
            count = migrations.len(),
            "migrations applied"
        );
        Ok(())
    }

    /// MySQL or SQLite, to pick migrations or dialect.
    pub fn system(&self) -> DbSystem {
        self.inner.target.system
    }

    /// A statement; bind its `?` parameters, then run it.
    pub fn query<'q>(&'q self, sql: &'q str) -> Statement<'q> {
        Statement::new(self, sql)
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let tx = self.traced("BEGIN", self.inner.pool.begin()).await?;
        Ok(Tx::new(self.clone(), tx))
    }

    /// The sqlx pool underneath, for what [`Statement`] does not cover (streaming).
    /// What runs through it is not traced.
    pub fn raw(&self) -> &AnyPool {
        &self.inner.pool
    }

    /// Closes every connection; later statements fail as unavailable.
    pub async fn close(&self) {
        self.inner.pool.close().await;
    }

    /// Runs `fut` as the statement `sql`: one span, one histogram point, a timeout, the
    /// password scrubbed from errors, and a log line when slow.
    async fn traced<R>(
        &self,
        sql: &str,
        fut: impl Future<Output = Result<R, sqlx::Error>>,
    ) -> Result<R, StoreError> {
        self.traced_for(sql, Some(self.inner.timeout), fut).await
    }

    /// [`Self::traced`] under `timeout` (`None`: none).
    async fn traced_for<R>(
        &self,
        sql: &str,
        timeout: Option<Duration>,
        fut: impl Future<Output = Result<R, sqlx::Error>>,
    ) -> Result<R, StoreError> {
        let inner = &*self.inner;
        let t = &inner.target;
        let summary = text::summarize(sql);
        let system = t.system.as_str();
        let name = match (&summary.operation, &summary.collection) {
            (Some(op), Some(table)) => format!("{op} {table}"),
            (Some(op), None) => format!("{op} {}", t.namespace),
            (None, _) => system.to_owned(),
        };
        let attrs = attributes(t, &summary);
        let op = inner.telemetry.start(
            name,
            attrs,
            [KeyValue::new(semconv::DB_QUERY_TEXT, summary.text.clone())],
        );
        let (limit, by_caller) = match timeout {
            Some(limit) => {
                let (limit, by_caller) = rzero_resilience::deadline::bound(limit);
                (Some(limit), by_caller)
            }
            None => (None, false),
        };
        let bounded = async {
            match limit {
                Some(limit) => tokio::time::timeout(limit, fut).await,
                None => Ok(fut.await),
            }
        };
        let result = match bounded.await {
            Ok(r) => r.map_err(|e| match StoreError::from(e).scrub(&t.password) {
                StoreError::Unavailable(m) => StoreError::Unavailable(format!(
                    "{}: {m}; is it up? (Mysql.DataSource)",
                    t.describe()
                )),
                e => e,
            }),
            Err(_) if by_caller => Err(StoreError::Unavailable(format!(
                "{} did not answer before the caller's deadline ({:?} left when the \
                 statement started); the statement was cancelled: retry, or give the call \
                 more time",
                t.describe(),
                limit.unwrap_or_default()
            ))),
            Err(_) => Err(StoreError::Unavailable(format!(
                "{} did not answer within {:?} (Mysql.ConnectTimeout + Mysql.Timeout)",
                t.describe(),
                inner.timeout
            ))),
        };
        let ended = op.end(result.as_ref().err());
        if ended.elapsed >= inner.slow {
            tracing::warn!(
                trace_id = %ended.trace_id,
                duration_ms = u64::try_from(ended.elapsed.as_millis()).unwrap_or(u64::MAX),
                db.system.name = system,
                db.query.text = %summary.text,
                "slow statement"
            );
        }
        result
    }
}

/// What both the span and the histogram point carry.
fn attributes(t: &Target, summary: &text::Summary) -> Vec<KeyValue> {
    let mut attrs = Vec::with_capacity(6);
    attrs.push(KeyValue::new(semconv::DB_SYSTEM_NAME, t.system.as_str()));
    attrs.push(KeyValue::new(semconv::DB_NAMESPACE, t.namespace.clone()));
    if let Some(op) = &summary.operation {
        attrs.push(KeyValue::new(semconv::DB_OPERATION_NAME, op.clone()));
    }
    if let Some(table) = &summary.collection {
        attrs.push(KeyValue::new(semconv::DB_COLLECTION_NAME, table.clone()));
    }
    if let Some(address) = &t.address {
        attrs.push(KeyValue::new(semconv::SERVER_ADDRESS, address.clone()));
    }
    if let Some(port) = t.port {
        attrs.push(KeyValue::new(semconv::SERVER_PORT, i64::from(port)));
    }
    attrs
}
