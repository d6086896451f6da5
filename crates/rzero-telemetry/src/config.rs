//! The telemetry section of a service's YAML file.
//!
//! One struct serves both spellings a go-zero team may bring: the guide's
//! `OpenTelemetry: {Endpoint, Sampler}` and go-zero's own
//! `Telemetry: {Name, Endpoint, Sampler, Batcher, OtlpHeaders, ...}`. Every key is optional;
//! an empty `Endpoint` means "export nothing", which is also what happens with no section at
//! all. The `OTEL_*` environment variables are applied on top by [`crate::Settings`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::propagation::PropagatorName;

/// `OpenTelemetry:` / `Telemetry:` in a service's YAML file. Its `Debug` shows the names
/// of `OtlpHeaders`, never their values (API keys).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct TelemetryConf {
    /// `service.name`; defaults to the service's top-level `Name`.
    #[serde(default)]
    pub name: String,
    /// Where to send OTLP, e.g. `localhost:4317` or `http://collector:4318`. Empty exports
    /// nothing (logs still go to stdout).
    #[serde(default)]
    pub endpoint: String,
    /// `grpc` or `http/protobuf`. When unset: go-zero's `Batcher` decides, else port 4318
    /// means HTTP and anything else gRPC.
    #[serde(default)]
    pub protocol: Option<Protocol>,
    /// go-zero's exporter selector: `otlpgrpc` or `otlphttp` (`jaeger`, `zipkin` and `file`
    /// are not supported: point them at a collector instead).
    #[serde(default)]
    pub batcher: Option<String>,
    /// Fraction of new traces to record, 0.0 to 1.0 (go-zero's `Sampler`, default 1.0).
    #[serde(default = "default_sampler")]
    pub sampler: f64,
    /// `parentbased_traceidratio` (default), `traceidratio`, `always_on`, `always_off`,
    /// `parentbased_always_on`, `parentbased_always_off`: the names of `OTEL_TRACES_SAMPLER`.
    #[serde(default)]
    pub sampler_type: Option<String>,
    /// Rules that sample matching spans at their own ratio (the guide's DynamicSampler):
    /// e.g. requests with `x-priority: high` at 1.0 while the rest follow `Sampler`.
    #[serde(default)]
    pub rules: Vec<SampleRule>,
    /// Extra headers on every export (e.g. an API key), as go-zero's `OtlpHeaders`.
    #[serde(default)]
    pub otlp_headers: BTreeMap<String, String>,
    /// go-zero's `OtlpHttpPath`: the URL path for traces over HTTP (default `/v1/traces`).
    #[serde(default)]
    pub otlp_http_path: String,
    /// go-zero's `OtlpHttpSecure`: use `https` when `Endpoint` has no scheme.
    #[serde(default)]
    pub otlp_http_secure: bool,
    /// The CA that signed the collector's certificate (PEM), for an `https` endpoint;
    /// empty: the system's trust store. `OTEL_EXPORTER_OTLP_CERTIFICATE` wins.
    #[serde(rename = "OtlpCACertFile", default)]
    pub otlp_ca_cert_file: String,
    /// A client certificate (PEM) for a collector that requires one (mTLS), with
    /// `OtlpKeyFile`. `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` wins.
    #[serde(default)]
    pub otlp_cert_file: String,
    /// The client certificate's private key (PEM). `OTEL_EXPORTER_OTLP_CLIENT_KEY` wins.
    #[serde(default)]
    pub otlp_key_file: String,
    /// Export timeout per request, in milliseconds (default 10000).
    #[serde(default = "default_export_timeout_ms")]
    pub timeout: u64,
    /// Turns the whole SDK off (go-zero's `Disabled`; `OTEL_SDK_DISABLED` does the same).
    #[serde(default)]
    pub disabled: bool,
    /// `service.version`; defaults to the binary's crate version.
    #[serde(default)]
    pub version: String,
    /// `service.namespace`, e.g. the team or product.
    #[serde(default)]
    pub namespace: String,
    /// `deployment.environment.name`, e.g. `production` (default from the service `Mode`).
    #[serde(default)]
    pub environment: String,
    /// The batch span processor's settings.
    #[serde(default)]
    pub batch: BatchConf,
    /// Metric export settings.
    #[serde(default)]
    pub metrics: MetricsConf,
    /// Propagation formats, in order: `tracecontext`, `baggage`, `b3`, `b3multi`,
    /// `jaeger`, or `none`; empty means `[tracecontext, baggage]`. `OTEL_PROPAGATORS`
    /// wins when set.
    #[serde(default)]
    pub propagators: Vec<PropagatorName>,
}

impl std::fmt::Debug for TelemetryConf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Written out so that a header value (an API key) never reaches a log.
        let headers = RedactedHeaders(self.otlp_headers.keys().map(String::as_str));
        f.debug_struct("TelemetryConf")
            .field("name", &self.name)
            .field("endpoint", &self.endpoint)
            .field("protocol", &self.protocol)
            .field("batcher", &self.batcher)
            .field("sampler", &self.sampler)
            .field("sampler_type", &self.sampler_type)
            .field("rules", &self.rules)
            .field("otlp_headers", &headers)
            .field("otlp_http_path", &self.otlp_http_path)
            .field("otlp_http_secure", &self.otlp_http_secure)
            .field("timeout", &self.timeout)
            .field("disabled", &self.disabled)
            .field("version", &self.version)
            .field("namespace", &self.namespace)
            .field("environment", &self.environment)
            .field("batch", &self.batch)
            .field("metrics", &self.metrics)
            .field("propagators", &self.propagators)
            .finish()
    }
}

