//! What asking costs: the breaker's `allow` plus reporting the outcome, on a healthy
//! target and on a failing one (where most calls are refused), and the shedder's `allow`
//! plus `pass` on a cool CPU (the common case: the window is read only when hot), and a
//! P2C pick plus its report over 3 and 10 endpoints.
//!
//! `cargo bench -p rzero-resilience --bench breaker`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rzero_resilience::breaker::{BreakerConfig, Outcome, SreBreaker};
use rzero_resilience::p2c::P2c;
use rzero_resilience::shedder::{AdaptiveShedder, FixedCpu, ShedderConfig};

fn bench(c: &mut Criterion) {
    let healthy = SreBreaker::new(BreakerConfig::default());
    c.bench_function("breaker/allow_accept_healthy", |b| {
        b.iter(|| {
            if let Ok(p) = black_box(&healthy).allow() {
                p.accept();
            }
        })
    });
    let failing = SreBreaker::new(BreakerConfig::default());
    for _ in 0..10_000 {
        failing.mark(Outcome::Failure);
    }
    c.bench_function("breaker/allow_reject_failing", |b| {
        b.iter(|| match black_box(&failing).allow() {
            Ok(p) => p.reject(),
            Err(e) => drop(black_box(e)),
        })
    });
    let cool = AdaptiveShedder::new(ShedderConfig::default(), FixedCpu::new(200));
    c.bench_function("shedder/allow_pass_cool_cpu", |b| {
        b.iter(|| {
            if let Ok(p) = black_box(&cool).allow() {
                p.pass();
            }
        })
    });
    let hot = AdaptiveShedder::new(ShedderConfig::default(), FixedCpu::new(950));
    c.bench_function("shedder/allow_pass_hot_cpu", |b| {
        b.iter(|| {
            if let Ok(p) = black_box(&hot).allow() {
                p.pass();
            }
        })
    });
}

fn bench_p2c(c: &mut Criterion) {
    for n in [3usize, 10] {
        let p = P2c::new();
        p.set_endpoints((0..n).map(|i| format!("10.0.0.{i}:8080")));
        c.bench_function(&format!("p2c/pick_done_{n}_endpoints"), |b| {
            b.iter(|| {
                if let Some(picked) = black_box(&p).pick() {
                    picked.done(true);
                }
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = bench, bench_p2c
}
criterion_main!(benches);
