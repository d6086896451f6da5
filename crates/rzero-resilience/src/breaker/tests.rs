//! Scenario tests on a simulated backend and a manual clock: a fixed request rate, a
//! backend that is healthy or failing by phase, and the share of calls let through.

use std::time::Duration;

use super::*;
use crate::clock::ManualClock;

/// Calls at `rate` per second for `secs` seconds against a backend that fails when
/// `failing`; returns (calls made, calls let through).
fn drive(b: &SreBreaker, clock: &ManualClock, rate: u32, secs: u32, failing: bool) -> (u32, u32) {
    let step = Duration::from_secs(1) / rate;
    let mut passed = 0;
    for _ in 0..rate * secs {
        clock.advance(step);
        if let Ok(promise) = b.allow() {
            passed += 1;
            if failing {
                promise.reject();
            } else {
                promise.accept();
            }
        }
    }
    (rate * secs, passed)
}

fn breaker(seed: u64) -> (SreBreaker, ManualClock) {
    let clock = ManualClock::new();
    (
        SreBreaker::with_clock(BreakerConfig::default(), clock.clone(), seed),
        clock,
    )
}

#[test]
fn healthy_backend_is_never_throttled() {
    let (b, clock) = breaker(1);
    let (calls, passed) = drive(&b, &clock, 200, 30, false);
    assert_eq!(calls, passed);
}

#[test]
fn protection_lets_the_first_failures_through() {
    let (b, _clock) = breaker(2);
    for _ in 0..5 {
        b.allow().expect("within the protection").reject();
    }
}

#[test]
fn opens_after_failures() {
    for seed in 0..20 {
        let (b, clock) = breaker(seed);
        drive(&b, &clock, 100, 2, false);
        drive(&b, &clock, 100, 10, true);
        // Steady failure: what still passes is go-zero's probe, about one call a second,
        // plus a random trickle; far below the 100 calls a second offered.
        let (calls, passed) = drive(&b, &clock, 100, 5, true);
        assert!(
            passed * 10 < calls,
            "seed {seed}: {passed} of {calls} passed"
        );
        assert!(passed >= 4, "seed {seed}: probes keep going ({passed})");
    }
}

#[test]
fn lets_traffic_back_after_recovery() {
    for seed in 0..20 {
        let (b, clock) = breaker(seed);
        drive(&b, &clock, 100, 10, true);
        let (_, passed_while_down) = drive(&b, &clock, 100, 1, true);
        assert!(passed_while_down < 50, "seed {seed}: open while failing");
        // The backend is back: the probes succeed and traffic returns within the window.
        drive(&b, &clock, 100, 10, false);
        let (calls, passed) = drive(&b, &clock, 100, 2, false);
        assert!(
            passed * 100 >= calls * 95,
            "seed {seed}: {passed} of {calls} after recovery"
        );
    }
}

#[test]
fn rejection_probability_is_the_sre_formula() {
    // 30 successes and 70 failures in one bucket: K stays 1.5 (no all-failure run) and no
    // all-success run scales the ratio, so P(drop) = (100 - 5 - 1.5 * 30) / 101 = 0.495.
    const TRIALS: u32 = 4000;
    let mut refused = 0;
    for seed in 0..u64::from(TRIALS) {
        let (b, _clock) = breaker(seed);
        (0..30).for_each(|_| b.mark(Outcome::Success));
        (0..70).for_each(|_| b.mark(Outcome::Failure));
        refused += u32::from(b.allow().is_err());
    }
    let p = f64::from(refused) / f64::from(TRIALS);
    let expected = (100.0 - 5.0 - 1.5 * 30.0) / 101.0;
    let sd = (expected * (1.0 - expected) / f64::from(TRIALS)).sqrt();
    assert!(
        (p - expected).abs() < 5.0 * sd,
        "P(drop) {p}, expected {expected}"
    );
}

#[test]
fn cancelled_calls_count_for_nothing() {
    let (b, _clock) = breaker(3);
    for _ in 0..100 {
        drop(b.allow().expect("healthy"));
    }
    assert_eq!(b.history().total, 0);
}

#[test]
fn drops_are_counted_in_the_window() {
    let (b, clock) = breaker(4);
    drive(&b, &clock, 100, 10, true);
    let h = b.history();
    assert!(h.total > h.accepts && h.accepts == 0, "{h:?}");
}

#[test]
fn grpc_codes_follow_go_zero() {
    for (code, failure) in [
        (0, false),
        (3, false),
        (5, false),
        (4, true),
        (8, true),
        (12, true),
        (13, true),
        (14, true),
        (15, true),
        (16, false),
    ] {
        assert_eq!(grpc_code_is_failure(code), failure, "code {code}");
    }
}

