//! The load benchmark: a unary echo call through rzero's client and server (every
//! default layer, tracing at 100% into the batch processor with the guide's defaults
//! and a discarding exporter) against plain tonic client and server, in one run, on
//! loopback, sharing this machine's cores with the load generator.
//!
//! `cargo bench -p rzero-rpc --bench load` prints req/s, p50, p99 and CPU per call of
//! each, and rzero's as ratios of plain tonic's. `RZERO_BENCH_SECS` sets the seconds per
//! round (default 3), `RZERO_BENCH_ROUNDS` the rounds of each (default 3),
//! `RZERO_BENCH_CONCURRENCY` the calls in flight (default 32),
//! `RZERO_BENCH_TRACE=0` runs rzero without spans (to split their cost off),
//! `RZERO_BENCH_TLS=1` adds rzero over TLS (certificates made at start) as a third
//! contender, reported as a ratio of rzero in plaintext. Rounds alternate (plain, rzero,
//! [rzero tls,] plain, ...) so that drift hits all alike.

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider, SpanData, SpanExporter,
};
use rzero_rpc::testing::TestCa;
use rzero_rpc::tls::{ClientTlsConf, ServerTlsConf};
use rzero_rpc::{RpcClient, RpcClientConf, RpcServer, RpcServerConf};
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status};

#[allow(clippy::all, missing_docs, unreachable_pub)]
mod pb {
    tonic::include_proto!("echo");
}

use pb::echo_client::EchoClient;
use pb::echo_server::{Echo, EchoServer};
use pb::{EchoReply, EchoRequest};

#[derive(Clone, Default)]
struct Plain;

#[tonic::async_trait]
impl Echo for Plain {
    async fn say(&self, req: Request<EchoRequest>) -> Result<Response<EchoReply>, Status> {
        Ok(Response::new(EchoReply {
            message: req.into_inner().message,
            server: String::new(),
        }))
    }

    type StreamStream = tokio_stream::Empty<Result<EchoReply, Status>>;

    async fn stream(
        &self,
        _: Request<EchoRequest>,
    ) -> Result<Response<Self::StreamStream>, Status> {
        Ok(Response::new(tokio_stream::empty()))
    }
}

#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

fn provider() -> SdkTracerProvider {
    let config = BatchConfigBuilder::default()
        .with_max_queue_size(2048)
        .with_max_export_batch_size(512)
        .with_scheduled_delay(Duration::from_secs(5))
        .build();
    SdkTracerProvider::builder()
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
        .with_span_processor(BatchSpanProcessor::new(Discard, config))
        .build()
}

/// Process CPU time (user + system) from `/proc/self/stat`, in clock ticks of 10 ms.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let get = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    get(11) + get(12)
}

struct Outcome {
    calls: u64,
    secs: f64,
    p50_us: f64,
    p99_us: f64,
    cpu_us_per_call: f64,
}

async fn drive<C>(client: EchoClient<C>, secs: u64, concurrency: usize) -> Outcome
where
    C: tonic::client::GrpcService<tonic::body::Body> + Clone + Send + 'static,
    C::ResponseBody: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    <C::ResponseBody as http_body::Body>::Error:
        Into<Box<dyn std::error::Error + Send + Sync>> + Send,
    C::Future: Send,
{
    let stop = Arc::new(AtomicBool::new(false));
    let cpu0 = cpu_ticks();
    let start = Instant::now();
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let mut client = client.clone();
        let stop = stop.clone();
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(1 << 16);
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let r = client
                    .say(EchoRequest {
                        message: "hello".into(),
                        ..EchoRequest::default()
                    })
                    .await;
                if r.is_ok() {
                    lat.push(t.elapsed().as_micros() as u32);
                }
            }
            lat
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap_or_default());
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu_us = (cpu_ticks() - cpu0) as f64 * 10_000.0;
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
    };
    let calls = all.len() as u64;
    Outcome {
        calls,
        secs,
        p50_us: pct(0.50),
        p99_us: pct(0.99),
        cpu_us_per_call: cpu_us / calls.max(1) as f64,
    }
}

async fn plain_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let incoming = TcpListenerStream::new(listener).map(|c| {
        if let Ok(c) = &c {
            let _ = c.set_nodelay(true);
        }
        c
    });
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(EchoServer::new(Plain))
            .serve_with_incoming(incoming),
    );
    addr
}

async fn rzero_server(
    provider: &SdkTracerProvider,
    traced: bool,
    tls: Option<ServerTlsConf>,
) -> SocketAddr {
    let conf = RpcServerConf {
        listen_on: "127.0.0.1:0".into(),
        tls,
        ..RpcServerConf::default()
    };
    let mut server = RpcServer::new(conf).add_service(EchoServer::new(Plain));
    if traced {
        server = server.tracer(provider.tracer("bench-server"));
    }
    let server = server.bind().await.expect("bind");
    let addr = server.local_addr();
    tokio::spawn(server.serve(std::future::pending()));
    addr
}

