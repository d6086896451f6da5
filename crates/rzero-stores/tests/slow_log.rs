//! The slow-statement log, in its own test binary: it installs the global subscriber,
//! which no other test may race with.

mod common;

use std::time::Duration;

use common::Recorded;
use rzero_stores::sql::{SqlPool, SqlPoolConf};

/// A writer the test reads back.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn slow_statements_are_logged_with_their_trace_id() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let rec = Recorded::new();
    rt.block_on(async {
        let mut conf = SqlPoolConf::sqlite_memory();
        conf.slow_threshold = Duration::from_millis(20);
        let pool = SqlPool::connect_with(&conf, rec.telemetry.clone())
            .await
            .expect("pool");
        // A recursive CTE that counts far enough to pass 20 ms.
        pool.query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) \
             SELECT COUNT(*) FROM n WHERE i > 'hidden-literal'",
        )
        .fetch_one::<(i64,)>()
        .await
        .expect("slow statement");
    });
    let span = rec.spans().pop().expect("span");
    let trace_id = span.span_context.trace_id().to_string();
    let log = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf-8");
    let line = log
        .lines()
        .find(|l| l.contains("slow statement"))
        .unwrap_or_else(|| panic!("no slow-statement line in {log:?}"));
    assert!(line.contains(&trace_id), "{line}");
    assert!(!line.contains("hidden-literal"), "{line}");
}
