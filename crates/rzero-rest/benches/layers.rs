//! What each layer costs per request, in process (no sockets): a request through a
//! service that answers at once, bare and behind the trace, metrics and recover layers;
//! and through the whole router `Server` builds, with every middleware off, with the
//! defaults and no telemetry, and with the defaults, a tracer and a meter.
//!
//! `cargo bench -p rzero-rest --bench layers`

use std::convert::Infallible;
use std::hint::black_box;
use std::time::Duration;

use axum::body::Body;
use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;
use http::{Request, Response};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use rzero_rest::metrics::MetricsLayer;
use rzero_rest::recover::RecoverLayer;
use rzero_rest::trace::TraceLayer;
use tower::{Layer, Service, service_fn};

fn request() -> Request<Body> {
    Request::builder()
        .uri("/api/v1/orders/42")
        .header("host", "127.0.0.1:8888")
        .header("user-agent", "wrk")
        .body(Body::empty())
        .expect("request")
}

fn run<S>(svc: &mut S)
where
    S: Service<Request<Body>, Response = Response<Body>>,
    S::Error: std::fmt::Debug,
{
    let resp = svc
        .call(request())
        .now_or_never()
        .expect("ready")
        .expect("ok");
    black_box(resp);
}

fn bench(c: &mut Criterion) {
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let inner = service_fn(|_req: Request<Body>| async {
        Ok::<_, Infallible>(Response::new(Body::empty()))
    });
    let tracer = SdkTracerProvider::builder().build().tracer("bench");
    let meter = SdkMeterProvider::builder().build().meter("bench");
    let mut group = c.benchmark_group("layer");
    let mut bare = inner;
    group.bench_function("bare", |b| b.iter(|| run(&mut bare)));
    let mut traced = TraceLayer::new(tracer).layer(inner);
    group.bench_function("trace", |b| b.iter(|| run(&mut traced)));
    let mut metered = MetricsLayer::new(&meter).layer(inner);
    group.bench_function("metrics", |b| b.iter(|| run(&mut metered)));
    let mut recovered = RecoverLayer.layer(inner);
    group.bench_function("recover", |b| b.iter(|| run(&mut recovered)));
    group.finish();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let router = |middlewares: Option<rzero_rest::MiddlewaresConf>, telemetry: bool| {
        let mut conf = rzero_rest::RestConf::default();
        if let Some(m) = middlewares {
            conf.middlewares = m;
        }
        let mut server = rzero_rest::Server::new(conf)
            .cpu(rzero_resilience::shedder::FixedCpu::new(0))
            .route(rzero_rest::Route::get("/api/v1/orders/:id", || async {
                "{}"
            }));
        if telemetry {
            let tracer = SdkTracerProvider::builder().build().tracer("bench");
            server = server.tracer(tracer).meter(meter.clone());
        }
        server.into_router().expect("router")
    };
    let mut group = c.benchmark_group("server");
    for (name, app) in [
        (
            "none",
            router(Some(rzero_rest::MiddlewaresConf::none()), false),
        ),
        ("defaults", router(None, false)),
        ("defaults+telemetry", router(None, true)),
    ] {
        let mut app = app;
        group.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let resp = app.call(request()).await.expect("infallible");
                    black_box(resp);
                })
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
