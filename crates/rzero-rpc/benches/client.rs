//! Micro-benchmarks of what the client adds per call before the network: the breaker's
//! allow and report as the client's breaker layer does them (set lookup by method path
//! included), and the balancer's pick and report over 3 and 20 endpoints.
//! (rzero-resilience's own benches measure the bare algorithms.)

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rzero_resilience::breaker::{BreakerConfig, BreakerSet};
use rzero_resilience::p2c::P2c;
use rzero_rpc::client::balance::ring::{DEFAULT_REPLICAS, Ring};
use rzero_rpc::client::balance::{Balance, ChannelSettings};

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

fn hash(c: &mut Criterion) {
    let keys: Vec<String> = (0..1024).map(|i| format!("user-{i}")).collect();
    for n in [3usize, 20] {
        let nodes: Vec<String> = (0..n).map(|i| format!("10.0.0.{i}:8080")).collect();
        let ring = Ring::new(nodes.clone(), DEFAULT_REPLICAS, |s: &String| s.as_str());
        let mut i = 0;
        c.bench_function(&format!("hash ring get ({n} endpoints)"), |b| {
            b.iter(|| {
                i = (i + 1) & 1023;
                black_box(ring.get(black_box(keys[i].as_bytes())));
            })
        });

        // The balancer's pick: read lock, ring lookup, endpoint (channel) clone.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let _enter = rt.enter();
        let settings = ChannelSettings {
            keepalive: None,
            connect_timeout: std::time::Duration::from_secs(1),
            tls: None,
        };
        let balance = Balance::new("bench", settings).consistent_hash(None, DEFAULT_REPLICAS);
        balance.set_endpoints(&nodes);
        c.bench_function(&format!("consistent_hash pick ({n} endpoints)"), |b| {
            b.iter(|| {
                i = (i + 1) & 1023;
                black_box(balance.pick_hashed(black_box(keys[i].as_bytes())));
            })
        });
    }
}

criterion_group!(benches, breaker, balancer, hash);
criterion_main!(benches);