#[test]
fn call_counts_errors_and_acceptable_errors() {
    let (b, _clock) = breaker(5);
    let ok: Result<Result<u8, &str>, _> = b.call(|| Ok(1));
    assert_eq!(ok, Ok(Ok(1)));
    assert_eq!(b.call(|| Err::<u8, _>("down")), Ok(Err("down")));
    // A NOT_FOUND-like error says nothing about the target: it counts as a success.
    let not_found = b.call_with_acceptable(|| Err::<u8, _>("not found"), |e| *e == "not found");
    assert_eq!(not_found, Ok(Err("not found")));
    let h = b.history();
    assert_eq!((h.total, h.accepts), (3, 2));
}

#[test]
fn call_refuses_without_running_when_open() {
    let (b, clock) = breaker(6);
    drive(&b, &clock, 100, 10, true);
    let mut ran = 0;
    let mut refused = 0;
    for _ in 0..100 {
        match b.call(|| {
            ran += 1;
            Err::<(), _>("down")
        }) {
            Err(BreakerOpen) => refused += 1,
            Ok(result) => assert!(result.is_err()),
        }
    }
    assert_eq!(ran + refused, 100);
    assert!(refused > 90, "refused {refused}");
}

#[test]
fn a_panicking_call_counts_as_failure() {
    let (b, _clock) = breaker(7);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = b.call(|| -> Result<(), ()> { panic!("boom") });
    }));
    assert!(caught.is_err());
    let h = b.history();
    assert_eq!((h.total, h.accepts), (1, 0));
}

#[tokio::test]
async fn call_async_reports_when_the_future_ends() {
    let (b, _clock) = breaker(8);
    let r = b.call_async(async { Err::<(), _>("down") }).await;
    assert_eq!(r, Ok(Err("down")));
    let r = b
        .call_async_with_acceptable(async { Err::<(), _>(5) }, |code| *code == 5)
        .await;
    assert_eq!(r, Ok(Err(5)));
    let h = b.history();
    assert_eq!((h.total, h.accepts), (2, 1));
}

#[test]
fn breaker_set_keeps_one_breaker_per_key() {
    let clock = ManualClock::new();
    let set: BreakerSet<String> =
        BreakerSet::with_clock(BreakerConfig::default(), clock.clone(), 1);
    assert!(set.is_empty());
    let a = set.get("GET:/a");
    // A failing route opens its own breaker only.
    drive(&a, &clock, 100, 10, true);
    assert!(set.get("GET:/a").history().accepts == 0);
    let b = set.get("GET:/b");
    assert!(b.allow().is_ok(), "another route is untouched");
    assert_eq!(set.len(), 2);
    let mut keys = set.keys();
    keys.sort();
    assert_eq!(keys, ["GET:/a", "GET:/b"]);
    assert!(set.remove("GET:/a").is_some());
    assert_eq!(
        set.get("GET:/a").history().total,
        0,
        "a fresh breaker after removal"
    );
}

#[test]
fn breaker_sets_do_not_share_state() {
    let clock = ManualClock::new();
    let one: BreakerSet<&str> = BreakerSet::with_clock(BreakerConfig::default(), clock.clone(), 1);
    let two: BreakerSet<&str> = BreakerSet::with_clock(BreakerConfig::default(), clock.clone(), 1);
    drive(&one.get(&"svc"), &clock, 100, 10, true);
    assert_eq!(two.get(&"svc").history().total, 0);
}

mod layer {
    use std::convert::Infallible;

    use tower::{Service, ServiceExt, service_fn};

    use super::*;

    #[tokio::test]
    async fn opens_on_server_errors_and_answers_breaker_open() {
        let clock = ManualClock::new();
        let b = SreBreaker::with_clock(BreakerConfig::default(), clock.clone(), 9);
        let inner = service_fn(|status: u16| async move {
            let resp = http::Response::builder()
                .status(status)
                .body(())
                .expect("response");
            Ok::<_, Infallible>(resp)
        });
        let mut svc = BreakerLayer::new(b.clone(), HttpServerErrors).layer(inner);
        let mut refused = 0;
        for _ in 0..500 {
            clock.advance(Duration::from_millis(10));
            match svc.ready().await.expect("ready").call(503).await {
                Ok(resp) => assert_eq!(resp.status(), 503),
                Err(e) => {
                    assert!(e.downcast_ref::<BreakerOpen>().is_some(), "{e}");
                    refused += 1;
                }
            }
        }
        assert!(refused > 400, "refused {refused} of 500");
        // 4xx are the caller's fault: they do not open the breaker.
        let fresh = SreBreaker::with_clock(BreakerConfig::default(), clock.clone(), 9);
        let mut svc = BreakerLayer::new(fresh.clone(), HttpServerErrors).layer(service_fn(
            |status: u16| async move {
                Ok::<_, Infallible>(
                    http::Response::builder()
                        .status(status)
                        .body(())
                        .expect("response"),
                )
            },
        ));
        for _ in 0..500 {
            clock.advance(Duration::from_millis(10));
            assert!(svc.ready().await.expect("ready").call(404).await.is_ok());
        }
        assert_eq!(fresh.history().accepts, fresh.history().total);
    }

