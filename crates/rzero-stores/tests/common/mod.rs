//! Test support: real MariaDB and Redis (see SPEC §5), one database and one key prefix
//! per test so that tests run in parallel, and in-memory exporters for spans and metrics.

#![allow(dead_code, unreachable_pub)]

use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::metrics::MeterProvider;
use opentelemetry::trace::TracerProvider;
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use rzero_conf::RedisConf;
use rzero_stores::Telemetry;
use rzero_stores::sql::{SqlPool, SqlPoolConf};

pub const MARIADB_ROOT: &str = "root@tcp(127.0.0.1:3306)/test";
pub const REDIS_HOST: &str = "127.0.0.1:6379";

/// Spans and metrics recorded by one test.
pub struct Recorded {
    pub telemetry: Telemetry,
    spans: InMemorySpanExporter,
    metrics: InMemoryMetricExporter,
    meter_provider: SdkMeterProvider,
    _tracer_provider: SdkTracerProvider,
}

impl Recorded {
    pub fn new() -> Self {
        let spans = InMemorySpanExporter::default();
        let tracer_provider = SdkTracerProvider::builder()
            .with_simple_exporter(spans.clone())
            .build();
        let metrics = InMemoryMetricExporter::default();
        let meter_provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(metrics.clone()).build())
            .build();
        let telemetry = Telemetry::new(
            tracer_provider.tracer("rzero-stores-test"),
            &meter_provider.meter("rzero-stores-test"),
        );
        Recorded {
            telemetry,
            spans,
            metrics,
            meter_provider,
            _tracer_provider: tracer_provider,
        }
    }

    pub fn spans(&self) -> Vec<SpanData> {
        self.spans.get_finished_spans().expect("spans")
    }

    /// Data points of `db.client.operation.duration`: (attributes, count).
    pub fn durations(&self) -> Vec<(Vec<KeyValue>, u64)> {
        self.meter_provider.force_flush().expect("flush metrics");
        let mut out = Vec::new();
        for rm in self.metrics.get_finished_metrics().expect("metrics") {
            for sm in rm.scope_metrics() {
                for m in sm
                    .metrics()
                    .filter(|m| m.name() == "db.client.operation.duration")
                {
                    if let AggregatedMetrics::F64(MetricData::Histogram(h)) = m.data() {
                        for p in h.data_points() {
                            out.push((p.attributes().cloned().collect(), p.count()));
                        }
                    }
                }
            }
        }
        out
    }
}

/// The value of `key` on `span`, as a string.
pub fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| match &kv.value {
            Value::String(s) => s.as_str().to_owned(),
            other => other.to_string(),
        })
}

/// A fresh MariaDB database `rzero_stores_<name>`; its pool config.
pub async fn mariadb(name: &str) -> SqlPoolConf {
    let admin = SqlPool::connect_with(&SqlPoolConf::new(MARIADB_ROOT), Telemetry::global())
        .await
        .expect("MariaDB at 127.0.0.1:3306 (root, no password) must be running");
    let db = format!("rzero_stores_{name}");
    admin
        .query(&format!("DROP DATABASE IF EXISTS {db}"))
        .execute()
        .await
        .expect("drop");
    admin
        .query(&format!("CREATE DATABASE {db}"))
        .execute()
        .await
        .expect("create");
    admin.close().await;
    SqlPoolConf::new(format!(
        "root@tcp(127.0.0.1:3306)/{db}?charset=utf8mb4&parseTime=true"
    ))
}

/// Redis at the test address.
pub fn redis_conf() -> RedisConf {
    RedisConf {
        host: REDIS_HOST.into(),
        ..RedisConf::default()
    }
}

/// A key prefix no other test (or run) uses.
pub fn prefix(name: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "rzero-stores-test:{name}:{}:{t}:{}:",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A local port nothing listens on.
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    port
}

/// A hang guard for awaits that must finish: not a timing assertion.
pub const GUARD: Duration = Duration::from_secs(20);
