//! `hop-load client <grpc-addr> <concurrency> <secs> [calls]`: the gRPC load generator of
//! the echo rows. A plain tonic client (no tracing: it is the load, not what is measured)
//! on one HTTP/2 connection keeps `concurrency` unary calls in flight for `secs` seconds,
//! or until `calls` calls were made (the callgrind count wants an exact number), then
//! prints one line the harness reads:
//!
//! ```text
//! calls 123456 errors 0 secs 5.001 rps 24686.1 p50_ms 2.345 p99_ms 6.789
//! ```
//!
//! Bounded: at most [`MAX_CONCURRENCY`] calls in flight and [`MAX_SECS`] seconds, each
//! call times out after [`CALL_TIMEOUT`], so the client stops by itself even when the
//! server hangs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tonic::transport::Endpoint;

use crate::BoxError;
use crate::pb::echo_client::EchoClient;

const MAX_CONCURRENCY: usize = 1024;
const MAX_SECS: u64 = 600;
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) async fn run(
    addr: SocketAddr,
    concurrency: usize,
    secs: u64,
    calls: Option<u64>,
) -> Result<(), BoxError> {
    if !(1..=MAX_CONCURRENCY).contains(&concurrency) || !(1..=MAX_SECS).contains(&secs) {
        return Err(format!(
            "concurrency must be 1 to {MAX_CONCURRENCY} and seconds 1 to {MAX_SECS}"
        )
        .into());
    }
    let channel = Endpoint::from_shared(format!("http://{addr}"))?
        .tcp_nodelay(true)
        .timeout(CALL_TIMEOUT)
        .connect()
        .await?;
    let client = EchoClient::new(channel);
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let started = Arc::new(AtomicU64::new(0));
    let limit = calls.unwrap_or(u64::MAX);
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let mut client = client.clone();
            let started = started.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(1 << 14);
                let mut errors = 0u64;
                while Instant::now() < deadline && started.fetch_add(1, Ordering::Relaxed) < limit {
                    let t = Instant::now();
                    match client.say(crate::request()).await {
                        Ok(_) => latencies.push(t.elapsed().as_micros() as u64),
                        Err(_) => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.await?;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1));
        latencies.get(i).copied().unwrap_or(0) as f64 / 1000.0
    };
    println!(
        "calls {} errors {errors} secs {elapsed:.3} rps {:.1} p50_ms {:.3} p99_ms {:.3}",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99),
    );
    Ok(())
}
