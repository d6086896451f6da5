//! What asking the breaker costs: `allow` plus reporting the outcome, on a healthy target
//! and on a failing one (where most calls are refused), and through a `BreakerSet`.
//!
//! `cargo bench -p rzero-resilience --bench breaker`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rzero_resilience::breaker::{BreakerConfig, BreakerSet, Outcome, SreBreaker};

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
    let set: BreakerSet<String> = BreakerSet::new(BreakerConfig::default());
    for i in 0..20 {
        set.get(&format!("/order.Order/Method{i}"));
    }
    c.bench_function("breaker/set_get_allow_accept", |b| {
        b.iter(|| {
            if let Ok(p) = black_box(&set).get("/order.Order/Method7").allow() {
                p.accept();
            }
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
