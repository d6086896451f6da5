//! What balancing costs: a P2C pick plus its report, over 3 and 10 endpoints.
//!
//! `cargo bench -p rzero-resilience --bench p2c`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rzero_resilience::p2c::P2c;

fn bench(c: &mut Criterion) {
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
    targets = bench
}
criterion_main!(benches);
