//! Scenarios on a simulated server: requests arrive, stay in flight for a latency, and
//! leave; the CPU reading is forced; time is a manual clock.

use std::collections::VecDeque;
use std::time::Duration;

use super::*;
use crate::clock::ManualClock;

/// A server that takes `latency` per request, offered `rate` requests per second for
/// `secs` seconds. Returns (offered, shed).
fn simulate(
    s: &AdaptiveShedder,
    clock: &ManualClock,
    rate: u32,
    latency: Duration,
    secs: u32,
) -> (u32, u32) {
    let step = Duration::from_secs(1) / rate;
    let mut in_flight: VecDeque<(Duration, ShedPromise)> = VecDeque::new();
    let (mut offered, mut shed) = (0, 0);
    let mut now = Duration::ZERO;
    for _ in 0..rate * secs {
        clock.advance(step);
        now += step;
        while in_flight.front().is_some_and(|(done, _)| *done <= now) {
            if let Some((_, p)) = in_flight.pop_front() {
                p.pass();
            }
        }
        offered += 1;
        match s.allow() {
            Ok(p) => in_flight.push_back((now + latency, p)),
            Err(Overloaded) => shed += 1,
        }
    }
    for (_, p) in in_flight {
        p.pass();
    }
    (offered, shed)
}

fn shedder(cpu: &FixedCpu) -> (AdaptiveShedder, ManualClock) {
    let clock = ManualClock::new();
    (
        AdaptiveShedder::with_clock(ShedderConfig::default(), cpu.clone(), clock.clone()),
        clock,
    )
}

#[test]
fn passes_when_cpu_low() {
    let cpu = FixedCpu::new(300);
    let (s, clock) = shedder(&cpu);
    // Even a latency spike (requests pile up) is not shed while the CPU has room.
    simulate(&s, &clock, 1000, Duration::from_millis(5), 5);
    let (_, shed) = simulate(&s, &clock, 1000, Duration::from_millis(200), 5);
    assert_eq!(shed, 0);
    assert_eq!(s.dropped(), 0);
}

#[test]
fn sheds_when_cpu_high() {
    let cpu = FixedCpu::new(300);
    let (s, clock) = shedder(&cpu);
    // Learn capacity: 1000 req/s at 5 ms is about 5 in flight.
    simulate(&s, &clock, 1000, Duration::from_millis(5), 6);
    cpu.set(950);
    // Overload: the same rate now takes 100 ms, so 100 would pile up in flight.
    let (offered, shed) = simulate(&s, &clock, 1000, Duration::from_millis(100), 3);
    assert!(shed > offered / 2, "shed {shed} of {offered}");
    assert!(s.in_flight() == 0 && s.dropped() == u64::from(shed));
}

#[test]
fn the_hotter_the_cpu_the_smaller_the_capacity() {
    // Capacity is scaled by (1000 - cpu) / (1000 - threshold): at the same load, a CPU
    // just over the threshold sheds a little and a saturated one sheds most.
    let shed_at = |millicpu| {
        let cpu = FixedCpu::new(300);
        let (s, clock) = shedder(&cpu);
        simulate(&s, &clock, 1000, Duration::from_millis(5), 6);
        cpu.set(millicpu);
        simulate(&s, &clock, 1000, Duration::from_millis(8), 3).1
    };
    let (warm, hot) = (shed_at(910), shed_at(990));
    assert!(hot > warm, "shed at 910: {warm}, at 990: {hot}");
    assert!(hot > 1500, "a saturated CPU sheds most of 3000: {hot}");
}

#[test]
fn cools_off_for_a_second_after_dropping() {
    let cpu = FixedCpu::new(300);
    let (s, clock) = shedder(&cpu);
    simulate(&s, &clock, 1000, Duration::from_millis(5), 6);
    cpu.set(950);
    let (_, shed) = simulate(&s, &clock, 1000, Duration::from_millis(100), 2);
    assert!(shed > 0);
    // CPU falls but the backlog is still there: within the cool-off it keeps shedding...
    cpu.set(300);
    let (_, shed_hot) = simulate(&s, &clock, 1000, Duration::from_millis(100), 1);
    assert!(shed_hot > 0, "still hot within a second of the last drop");
    // ...and once a second passes without a hot reading, it stops.
    clock.advance(Duration::from_secs(2));
    let (_, shed_later) = simulate(&s, &clock, 1000, Duration::from_millis(5), 2);
    assert_eq!(shed_later, 0);
}

