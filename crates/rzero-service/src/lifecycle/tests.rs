use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::*;

#[derive(Debug, thiserror::Error)]
#[error("test server failed")]
struct Failed;

impl From<StartError> for Failed {
    fn from(_: StartError) -> Self {
        Failed
    }
}

fn conf(wrap_up: u64, wait: u64) -> ServiceConf {
    ServiceConf {
        name: "t".into(),
        shutdown: ShutdownConf {
            wrap_up_time: Duration::from_millis(wrap_up),
            wait_time: Duration::from_millis(wait),
        },
        ..ServiceConf::default()
    }
}

#[tokio::test(start_paused = true)]
async fn stops_in_order_readiness_wrap_up_drain() {
    let life = Lifecycle::new(&conf(1000, 5000));
    let ready = life.readiness();
    let (signal_tx, signal_rx) = oneshot::channel::<()>();
    let wrapped = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let ready_in_server = ready.clone();
    let (drained_at_tx, drained_at_rx) = oneshot::channel();
    let run = tokio::spawn({
        let wrapped = wrapped.clone();
        life.run(
            move |drain| async move {
                assert!(ready_in_server.is_ready(), "ready once serving");
                drain.await;
                let _ = drained_at_tx.send(Instant::now());
                // Finishing the requests in flight takes a while.
                tokio::time::sleep(Duration::from_millis(300)).await;
                Ok::<(), Failed>(())
            },
            async move {
                let _ = signal_rx.await;
            },
            async move { wrapped.store(true, Ordering::SeqCst) },
        )
    });
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(ready.is_ready());
    signal_tx.send(()).expect("signal");
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(!ready.is_ready(), "not ready at once");
    assert!(wrapped.load(Ordering::SeqCst), "wrap-up ran at the signal");
    run.await.expect("joined").expect("served");
    let drained = drained_at_rx.await.expect("drained") - start;
    assert!(
        drained >= Duration::from_millis(1010),
        "drain after WrapUpTime: {drained:?}"
    );
    assert!(drained < Duration::from_millis(1100), "{drained:?}");
}

#[tokio::test(start_paused = true)]
async fn requests_that_outlast_wait_time_are_dropped() {
    let life = Lifecycle::new(&conf(0, 200));
    let start = Instant::now();
    life.run(
        |drain| async move {
            drain.await;
            std::future::pending::<()>().await;
            Ok::<(), Failed>(())
        },
        async {},
        async {},
    )
    .await
    .expect("a drop after WaitTime is not an error");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(200) && took < Duration::from_millis(250),
        "{took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_server_that_fails_returns_its_error_without_waiting() {
    let life = Lifecycle::new(&conf(1000, 1000));
    let ready = life.readiness();
    let out = life
        .run(
            |_drain| async { Err::<(), Failed>(Failed) },
            std::future::pending::<()>(),
            async {},
        )
        .await;
    assert!(out.is_err());
    assert!(!ready.is_ready());
}

#[tokio::test(start_paused = true)]
async fn a_server_ending_during_wrap_up_ends_the_run() {
    let life = Lifecycle::new(&conf(10_000, 10_000));
    let start = Instant::now();
    life.run(
        |_drain| async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok::<(), Failed>(())
        },
        async {},
        async {},
    )
    .await
    .expect("served");
    assert!(start.elapsed() < Duration::from_millis(100));
}
