//! `--data DIR`: the store's traces also live in `DIR/traces.db` (SQLite), so that a
//! restart keeps them. The database mirrors the in-memory store, bounds included: what
//! memory evicts is deleted, and at start the rows are replayed through the store's
//! limits, oldest first, so the same traces survive that would have.
//!
//! Writes never hold up ingest: the store hands each accepted span (as JSON) and each
//! evicted trace id to a bounded queue; one task writes them in transactions. A full
//! queue drops the write and counts it (the span stays in memory; it would not survive
//! a restart).
//!
//! The disk has its own bound, `max_bytes` of span and resource JSON: the writer keeps
//! the total of its rows (read at start, added on insert, taken off with what a delete
//! returns) and, over the bound, deletes whole traces, oldest first. So the file stays
//! bounded even when the mirror falls behind: a dropped delete would otherwise leave
//! its trace's rows behind until the next start. SQLite reuses freed pages, so the file
//! grows to about the bound and stays there.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use tokio::sync::{mpsc, watch};

use super::model::{Attributes, StoredSpan};

/// Writes waiting for the database; beyond, they are dropped and counted.
const QUEUE: usize = 1024;

/// One write.
#[derive(Debug)]
pub(crate) enum Op {
    /// `(trace id, span JSON, resource JSON)` of accepted spans.
    Spans(Vec<(String, String, String)>),
    /// Trace ids evicted from memory.
    Delete(Vec<String>),
}

/// The store's handle on the database.
#[derive(Clone, Debug)]
pub(crate) struct Persister {
    tx: mpsc::Sender<Op>,
    dropped: Arc<AtomicU64>,
}

impl Persister {
    pub(crate) fn send(&self, op: Op) {
        if self.tx.try_send(op).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Why the data directory is unusable, said with the path.
pub(crate) fn fail(path: &Path, e: impl std::fmt::Display) -> String {
    format!(
        "cannot keep traces in {}: {e} (is the directory writable?)",
        path.display()
    )
}

/// Opens (creating) `dir/traces.db` and reads back what it holds, oldest first.
pub(crate) async fn open(dir: &Path) -> Result<(SqlitePool, Vec<StoredSpan>), String> {
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, e))?;
    let file: PathBuf = dir.join("traces.db");
    let options = SqliteConnectOptions::new()
        .filename(&file)
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
    // One writer; SQLite serializes writes anyway.
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(|e| fail(&file, e))?;
    for ddl in [
        "CREATE TABLE IF NOT EXISTS spans (seq INTEGER PRIMARY KEY AUTOINCREMENT, \
         trace_id TEXT NOT NULL, span TEXT NOT NULL, resource TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS spans_by_trace ON spans(trace_id)",
    ] {
        sqlx::query(ddl)
            .execute(&pool)
            .await
            .map_err(|e| fail(&file, e))?;
    }
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT span, resource FROM spans ORDER BY seq")
            .fetch_all(&pool)
            .await
            .map_err(|e| fail(&file, e))?;
    let mut spans = Vec::with_capacity(rows.len());
    for (span, resource) in rows {
        // A row this version cannot read is skipped, not fatal: the rest still loads.
        let (Ok(mut s), Ok(r)) = (
            serde_json::from_str::<StoredSpan>(&span),
            serde_json::from_str::<Attributes>(&resource),
        ) else {
            continue;
        };
        s.resource = Arc::new(r);
        spans.push(s);
    }
    Ok((pool, spans))
}

/// Starts the writer, which keeps the database within `max_bytes` of JSON; the handle
/// goes to the store.
pub(crate) fn start(
    pool: SqlitePool,
    max_bytes: u64,
    stop: watch::Receiver<bool>,
) -> (Persister, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(QUEUE);
    let dropped = Arc::new(AtomicU64::new(0));
    let writer = Writer {
        pool,
        max_bytes,
        bytes: 0,
        dropped: dropped.clone(),
    };
    let task = tokio::spawn(writer.run(rx, stop));
    (Persister { tx, dropped }, task)
}

/// The one task that writes, and the JSON bytes its rows hold.
struct Writer {
    pool: SqlitePool,
    max_bytes: u64,
    bytes: u64,
    dropped: Arc<AtomicU64>,
}

/// What a row weighs on disk, as the bound counts it.
const ROW_BYTES: &str = "length(span) + length(resource)";

// === impl Writer ===

impl Writer {
    async fn run(mut self, mut rx: mpsc::Receiver<Op>, mut stop: watch::Receiver<bool>) {
        let total: Result<(i64,), _> =
            sqlx::query_as(&format!("SELECT COALESCE(SUM({ROW_BYTES}), 0) FROM spans"))
                .fetch_one(&self.pool)
                .await;
        self.bytes = total.map_or(0, |(b,)| u64::try_from(b).unwrap_or(0));
        self.trim().await;
        loop {
            let next = tokio::select! {
                op = rx.recv() => Some(op),
                _ = stop.wait_for(|s| *s) => None,
            };
            let Some(op) = next else {
                // Stopping: write what is queued, then close.
                rx.close();
                while let Some(op) = rx.recv().await {
                    self.write(op).await;
                }
                self.pool.close().await;
                return;
            };
            let Some(op) = op else { return };
            self.write(op).await;
        }
    }

    async fn write(&mut self, op: Op) {
        match self.apply(op).await {
            Ok(delta) => self.bytes = self.bytes.saturating_add_signed(delta),
            Err(_) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.trim().await;
    }

    /// One op in one transaction; answers the change in JSON bytes.
    async fn apply(&self, op: Op) -> Result<i64, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let mut delta = 0i64;
        match op {
            Op::Spans(rows) => {
                for (trace_id, span, resource) in rows {
                    delta += i64::try_from(span.len() + resource.len()).unwrap_or(i64::MAX);
                    sqlx::query("INSERT INTO spans (trace_id, span, resource) VALUES (?, ?, ?)")
                        .bind(trace_id)
                        .bind(span)
                        .bind(resource)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            Op::Delete(ids) => {
                for id in ids {
                    delta -= delete_trace(&mut tx, &id).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(delta)
    }

    /// Deletes the oldest traces until the rows are within the bound.
    async fn trim(&mut self) {
        while self.bytes > self.max_bytes {
            let freed = async {
                let mut tx = self.pool.begin().await?;
                let oldest: Option<(String,)> =
                    sqlx::query_as("SELECT trace_id FROM spans ORDER BY seq LIMIT 1")
                        .fetch_optional(&mut *tx)
                        .await?;
                let freed = match oldest {
                    Some((id,)) => Some(delete_trace(&mut tx, &id).await?),
                    None => None,
                };
                tx.commit().await?;
                Ok::<_, sqlx::Error>(freed)
            }
            .await;
            match freed {
                Ok(Some(n)) => self.bytes = self.bytes.saturating_sub(n.unsigned_abs()),
                // Empty: the count was off; it is zero now.
                Ok(None) => self.bytes = 0,
                // The database refuses: try again after the next write.
                Err(_) => return,
            }
        }
    }
}

/// Deletes one trace's rows; answers the JSON bytes they held.
async fn delete_trace(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    id: &str,
) -> Result<i64, sqlx::Error> {
    let freed: Vec<(i64,)> = sqlx::query_as(&format!(
        "DELETE FROM spans WHERE trace_id = ? RETURNING {ROW_BYTES}"
    ))
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    Ok(freed.iter().map(|(n,)| n).sum())
}
