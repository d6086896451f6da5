//! What asking the shedder costs: `allow` plus `pass`, on a cool CPU (the common case:
//! the window is read only when hot) and on a hot one.
//!
//! `cargo bench -p rzero-resilience --bench shedder`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rzero_resilience::shedder::{AdaptiveShedder, FixedCpu, ShedderConfig};

fn bench(c: &mut Criterion) {
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

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
