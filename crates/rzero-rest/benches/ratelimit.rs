//! The rate limiter's cost per request, next to its peer, tower's `RateLimit` (tower
//! feature `limit`), both on the allowed path around a service that answers at once; the
//! bare bucket's `allow()`; the layer keyed by a header over 1000 clients; and a round trip of go-zero's Redis token limit against the
//! Redis at 127.0.0.1:6379 (skipped when it is not there).
//!
//! `cargo bench -p rzero-rest --bench ratelimit`

use std::convert::Infallible;
use std::hint::black_box;
use std::time::Duration;

use axum::body::Body;
use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;
use http::{Request, Response};
use rzero_resilience::clock::SystemClock;
use rzero_rest::ratelimit::{RateLimitLayer, RouteLimitConf, TokenBucket};
use rzero_rest::respond::Refusals;
use rzero_stores::limit::TokenLimit;
use rzero_stores::redis::RedisStore;
use tower::{Layer, Service, ServiceExt, service_fn};

/// High enough that every call in the run is allowed: the allowed path is what a
/// request pays.
const RATE: u32 = 1_000_000_000;

async fn ok(_req: Request<Body>) -> Result<Response<Body>, Infallible> {
    Ok(Response::new(Body::empty()))
}

fn drive<S>(svc: &mut S)
where
    S: Service<Request<Body>, Response = Response<Body>>,
    S::Error: std::fmt::Debug,
{
    drive_req(svc, Request::new(Body::empty()));
}

fn drive_req<S>(svc: &mut S, req: Request<Body>)
where
    S: Service<Request<Body>, Response = Response<Body>>,
    S::Error: std::fmt::Debug,
{
    let ready = svc
        .ready()
        .now_or_never()
        .expect("ready at once")
        .expect("ready");
    let resp = ready
        .call(req)
        .now_or_never()
        .expect("answers at once")
        .expect("answer");
    black_box(resp);
}

fn local(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let _guard = rt.enter();
    let mut g = c.benchmark_group("ratelimit");
    let bucket = TokenBucket::new(RATE, RATE, SystemClock::default());
    g.bench_function("bucket_allow", |b| b.iter(|| black_box(bucket.allow())));
    let mut rzero =
        RateLimitLayer::local("GET /x", RATE, RATE, Refusals::default()).layer(service_fn(ok));
    g.bench_function("rzero_layer", |b| b.iter(|| drive(&mut rzero)));
    // Keyed by a header, 1000 clients in turn: the key's lookup in the bucket table.
    let keyed = RouteLimitConf {
        path: "/x".into(),
        rate: RATE,
        burst: RATE,
        key: Some("header:x-api-key".into()),
        ..Default::default()
    };
    let mut rzero_keyed = RateLimitLayer::local_rule(&keyed, "GET /x", Refusals::default())
        .expect("a local keyed rule")
        .layer(service_fn(ok));
    let keys: Vec<http::HeaderValue> = (0..1000)
        .map(|i| http::HeaderValue::from_str(&format!("client-{i}")).expect("value"))
        .collect();
    let mut i = 0;
    g.bench_function("rzero_layer_keyed_header", |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            let mut req = Request::new(Body::empty());
            req.headers_mut().insert("x-api-key", keys[i].clone());
            drive_req(&mut rzero_keyed, req)
        })
    });
    let mut tower_rl = tower::limit::RateLimitLayer::new(u64::from(RATE), Duration::from_secs(1))
        .layer(service_fn(ok));
    g.bench_function("tower_rate_limit", |b| b.iter(|| drive(&mut tower_rl)));
    let mut bare = service_fn(ok);
    g.bench_function("no_limit", |b| b.iter(|| drive(&mut bare)));
    g.finish();
}

fn redis(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let conf = rzero_conf::RedisConf {
        host: "127.0.0.1:6379".into(),
        ..Default::default()
    };
    let store = rt.block_on(async {
        let s = RedisStore::connect_with(&conf, rzero_stores::Telemetry::global()).await;
        match s {
            Ok(s) if s.ping().await.is_ok() => Some(s),
            _ => None,
        }
    });
    let Some(store) = store else {
        eprintln!("no Redis at 127.0.0.1:6379: skipping the Redis round trip");
        return;
    };
    let limit = TokenLimit::new(RATE, RATE, store.clone());
    let mut g = c.benchmark_group("ratelimit_redis");
    g.bench_function("token_take", |b| {
        b.iter(|| {
            rt.block_on(limit.take("rzero-bench:token", 1))
                .expect("take")
        })
    });
    g.bench_function("ping", |b| {
        b.iter(|| rt.block_on(store.ping()).expect("ping"))
    });
    g.finish();
}

criterion_group!(benches, local, redis);
criterion_main!(benches);