fn report(name: &str, o: &Outcome) {
    println!(
        "{name:<14} {:>10.0} req/s  p50 {:>7.0} us  p99 {:>7.0} us  cpu {:>6.1} us/call  ({} calls)",
        o.calls as f64 / o.secs,
        o.p50_us,
        o.p99_us,
        o.cpu_us_per_call,
        o.calls
    );
}

fn merge(a: &Outcome, b: &Outcome) -> Outcome {
    let calls = a.calls + b.calls;
    let w = |x: f64, y: f64| (x * a.calls as f64 + y * b.calls as f64) / calls.max(1) as f64;
    Outcome {
        calls,
        secs: a.secs + b.secs,
        p50_us: w(a.p50_us, b.p50_us),
        p99_us: w(a.p99_us, b.p99_us),
        cpu_us_per_call: w(a.cpu_us_per_call, b.cpu_us_per_call),
    }
}

fn main() {
    let secs: u64 = std::env::var("RZERO_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let concurrency: usize = std::env::var("RZERO_BENCH_CONCURRENCY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(32);
    let rounds: usize = std::env::var("RZERO_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
        .max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let provider = provider();
        let plain_addr = plain_server().await;
        let traced = std::env::var("RZERO_BENCH_TRACE").as_deref() != Ok("0");
        let rzero_addr = rzero_server(&provider, traced, None).await;
        let plain_client = EchoClient::new(
            tonic::transport::Endpoint::from_shared(format!("http://{plain_addr}"))
                .expect("uri")
                .tcp_nodelay(true)
                .connect()
                .await
                .expect("connect"),
        );
        let mut builder = RpcClient::builder(RpcClientConf {
            endpoints: vec![rzero_addr.to_string()],
            ..RpcClientConf::default()
        });
        if traced {
            builder = builder.tracer(provider.tracer("bench-client"));
        }
        let rzero_client = EchoClient::new(builder.build().await.expect("client"));
        let dir = tempfile::tempdir().expect("dir");
        let tls_client = if std::env::var("RZERO_BENCH_TLS").as_deref() == Ok("1") {
            let ca = TestCa::new(dir.path(), "bench");
            let cert = ca.issue("server", &["127.0.0.1"]);
            let server_tls = ServerTlsConf {
                cert_file: cert.cert.to_string_lossy().into_owned(),
                key_file: cert.key.to_string_lossy().into_owned(),
                ca_cert_file: String::new(),
            };
            let addr = rzero_server(&provider, traced, Some(server_tls)).await;
            let mut builder = RpcClient::builder(RpcClientConf {
                endpoints: vec![addr.to_string()],
                tls: Some(ClientTlsConf {
                    ca_cert_file: ca.file().to_string_lossy().into_owned(),
                    ..ClientTlsConf::default()
                }),
                ..RpcClientConf::default()
            });
            if traced {
                builder = builder.tracer(provider.tracer("bench-client"));
            }
            Some(EchoClient::new(builder.build().await.expect("tls client")))
        } else {
            None
        };
        println!(
            "unary echo, {concurrency} in flight, {secs} s per round, {rounds} rounds each, 2 worker threads"
        );
        // Warm-up: connections, allocator, caches.
        drive(plain_client.clone(), 1, concurrency).await;
        drive(rzero_client.clone(), 1, concurrency).await;
        if let Some(c) = &tls_client {
            drive(c.clone(), 1, concurrency).await;
        }
        let mut plain = drive(plain_client.clone(), secs, concurrency).await;
        let mut rzero = drive(rzero_client.clone(), secs, concurrency).await;
        let mut tls = match &tls_client {
            Some(c) => Some(drive(c.clone(), secs, concurrency).await),
            None => None,
        };
        for _ in 1..rounds {
            plain = merge(&plain, &drive(plain_client.clone(), secs, concurrency).await);
            rzero = merge(&rzero, &drive(rzero_client.clone(), secs, concurrency).await);
            if let (Some(c), Some(t)) = (&tls_client, &tls) {
                tls = Some(merge(t, &drive(c.clone(), secs, concurrency).await));
            }
        }
        report("plain tonic", &plain);
        report(if traced { "rzero (traced)" } else { "rzero (no spans)" }, &rzero);
        println!(
            "rzero / plain: throughput {:.2}, p50 {:.2}, p99 {:.2}, cpu per call {:.2}",
            (rzero.calls as f64 / rzero.secs) / (plain.calls as f64 / plain.secs),
            rzero.p50_us / plain.p50_us.max(1.0),
            rzero.p99_us / plain.p99_us.max(1.0),
            rzero.cpu_us_per_call / plain.cpu_us_per_call.max(0.001),
        );
        if let Some(t) = &tls {
            report("rzero (tls)", t);
            println!(
                "rzero tls / rzero plaintext: throughput {:.2}, p50 {:.2}, p99 {:.2}, cpu per call {:.2}",
                (t.calls as f64 / t.secs) / (rzero.calls as f64 / rzero.secs),
                t.p50_us / rzero.p50_us.max(1.0),
                t.p99_us / rzero.p99_us.max(1.0),
                t.cpu_us_per_call / rzero.cpu_us_per_call.max(0.001),
            );
        }
        let _ = provider.shutdown();
    });
}