/// Header names with their values replaced by `***`.
pub(crate) struct RedactedHeaders<I>(pub(crate) I);

impl<'a, I: Iterator<Item = &'a str> + Clone> std::fmt::Debug for RedactedHeaders<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.0.clone().map(|k| (k, "***")))
            .finish()
    }
}

/// The wire protocol of the OTLP exporter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    /// OTLP over gRPC, port 4317 by convention.
    #[serde(rename = "grpc")]
    Grpc,
    /// OTLP over HTTP with protobuf bodies, port 4318 by convention.
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
}

/// One sampling rule: spans whose start attribute `Attribute` equals one of `Values` are
/// sampled at `Ratio` instead of the default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct SampleRule {
    /// The attribute key to look at, e.g. `http.request.header.x-priority` or `http.route`.
    pub attribute: String,
    /// Values that match (string comparison). Empty matches any value of the attribute.
    #[serde(default)]
    pub values: Vec<String>,
    /// The ratio for matching spans, 0.0 to 1.0 (default 1.0: keep all of them).
    #[serde(default = "default_sampler")]
    pub ratio: f64,
}

/// Batch span processor settings; the defaults are the guide's (and the OTel spec's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct BatchConf {
    /// Spans buffered before new ones are dropped (and counted). `OTEL_BSP_MAX_QUEUE_SIZE`.
    #[serde(default = "default_max_queue_size")]
    pub max_queue_size: usize,
    /// Spans per export request. `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`.
    #[serde(default = "default_max_export_batch_size")]
    pub max_export_batch_size: usize,
    /// Milliseconds between two exports. `OTEL_BSP_SCHEDULE_DELAY`.
    #[serde(default = "default_schedule_delay_ms")]
    pub schedule_delay: u64,
    /// Milliseconds an export may take. `OTEL_BSP_EXPORT_TIMEOUT`.
    #[serde(default = "default_batch_export_timeout_ms")]
    pub export_timeout: u64,
}

/// Metric export settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct MetricsConf {
    /// Milliseconds between two OTLP metric exports. `OTEL_METRIC_EXPORT_INTERVAL`.
    #[serde(default = "default_metric_interval_ms")]
    pub interval: u64,
}

/// go-zero's `Log` section, the part that concerns where log lines go.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct LogConf {
    /// `json` (default, one object per line) or `plain` (for people at a terminal).
    #[serde(default = "default_encoding")]
    pub encoding: LogEncoding,
    /// `debug`, `info` (default), `warn`, `error`, or a full `RUST_LOG`-style filter such as
    /// `info,sqlx=warn`. `RUST_LOG` wins when set.
    #[serde(default = "default_level")]
    pub level: String,
    /// Write log lines to stdout (default true). OTLP export of logs is independent of it.
    #[serde(default = "default_true")]
    pub stdout: bool,
}

/// How log lines are written to stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogEncoding {
    /// One JSON object per line, with `trace_id` and `span_id` fields.
    Json,
    /// `TIME LEVEL target: message key=value ... trace_id=...`.
    Plain,
}

/// go-zero's `Prometheus: {Host, Port, Path}`: where to serve metrics for scraping.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct PrometheusConf {
    /// Interface to bind (default `0.0.0.0`).
    #[serde(default = "default_prometheus_host")]
    pub host: String,
    /// Port to bind (default 9090, the port the deployment files scrape).
    #[serde(default = "default_prometheus_port")]
    pub port: u16,
    /// URL path (default `/metrics`).
    #[serde(default = "default_prometheus_path")]
    pub path: String,
}

// === defaults ===

fn default_sampler() -> f64 {
    1.0
}
fn default_export_timeout_ms() -> u64 {
    10_000
}
fn default_max_queue_size() -> usize {
    2048
}
fn default_max_export_batch_size() -> usize {
    512
}
fn default_schedule_delay_ms() -> u64 {
    5_000
}
fn default_batch_export_timeout_ms() -> u64 {
    30_000
}
fn default_metric_interval_ms() -> u64 {
    60_000
}
fn default_encoding() -> LogEncoding {
    LogEncoding::Json
}
fn default_level() -> String {
    "info".to_owned()
}
fn default_true() -> bool {
    true
}
fn default_prometheus_host() -> String {
    "0.0.0.0".to_owned()
}
fn default_prometheus_port() -> u16 {
    9090
}
fn default_prometheus_path() -> String {
    "/metrics".to_owned()
}

macro_rules! default_from_serde {
    ($($t:ty),*) => {$(
        impl Default for $t {
            /// The documented default of every field.
            fn default() -> Self {
                // An empty map deserializes to all the serde defaults, so the defaults are
                // written once, on the fields.
                serde_json::from_value(serde_json::Value::Object(Default::default()))
                    .unwrap_or_else(|_| unreachable!("every field has a serde default"))
            }
        }
    )*};
}
default_from_serde!(
    TelemetryConf,
    BatchConf,
    MetricsConf,
    LogConf,
    PrometheusConf
);

#[cfg(test)]
mod tests {
    use super::*;

    /// `Default` goes through serde; a field added without a serde default would make it
    /// panic, and this test says which struct.
    #[test]
    fn every_section_has_a_default() {
        assert_eq!(TelemetryConf::default().sampler, 1.0);
        assert_eq!(BatchConf::default().max_queue_size, 2048);
        assert_eq!(MetricsConf::default().interval, 60_000);
        assert_eq!(LogConf::default().encoding, LogEncoding::Json);
        assert_eq!(PrometheusConf::default().port, 9090);
    }
}