#[test]
fn zero_threshold_turns_shedding_off() {
    let cpu = FixedCpu::new(1000);
    let clock = ManualClock::new();
    let config = ShedderConfig {
        cpu_threshold: 0,
        ..ShedderConfig::default()
    };
    let s = AdaptiveShedder::with_clock(config, cpu, clock.clone());
    let (_, shed) = simulate(&s, &clock, 1000, Duration::from_millis(300), 3);
    assert_eq!(shed, 0);
}

#[test]
fn cancelled_requests_leave_the_in_flight_count() {
    let (s, _clock) = shedder(&FixedCpu::new(0));
    let promises: Vec<_> = (0..10).map(|_| s.allow().expect("allowed")).collect();
    assert_eq!(s.in_flight(), 10);
    drop(promises);
    assert_eq!(s.in_flight(), 0);
}

#[test]
fn the_real_sampler_reads_something_sane() {
    let sampler = CpuSampler::start().expect("spawn");
    let usage = sampler.usage();
    // Burn a little CPU so the reading has something to see, then check the range only.
    let start = std::time::Instant::now();
    let mut x = 0u64;
    while start.elapsed() < Duration::from_millis(600) {
        x = x.wrapping_mul(31).wrapping_add(7);
    }
    std::hint::black_box(x);
    assert!(usage.millicpu() <= 1000);
    sampler.stop();
}

mod layer {
    use std::convert::Infallible;

    use tower::{Layer, Service, ServiceExt, service_fn};

    use super::*;
    use crate::classify::HttpServerErrors;

    #[tokio::test]
    async fn sheds_with_overloaded_and_counts() {
        let cpu = FixedCpu::new(1000);
        let clock = ManualClock::new();
        let s = AdaptiveShedder::with_clock(ShedderConfig::default(), cpu, clock.clone());
        // Pile requests up so in-flight exceeds the (default, untrained) capacity of 1.
        let held: Vec<_> = (0..20).map(|_| s.allow().ok()).collect();
        for _ in 0..50 {
            clock.advance(Duration::from_millis(1));
            let p = s.allow().ok();
            drop(p);
        }
        let mut svc =
            LoadShedLayer::new(s.clone(), HttpServerErrors).layer(service_fn(|_: ()| async {
                Ok::<_, Infallible>(http::Response::new(()))
            }));
        let err = svc
            .ready()
            .await
            .expect("ready")
            .call(())
            .await
            .expect_err("shed");
        assert!(err.downcast_ref::<Overloaded>().is_some(), "{err}");
        assert!(s.dropped() > 0);
        drop(held);
    }

    #[tokio::test]
    async fn a_served_500_counts_as_throughput_and_a_503_does_not() {
        use crate::classify::HttpUnavailable;

        let clock = ManualClock::new();
        let s =
            AdaptiveShedder::with_clock(ShedderConfig::default(), FixedCpu::new(0), clock.clone());
        let mut svc = LoadShedLayer::new(s.clone(), HttpUnavailable).layer(service_fn(
            |status: u16| async move {
                let resp = http::Response::builder()
                    .status(status)
                    .body(())
                    .expect("response");
                Ok::<_, Infallible>(resp)
            },
        ));
        for status in [500, 503, 200] {
            let resp = svc
                .ready()
                .await
                .expect("ready")
                .call(status)
                .await
                .expect("served");
            assert_eq!(resp.status(), status);
        }
        assert_eq!(s.in_flight(), 0);
        // Passes land in the window's current bucket, which the estimate skips: move on.
        clock.advance(Duration::from_millis(150));
        assert_eq!(s.stats().max_pass, 2, "the 500 and the 200");
    }
}
