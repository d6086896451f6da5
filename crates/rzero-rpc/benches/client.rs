//! Micro-benchmarks of what the client adds per call before the network: the breaker's
//! allow and report as the client's breaker layer does them (set lookup by method path
//! included), and the balancer's pick and report over 3 and 20 endpoints.
//! (rzero-resilience's own benches measure the bare algorithms.)

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rzero_resilience::breaker::{BreakerConfig, BreakerSet};
use rzero_resilience::p2c::P2c;

fn breaker(c: &mut Criterion) {
    let set: BreakerSet<String> = BreakerSet::new(BreakerConfig::default());
    for m in ["/a.A/One", "/a.A/Two", "/a.A/Three"] {
        set.get(m);
    }
    c.bench_function("breaker allow+accept (per method)", |b| {
        b.iter(|| match set.get(black_box("/a.A/Two")).allow() {
            Ok(p) => p.accept(),
            Err(e) => {
                black_box(e);
            }
        })
    });
}

fn balancer(c: &mut Criterion) {
    for n in [3usize, 20] {
        let p2c = P2c::new();
        p2c.set_endpoints((0..n).map(|i| format!("10.0.0.{i}:8080")));
        c.bench_function(&format!("p2c pick+done ({n} endpoints)"), |b| {
            b.iter(|| {
                if let Some(p) = p2c.pick() {
                    black_box(p.key());
                    p.done(true);
                }
            })
        });
    }
}

criterion_group!(benches, breaker, balancer);
criterion_main!(benches);
