//! `--data DIR`: the store's traces also live in `DIR/traces.db` (SQLite), so that a
//! restart keeps them. The database mirrors the in-memory store, bounds included: what
//! memory evicts is deleted, and at start the rows are replayed through the store's
//! limits, oldest first, so the same traces survive that would have.
//!
//! Writes never hold up ingest: the store hands each accepted span (as JSON) and each
//! evicted trace id to a bounded queue; one task writes them in transactions. A full
//! queue drops the write and counts it (the span stays in memory; it would not survive
//! a restart).

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

/// Starts the writer; the handle goes to the store.
pub(crate) fn start(
    pool: SqlitePool,
    stop: watch::Receiver<bool>,
) -> (Persister, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(QUEUE);
    let dropped = Arc::new(AtomicU64::new(0));
    let task = tokio::spawn(write(pool, rx, stop, dropped.clone()));
    (Persister { tx, dropped }, task)
}

async fn write(
    pool: SqlitePool,
    mut rx: mpsc::Receiver<Op>,
    mut stop: watch::Receiver<bool>,
    dropped: Arc<AtomicU64>,
) {
    loop {
        let next = tokio::select! {
            op = rx.recv() => Some(op),
            _ = stop.wait_for(|s| *s) => None,
        };
        let Some(op) = next else {
            // Stopping: write what is queued, then close.
            rx.close();
            while let Some(op) = rx.recv().await {
                if apply(&pool, op).await.is_err() {
                    dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
            pool.close().await;
            return;
        };
        let Some(op) = op else { return };
        if apply(&pool, op).await.is_err() {
            dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

async fn apply(pool: &SqlitePool, op: Op) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    match op {
        Op::Spans(rows) => {
            for (trace_id, span, resource) in rows {
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
                sqlx::query("DELETE FROM spans WHERE trace_id = ?")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
    }
    tx.commit().await
}
