//! [`Statement`] and [`Tx`]: a statement runs on a connection of its own from the pool,
//! or on its transaction's, inside [`SqlPool::traced`](super::SqlPool).

use std::fmt;
use std::time::Duration;

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Any, AnyConnection, FromRow};

use super::{DbSystem, SqlPool};
use crate::error::StoreError;

/// How far the caller's deadline must be for [`Tx::commit`] to commit.
pub const COMMIT_MARGIN: Duration = Duration::from_millis(50);

/// A statement with its parameters, run by one of its `execute` / `fetch_*` methods.
#[must_use = "a statement does nothing until executed or fetched"]
pub struct Statement<'q> {
    pool: &'q SqlPool,
    sql: &'q str,
    query: sqlx::query::Query<'q, Any, AnyArguments<'q>>,
    /// A transaction's connection; `None` takes one from the pool.
    conn: Option<&'q mut AnyConnection>,
}

/// A transaction: statements made with [`Tx::query`] run on its connection, each traced.
/// Dropped without [`Tx::commit`], it rolls back.
pub struct Tx {
    pool: SqlPool,
    tx: sqlx::Transaction<'static, Any>,
}

/// What a write did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecResult {
    /// Rows inserted, updated or deleted.
    pub rows_affected: u64,
    /// The id the database gave the inserted row, if any.
    pub last_insert_id: Option<i64>,
}

// === impl Statement ===

impl<'q> Statement<'q> {
    pub(super) fn new(pool: &'q SqlPool, sql: &'q str) -> Self {
        Statement {
            pool,
            sql,
            query: sqlx::query(sql),
            conn: None,
        }
    }

    /// Binds the next `?` parameter. Values go to the database, never to the span.
    pub fn bind<T>(mut self, value: T) -> Self
    where
        T: 'q + sqlx::Encode<'q, Any> + sqlx::Type<Any>,
    {
        self.query = self.query.bind(value);
        self
    }

    /// Runs a write (or DDL).
    pub async fn execute(self) -> Result<ExecResult, StoreError> {
        let Statement {
            pool,
            sql,
            query,
            conn,
        } = self;
        let sqlite_insert = pool.system() == DbSystem::Sqlite && is_insert(sql);
        let run = async move {
            let mut held = None;
            let conn = match conn {
                Some(c) => c,
                None => &mut **held.insert(pool.inner.pool.acquire().await?),
            };
            let r = query.execute(&mut *conn).await?;
            let last_insert_id = if sqlite_insert && r.rows_affected() > 0 {
                // sqlx's Any driver drops SQLite's rowid: ask the same connection.
                Some(
                    sqlx::query_scalar("SELECT last_insert_rowid()")
                        .fetch_one(&mut *conn)
                        .await?,
                )
            } else {
                r.last_insert_id()
            };
            Ok(ExecResult {
                rows_affected: r.rows_affected(),
                last_insert_id,
            })
        };
        pool.traced(sql, run).await
    }

    /// The one row the statement yields; [`StoreError::NotFound`] if none.
    pub async fn fetch_one<T>(self) -> Result<T, StoreError>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        let Statement {
            pool,
            sql,
            query,
            conn,
        } = self;
        let run = async move {
            let mut held = None;
            let conn = match conn {
                Some(c) => c,
                None => &mut **held.insert(pool.inner.pool.acquire().await?),
            };
            T::from_row(&query.fetch_one(conn).await?)
        };
        pool.traced(sql, run).await
    }

    /// The row the statement yields, if any.
    pub async fn fetch_optional<T>(self) -> Result<Option<T>, StoreError>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        let Statement {
            pool,
            sql,
            query,
            conn,
        } = self;
        let run = async move {
            let mut held = None;
            let conn = match conn {
                Some(c) => c,
                None => &mut **held.insert(pool.inner.pool.acquire().await?),
            };
            query
                .fetch_optional(conn)
                .await?
                .map(|r| T::from_row(&r))
                .transpose()
        };
        pool.traced(sql, run).await
    }

    /// Every row the statement yields.
    pub async fn fetch_all<T>(self) -> Result<Vec<T>, StoreError>
    where
        T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
    {
        let Statement {
            pool,
            sql,
            query,
            conn,
        } = self;
        let run = async move {
            let mut held = None;
            let conn = match conn {
                Some(c) => c,
                None => &mut **held.insert(pool.inner.pool.acquire().await?),
            };
            query
                .fetch_all(conn)
                .await?
                .iter()
                .map(T::from_row)
                .collect()
        };
        pool.traced(sql, run).await
    }
}

// === impl Tx ===

impl Tx {
    pub(super) fn new(pool: SqlPool, tx: sqlx::Transaction<'static, Any>) -> Self {
        Tx { pool, tx }
    }

    /// A statement inside the transaction.
    pub fn query<'q>(&'q mut self, sql: &'q str) -> Statement<'q> {
        Statement {
            pool: &self.pool,
            sql,
            query: sqlx::query(sql),
            conn: Some(&mut *self.tx),
        }
    }

    /// Makes the transaction's writes durable, unless the caller's deadline
    /// ([`rzero_resilience::deadline`]) is less than [`COMMIT_MARGIN`] away: then it rolls
    /// back and answers [`StoreError::Unavailable`]. A caller whose deadline passes is told
    /// to retry; a commit that lands just after would make that retry a second write. The
    /// margin leaves the COMMIT's round trip and the answer's way back; what it cannot
    /// cover (a COMMIT sent, its answer lost) is what idempotency keys are for.
    pub async fn commit(self) -> Result<(), StoreError> {
        let Tx { pool, tx } = self;
        if let Some(left) = rzero_resilience::deadline::remaining()
            && left < COMMIT_MARGIN
        {
            // Dropped, sqlx's transaction queues its ROLLBACK on the connection: no wait
            // on a deadline that is already (nearly) gone.
            drop(tx);
            return Err(StoreError::Unavailable(format!(
                "not committed: the caller's deadline was {left:?} away, too close to \
                 answer; the transaction was rolled back: retry, or give the call more time"
            )));
        }
        pool.traced("COMMIT", tx.commit()).await
    }

    /// Undoes the transaction's writes (dropping a `Tx` does the same).
    pub async fn rollback(self) -> Result<(), StoreError> {
        let Tx { pool, tx } = self;
        pool.traced("ROLLBACK", tx.rollback()).await
    }
}

impl fmt::Debug for Tx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tx")
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
}

fn is_insert(sql: &str) -> bool {
    let first = sql.split_whitespace().next().unwrap_or("");
    first.eq_ignore_ascii_case("INSERT") || first.eq_ignore_ascii_case("REPLACE")
}
