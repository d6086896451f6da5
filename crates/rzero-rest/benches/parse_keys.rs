//! How long [`Parsed`] takes over a JSON body with many keys, a one-off timing per size
//! (no criterion: the quadratic version took seconds per body, too slow to sample). The
//! figure to read is how the time grows with the number of keys: linear means ~10x per
//! 10x keys.
//!
//! `cargo bench -p rzero-rest --bench parse_keys`

use std::time::{Duration, Instant};

use axum::body::Body;
use http::Request;
use rzero_rest::{Parse, Parsed, Route, Server};
use tower::ServiceExt;

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Req {
    #[serde(default)]
    amount: u64,
}
impl Parse for Req {}

/// `{"k0":0,"k1":1,...}`: `keys` distinct keys, ~13 bytes each (78k keys is ~1 MiB).
fn body(keys: usize) -> String {
    let mut s = String::with_capacity(keys * 14 + 2);
    s.push('{');
    for i in 0..keys {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!("\"k{i:06}\":{}", i % 10));
    }
    s.push('}');
    s
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let conf = rzero_rest::RestConf {
        middlewares: rzero_rest::MiddlewaresConf::none(),
        ..Default::default()
    };
    let router = Server::new(conf)
        .route(Route::post("/p", |Parsed(_r): Parsed<Req>| async { "ok" }))
        .into_router()
        .expect("router");
    for keys in [1_000usize, 10_000, 78_000] {
        let body = body(keys);
        let bytes = body.len();
        let runs = if keys >= 78_000 { 3 } else { 5 };
        let mut best = Duration::MAX;
        for _ in 0..runs {
            let req = Request::post("/p")
                .header("content-type", "application/json")
                .body(Body::from(body.clone()))
                .expect("request");
            let start = Instant::now();
            let resp = rt
                .block_on(router.clone().oneshot(req))
                .expect("infallible");
            best = best.min(start.elapsed());
            assert!(resp.status().is_success(), "{}", resp.status());
        }
        println!("parse_keys/{keys} keys ({bytes} bytes): best of {runs} = {best:?}");
    }
}
