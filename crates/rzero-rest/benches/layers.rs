//! What each layer costs per request, in process (no sockets): a request through a
//! service that answers at once, bare and behind each of the default layers alone
//! (`layer/*`; a layer's cost is its time minus `layer/bare`); and through the whole
//! router `Server` builds, with every middleware off, with the defaults and no telemetry,
//! and with the defaults, a meter that aggregates (a reader attached) and a tracer that
//! samples nothing or everything (`server/*`). Spans end into no exporter: the export
//! side is measured by `cargo xtask bench-side`.
//!
//! The request is built outside the timed part (`iter_batched`): building it (a URI and
//! two headers) costs more than most layers.
//!
//! `cargo bench -p rzero-rest --bench layers`

use std::convert::Infallible;
use std::hint::black_box;
use std::time::Duration;

use axum::body::Body;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;
use http::{Request, Response};
use opentelemetry::metrics::{Meter, MeterProvider as _};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{Sampler, SdkTracer, SdkTracerProvider};
use rzero_resilience::breaker::{BreakerConfig, BreakerLayer, SreBreaker};
use rzero_resilience::classify::{HttpServerErrors, HttpUnavailable};
use rzero_resilience::shedder::{AdaptiveShedder, FixedCpu, LoadShedLayer, ShedderConfig};
use rzero_rest::accesslog::AccessLogLayer;
use rzero_rest::limit::{MaxBytesLayer, MaxConnsLayer};
use rzero_rest::metrics::MetricsLayer;
use rzero_rest::recover::RecoverLayer;
use rzero_rest::respond::{Refusals, RespondLayer};
use rzero_rest::timeout::TimeoutLayer;
use rzero_rest::trace::TraceLayer;
use tower::{Layer, Service, ServiceBuilder, service_fn};

fn request() -> Request<Body> {
    Request::builder()
        .uri("/api/v1/orders/42")
        .header("host", "127.0.0.1:8888")
        .header("user-agent", "wrk")
        .body(Body::empty())
        .expect("request")
}

fn run<S>(svc: &mut S, req: Request<Body>)
where
    S: Service<Request<Body>, Response = Response<Body>>,
    S::Error: std::fmt::Debug,
{
    let resp = svc.call(req).now_or_never().expect("ready").expect("ok");
    black_box(resp);
}

/// A meter whose instruments aggregate (a meter provider without a reader drops every
/// measurement before the attribute lookup, which would hide the cost).
fn meter() -> (SdkMeterProvider, Meter) {
    let reader = PeriodicReader::builder(InMemoryMetricExporter::default())
        .with_interval(Duration::from_secs(3600))
        .build();
    let provider = SdkMeterProvider::builder().with_reader(reader).build();
    let meter = provider.meter("bench");
    (provider, meter)
}

fn tracer(sampler: Sampler) -> SdkTracer {
    SdkTracerProvider::builder()
        .with_sampler(sampler)
        .build()
        .tracer("bench")
}

fn layers(c: &mut Criterion, rt: &tokio::runtime::Runtime, meter: &Meter) {
    let inner = service_fn(|_req: Request<Body>| async {
        Ok::<_, Infallible>(Response::new(Body::empty()))
    });
    let _entered = rt.enter();
    let mut group = c.benchmark_group("layer");
    macro_rules! bench {
        ($name:expr, $svc:expr) => {{
            let mut svc = $svc;
            group.bench_function($name, |b| {
                b.iter_batched(request, |req| run(&mut svc, req), BatchSize::SmallInput)
            });
        }};
    }
    bench!("bare", inner);
    bench!(
        "trace-0%",
        TraceLayer::new(tracer(Sampler::AlwaysOff)).layer(inner)
    );
    bench!(
        "trace-100%",
        TraceLayer::new(tracer(Sampler::AlwaysOn)).layer(inner)
    );
    bench!("accesslog", AccessLogLayer::new(false).layer(inner));
    bench!("metrics", MetricsLayer::new(meter).layer(inner));
    bench!(
        "maxconns",
        MaxConnsLayer::new(10_000, Refusals::default()).layer(inner)
    );
    let shedder = AdaptiveShedder::new(ShedderConfig::default(), FixedCpu::new(0));
    bench!(
        "shed",
        ServiceBuilder::new()
            .layer(RespondLayer::default())
            .layer(LoadShedLayer::new(shedder, HttpUnavailable))
            .service(inner)
    );
    let breaker = SreBreaker::new(BreakerConfig::default());
    bench!(
        "breaker",
        ServiceBuilder::new()
            .layer(RespondLayer::default())
            .layer(BreakerLayer::new(breaker, HttpServerErrors))
            .service(inner)
    );
    bench!(
        "timeout",
        TimeoutLayer::new(Duration::from_secs(3), Refusals::default()).layer(inner)
    );
    bench!("recover", RecoverLayer.layer(inner));
    bench!("maxbytes", MaxBytesLayer::new(1 << 20).layer(inner));
    group.finish();
}

fn server(c: &mut Criterion, rt: &tokio::runtime::Runtime, meter: &Meter) {
    let router = |middlewares: Option<rzero_rest::MiddlewaresConf>, sampler: Option<Sampler>| {
        let mut conf = rzero_rest::RestConf::default();
        if let Some(m) = middlewares {
            conf.middlewares = m;
        }
        let mut server =
            rzero_rest::Server::new(conf)
                .cpu(FixedCpu::new(0))
                .route(rzero_rest::Route::get("/api/v1/orders/:id", || async {
                    "{}"
                }));
        if let Some(sampler) = sampler {
            server = server.tracer(tracer(sampler)).meter(meter.clone());
        }
        server.into_router().expect("router")
    };
    let mut group = c.benchmark_group("server");
    for (name, app) in [
        (
            "none",
            router(Some(rzero_rest::MiddlewaresConf::none()), None),
        ),
        ("defaults", router(None, None)),
        (
            "defaults+telemetry-0%",
            router(None, Some(Sampler::AlwaysOff)),
        ),
        (
            "defaults+telemetry-100%",
            router(None, Some(Sampler::AlwaysOn)),
        ),
    ] {
        let mut app = app;
        group.bench_function(name, |b| {
            b.iter_batched(
                request,
                |req| {
                    rt.block_on(async {
                        let resp = app.call(req).await.expect("infallible");
                        black_box(resp);
                    })
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

fn bench(c: &mut Criterion) {
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let (provider, meter) = meter();
    layers(c, &rt, &meter);
    server(c, &rt, &meter);
    let _ = provider.shutdown();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
