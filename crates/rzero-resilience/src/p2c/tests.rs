//! Scenarios on simulated endpoints with fixed latencies and a manual clock.

use std::collections::HashMap;
use std::time::Duration;

use super::*;
use crate::clock::ManualClock;

/// Offers `rate` calls a second for `secs` seconds; each call to endpoint `k` takes
/// `latency[k]` and succeeds unless `failing[k]`. Returns picks per endpoint.
fn simulate(
    p: &P2c<&'static str>,
    clock: &ManualClock,
    latency: &HashMap<&'static str, Duration>,
    failing: &[&str],
    rate: u32,
    secs: u32,
) -> HashMap<&'static str, u32> {
    let step = Duration::from_secs(1) / rate;
    let mut now = Duration::ZERO;
    let mut in_flight: Vec<(Duration, Picked<&'static str>)> = Vec::new();
    let mut picks = HashMap::new();
    for _ in 0..rate * secs {
        clock.advance(step);
        now += step;
        let (due, rest): (Vec<_>, Vec<_>) = in_flight.into_iter().partition(|(end, _)| *end <= now);
        in_flight = rest;
        for (_, picked) in due {
            let ok = !failing.contains(picked.key().expect("key"));
            picked.done(ok);
        }
        let picked = p.pick().expect("endpoints");
        let key = *picked.key().expect("key");
        *picks.entry(key).or_insert(0) += 1;
        in_flight.push((now + latency[key], picked));
    }
    picks
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn prefers_fast_endpoint() {
    let clock = ManualClock::new();
    let p = P2c::with_clock(clock.clone(), 42);
    p.set_endpoints(["fast", "slow", "fast2"]);
    let latency = HashMap::from([("fast", ms(2)), ("fast2", ms(2)), ("slow", ms(40))]);
    let picks = simulate(&p, &clock, &latency, &[], 500, 20);
    let slow = picks["slow"];
    assert!(slow * 5 < picks["fast"], "{picks:?}");
    assert!(slow > 0, "the slow one is still probed: {picks:?}");
}

#[test]
fn avoids_a_failing_endpoint() {
    let clock = ManualClock::new();
    let p = P2c::with_clock(clock.clone(), 7);
    p.set_endpoints(["a", "b", "c", "bad"]);
    let latency = HashMap::from([("a", ms(5)), ("b", ms(5)), ("c", ms(5)), ("bad", ms(1))]);
    // "bad" answers fastest, with errors: its success EWMA sinks and the three draws
    // look past it.
    let picks = simulate(&p, &clock, &latency, &["bad"], 500, 30);
    let share = f64::from(picks["bad"]) / f64::from(picks.values().sum::<u32>());
    assert!(
        share < 0.3,
        "failing endpoint got {share:.2} of calls: {picks:?}"
    );
}

#[test]
fn force_picks_stale_endpoint() {
    let clock = ManualClock::new();
    let p = P2c::with_clock(clock.clone(), 1);
    p.set_endpoints(["fast", "slow"]);
    let latency = HashMap::from([("fast", ms(1)), ("slow", ms(200))]);
    // A new endpoint has no latency yet and draws traffic until its first answers come
    // back; warm up past that.
    simulate(&p, &clock, &latency, &[], 200, 2);
    let picks = simulate(&p, &clock, &latency, &[], 200, 10);
    // Never better, yet picked about once a second so its recovery would be noticed.
    assert!((8..=20).contains(&picks["slow"]), "{picks:?}");
}

#[test]
fn handles_endpoint_removal_and_addition() {
    let clock = ManualClock::new();
    let p = P2c::with_clock(clock.clone(), 3);
    p.set_endpoints(["a", "b"]);
    let held = p.pick().expect("pick");
    p.set_endpoints(["b", "c"]);
    let mut keys = p.endpoints();
    keys.sort_unstable();
    assert_eq!(keys, ["b", "c"]);
    held.done(true); // a call to a removed endpoint still completes cleanly
    for _ in 0..100 {
        let picked = p.pick().expect("pick");
        assert_ne!(picked.key(), Some(&"a"));
        picked.done(true);
    }
    p.set_endpoints([]);
    assert!(p.pick().is_none());
}

#[test]
fn one_endpoint_is_always_picked() {
    let p = P2c::with_clock(ManualClock::new(), 0);
    p.set_endpoints(["only", "only"]);
    assert_eq!(p.endpoints(), ["only"], "duplicates collapse");
    for _ in 0..10 {
        let picked = p.pick().expect("pick");
        assert_eq!(picked.key(), Some(&"only"));
        drop(picked);
    }
}

#[test]
fn a_hung_endpoint_whose_calls_time_out_looks_slow() {
    let clock = ManualClock::new();
    let p = P2c::with_clock(clock.clone(), 5);
    p.set_endpoints(["a", "b", "hung"]);
    // Every call to "hung" is abandoned by its caller's 500 ms timeout: the Picked is
    // dropped unreported, and the time it was held still counts as its latency.
    let latency = HashMap::from([("a", ms(5)), ("b", ms(5)), ("hung", ms(500))]);
    let step = ms(2);
    let mut now = Duration::ZERO;
    let mut in_flight: Vec<(Duration, Picked<&'static str>)> = Vec::new();
    let mut hung = 0;
    for i in 0..10_000 {
        clock.advance(step);
        now += step;
        let (due, rest): (Vec<_>, Vec<_>) = in_flight.into_iter().partition(|(end, _)| *end <= now);
        in_flight = rest;
        for (_, picked) in due {
            if picked.key() == Some(&"hung") {
                drop(picked); // timed out
            } else {
                picked.done(true);
            }
        }
        let picked = p.pick().expect("endpoints");
        let key = *picked.key().expect("key");
        if key == "hung" && i >= 5_000 {
            hung += 1;
        }
        in_flight.push((now + latency[key], picked));
    }
    assert!(
        hung < 250,
        "the hung endpoint got {hung} of the last 5000 calls"
    );
    let stats = p.stats();
    let of = |k| stats.iter().find(|s| s.key == k).expect("stats");
    assert!(of("hung").lag >= ms(400), "{stats:?}");
    assert_eq!(
        of("hung").success,
        1000,
        "a timeout from outside is not a failure"
    );
}

#[test]
fn add_and_remove_one_at_a_time() {
    let p = P2c::with_clock(ManualClock::new(), 9);
    p.add("a");
    p.add("b");
    p.add("a");
    assert_eq!(p.endpoints(), ["a", "b"]);
    p.remove(&"a");
    assert_eq!(p.endpoints(), ["b"]);
    let picked = p.pick().expect("pick");
    assert_eq!(p.stats()[0].in_flight, 1);
    picked.done(false);
    let stats = p.stats();
    assert_eq!((stats[0].in_flight, stats[0].success), (0, 0));
}