    #[tokio::test]
    async fn errors_pass_through_boxed() {
        let b = SreBreaker::new(BreakerConfig::default());
        let mut svc = BreakerLayer::new(b, ErrorsAreFailures).layer(service_fn(|_: ()| async {
            Err::<(), _>(std::io::Error::other("refused"))
        }));
        let err = svc
            .ready()
            .await
            .expect("ready")
            .call(())
            .await
            .expect_err("fails");
        assert_eq!(err.to_string(), "refused");
    }

    #[tokio::test]
    async fn keyed_layer_breaks_per_key() {
        let clock = ManualClock::new();
        let set = BreakerSet::with_clock(BreakerConfig::default(), clock.clone(), 3);
        // Requests are (method, should_fail); the key is the method.
        let inner = service_fn(|(_, fail): (&'static str, bool)| async move {
            if fail {
                Err(std::io::Error::other("unavailable"))
            } else {
                Ok(())
            }
        });
        let layer = KeyedBreakerLayer::new(
            set.clone(),
            |req: &(&'static str, bool)| req.0,
            ErrorsAreFailures,
        );
        let mut svc = layer.layer(inner);
        let mut open = 0;
        for _ in 0..500 {
            clock.advance(Duration::from_millis(10));
            let svc = svc.ready().await.expect("ready");
            if let Err(e) = svc.call(("/Order/Create", true)).await
                && e.is::<BreakerOpen>()
            {
                open += 1;
            }
            assert!(
                svc.call(("/Order/Get", false)).await.is_ok(),
                "other key unaffected"
            );
        }
        assert!(open > 400, "open {open} of 500");
        assert_eq!(set.len(), 2);
    }

    /// A clock that follows tokio's, which `tokio::time::pause` freezes and `sleep`
    /// advances: the layer sees the latencies the inner service sleeps.
    struct TokioClock(tokio::time::Instant);

    impl crate::clock::Clock for TokioClock {
        fn now(&self) -> Duration {
            self.0.elapsed()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn recovers_on_tokio_time() {
        let b = SreBreaker::with_clock(
            BreakerConfig::default(),
            TokioClock(tokio::time::Instant::now()),
            11,
        );
        let healthy = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let h = healthy.clone();
        let inner = service_fn(move |_: ()| {
            let ok = h.load(std::sync::atomic::Ordering::Relaxed);
            async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                if ok {
                    Ok(())
                } else {
                    Err(std::io::Error::other("down"))
                }
            }
        });
        let mut svc = BreakerLayer::new(b.clone(), ErrorsAreFailures).layer(inner);
        let mut run = async |n: u32| {
            let mut passed = 0;
            for _ in 0..n {
                match svc.ready().await.expect("ready").call(()).await {
                    Ok(()) => passed += 1,
                    Err(e) if e.is::<BreakerOpen>() => {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    Err(_) => {}
                }
            }
            passed
        };
        assert_eq!(run(1000).await, 0, "10 s of failures");
        let started = tokio::time::Instant::now();
        healthy.store(true, std::sync::atomic::Ordering::Relaxed);
        // Traffic comes back gradually over the window as successes replace failures...
        let passed = run(1000).await;
        assert!(passed > 200, "returning within 10 s: {passed} of 1000");
        assert!(started.elapsed() >= Duration::from_secs(10));
        // ...and once the failures have left the window, nearly all of it.
        let passed = run(200).await;
        assert!(passed >= 190, "back after the window: {passed} of 200");
    }

    use tower::Layer;
}

#[test]
fn config_loads_with_go_zero_defaults() {
    let conf: BreakerConfig = rzero_conf::Loader::new()
        .load_str("b.yaml", "K: 2.0\n")
        .expect("valid");
    assert_eq!(
        (conf.k, conf.window, conf.buckets, conf.protection),
        (2.0, 10_000, 40, 5)
    );
}
