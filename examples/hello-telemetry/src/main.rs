//! hello-telemetry: telemetry from a YAML file, and one small trace with all three signals.
//!
//! ```text
//! cargo run -p hello-telemetry                        # logs to stdout, exports nothing
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 cargo run -p hello-telemetry
//! cargo run -p hello-telemetry -- path/to/other.yaml
//! ```
//!
//! The trace: a root span made with the `opentelemetry` API, a child made with `tracing`'s
//! `#[instrument]`, a grandchild back on the `opentelemetry` API, an event, an error with
//! status Error, log lines carrying the trace id, and a counter and a histogram.

use std::time::{Duration, Instant};

use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{Span, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue, global};
use rzero::conf;
use rzero::telemetry::{LogConf, Telemetry, TelemetryConf};
use serde::{Deserialize, Serialize};

/// The example's config file: go-zero's `Name`, the guide's `OpenTelemetry`, `Log`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Config {
    name: String,
    #[serde(default)]
    open_telemetry: TelemetryConf,
    #[serde(default)]
    log: LogConf,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/etc/hello.yaml").to_owned());
    let config: Config = conf::load(&path)?;
    let guard = Telemetry::new(&config.name, env!("CARGO_PKG_VERSION"))
        .conf(&config.open_telemetry)
        .log(&config.log)
        .init()?;

    let meter = global::meter("hello-telemetry");
    let orders = meter
        .u64_counter("hello.orders")
        .with_unit("{order}")
        .build();
    let latency = meter.f64_histogram("hello.duration").with_unit("s").build();

    let started = Instant::now();
    let tracer = global::tracer("hello-telemetry");
    let root = tracer.start("CreateOrder");
    let cx = Context::current_with_span(root);
    validate_user(1).with_context(cx.clone()).await;
    {
        let _attached = cx.clone().attach();
        tracing::info!(user_id = 1, "order validated");
        cx.span()
            .add_event("order.validated", vec![KeyValue::new("order.items", 2)]);
        let mut insert = tracer.start("InsertOrder");
        insert.set_attribute(KeyValue::new("db.system.name", "sqlite"));
        insert.set_status(Status::error("disk full"));
        insert.set_attribute(KeyValue::new("error.type", "database"));
        tracing::error!(error = "disk full", "could not insert the order");
        insert.end();
        orders.add(1, &[KeyValue::new("status", "failed")]);
    }
    cx.span().set_status(Status::error("order not created"));
    cx.span().end();
    latency.record(started.elapsed().as_secs_f64(), &[]);

    println!(
        "trace {} sent for service {}; flushing...",
        cx.span().span_context().trace_id(),
        guard.service_name()
    );
    guard.shutdown().await?;
    Ok(())
}

/// A child span made with `tracing`: it lands in the same trace as the root above.
#[tracing::instrument]
async fn validate_user(user_id: u64) {
    tokio::time::sleep(Duration::from_millis(5)).await;
    tracing::info!("user is active");
}
