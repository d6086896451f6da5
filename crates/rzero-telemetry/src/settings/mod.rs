//! Resolution of the effective telemetry settings: defaults, then the YAML file, then the
//! `OTEL_*` environment variables, which win as the OpenTelemetry specification says
//! ("environment variable configuration" of the SDK and of the OTLP exporter).
//!
//! An environment variable whose value cannot be parsed is ignored with a warning, as the
//! specification asks; the warnings are logged once logging is up.

use std::time::Duration;

use opentelemetry::KeyValue;

use crate::config::{BatchConf, Protocol, SampleRule, TelemetryConf};
use crate::error::TelemetryError;
use crate::propagation::PropagatorName;

mod vars;

pub(crate) use vars::parse_key_values;
pub use vars::*;
use vars::{parse_bool, parse_num};

/// The three OTLP signals, each with its own URL path and per-signal variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// Spans.
    Traces,
    /// Metric points.
    Metrics,
    /// Log records.
    Logs,
}

impl Signal {
    fn path(self) -> &'static str {
        match self {
            Signal::Traces => "/v1/traces",
            Signal::Metrics => "/v1/metrics",
            Signal::Logs => "/v1/logs",
        }
    }
    fn upper(self) -> &'static str {
        match self {
            Signal::Traces => "TRACES",
            Signal::Metrics => "METRICS",
            Signal::Logs => "LOGS",
        }
    }
    fn exporter_var(self) -> &'static str {
        match self {
            Signal::Traces => OTEL_TRACES_EXPORTER,
            Signal::Metrics => OTEL_METRICS_EXPORTER,
            Signal::Logs => OTEL_LOGS_EXPORTER,
        }
    }
}

/// Where and how one signal is exported (its `Debug` hides header values).
#[derive(Clone, PartialEq)]
pub struct ExportTarget {
    /// Full URL: for HTTP including the signal path, for gRPC `scheme://host:port`.
    pub endpoint: String,
    /// Wire protocol.
    pub protocol: Protocol,
    /// Headers (gRPC metadata) sent with every export.
    pub headers: Vec<(String, String)>,
    /// Timeout of one export request.
    pub timeout: Duration,
    /// TLS files for an `https` endpoint.
    pub tls: ExportTls,
}

/// The TLS files of one signal's export; empty strings are unset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportTls {
    /// The CA that verifies the collector (empty: the system's trust store).
    pub ca_cert_file: String,
    /// A client certificate for mTLS.
    pub client_cert_file: String,
    /// Its private key.
    pub client_key_file: String,
}

impl ExportTls {
    /// True when any file is named.
    pub fn is_set(&self) -> bool {
        !(self.ca_cert_file.is_empty()
            && self.client_cert_file.is_empty()
            && self.client_key_file.is_empty())
    }
}

impl std::fmt::Debug for ExportTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = self.headers.iter().map(|(k, _)| k.as_str());
        f.debug_struct("ExportTarget")
            .field("endpoint", &self.endpoint)
            .field("protocol", &self.protocol)
            .field("headers", &crate::config::RedactedHeaders(names))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The sampler to build.
#[derive(Clone, Debug, PartialEq)]
pub enum SamplerSpec {
    /// Record everything.
    AlwaysOn,
    /// Record nothing.
    AlwaysOff,
    /// Record this fraction of traces, by trace id.
    Ratio(f64),
    /// Rules first, then the default ratio.
    Rules {
        /// Rules in order; the first match decides.
        rules: Vec<SampleRule>,
        /// Ratio for spans no rule matches.
        default_ratio: f64,
    },
    /// Follow a sampled/unsampled parent; use the inner sampler for roots.
    ParentBased(Box<SamplerSpec>),
}

impl SamplerSpec {
    /// Whether layers should build a span's attributes only once it is sampled: the
    /// sampler does not read them (only rules do) and drops most spans. Deferring saves
    /// the attributes of every dropped span and costs a sampled one a little more (set
    /// after the start instead of at it: measured about 2400 instructions saved per
    /// unsampled request and 1000 added per sampled one), so it pays below half.
    pub fn defer_attributes(&self) -> bool {
        match self {
            SamplerSpec::Rules {
                rules,
                default_ratio,
            } => rules.is_empty() && *default_ratio < 0.5,
            SamplerSpec::ParentBased(inner) => inner.defer_attributes(),
            SamplerSpec::Ratio(r) => *r < 0.5,
            SamplerSpec::AlwaysOff => true,
            SamplerSpec::AlwaysOn => false,
        }
    }
}

/// The effective settings: the file's values with the environment applied.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `OTEL_SDK_DISABLED` or `Disabled: true`.
    pub disabled: bool,
    /// `service.name`.
    pub service_name: String,
    /// Resource attributes from config and `OTEL_RESOURCE_ATTRIBUTES` (without service.name).
    pub resource_attributes: Vec<KeyValue>,
    /// Export target per signal; `None` exports nothing for that signal.
    pub traces: Option<ExportTarget>,
    /// Metrics export target.
    pub metrics: Option<ExportTarget>,
    /// Logs export target.
    pub logs: Option<ExportTarget>,
    /// The sampler.
    pub sampler: SamplerSpec,
    /// Batch processor settings.
    pub batch: BatchConf,
    /// Interval between metric exports.
    pub metric_interval: Duration,
    /// Propagation formats, in order (`OTEL_PROPAGATORS`, else `Propagators:`).
    pub propagators: Vec<PropagatorName>,
    /// Problems found in the environment, to be logged once logging is up.
    pub warnings: Vec<String>,
}

impl Settings {
    /// Resolves `conf` against the process environment.
    pub fn from_env(conf: &TelemetryConf, service_name: &str) -> Result<Self, TelemetryError> {
        Self::resolve(conf, service_name, |k| std::env::var(k).ok())
    }

    /// Resolves `conf` against an environment given as a lookup function (tests use a map).
    pub fn resolve(
        conf: &TelemetryConf,
        service_name: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, TelemetryError> {
        let env = |k: &str| {
            env(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut warnings = Vec::new();
        check_conf(conf)?;

        let disabled = match env(OTEL_SDK_DISABLED) {
            Some(v) => parse_bool(OTEL_SDK_DISABLED, &v, &mut warnings).unwrap_or(conf.disabled),
            None => conf.disabled,
        };

        let mut resource_attributes = Vec::new();
        let mut name_from_attrs = None;
        if let Some(raw) = env(OTEL_RESOURCE_ATTRIBUTES) {
            for (k, v) in parse_key_values(OTEL_RESOURCE_ATTRIBUTES, &raw, &mut warnings) {
                if k == "service.name" {
                    name_from_attrs = Some(v);
                } else {
                    resource_attributes.push(KeyValue::new(k, v));
                }
            }
        }
        let service_name = env(OTEL_SERVICE_NAME)
            .or(name_from_attrs)
            .or_else(|| Some(conf.name.clone()).filter(|n| !n.is_empty()))
            .unwrap_or_else(|| service_name.to_owned());
        let service_name = if service_name.is_empty() {
            "unknown_service".to_owned()
        } else {
            service_name
        };

        let timeout = env(OTEL_EXPORTER_OTLP_TIMEOUT)
            .and_then(|v| parse_num::<u64>(OTEL_EXPORTER_OTLP_TIMEOUT, &v, &mut warnings))
            .unwrap_or(conf.timeout);
        let target = |signal| resolve_target(conf, signal, timeout, &env, &mut Vec::new());
        // Warnings of the three targets are the same apart from the signal; collect once.
        let traces = resolve_target(conf, Signal::Traces, timeout, &env, &mut warnings);
        let (metrics, logs) = (target(Signal::Metrics), target(Signal::Logs));

        let sampler = resolve_sampler(conf, &env, &mut warnings);
        let mut batch = conf.batch.clone();
        let mut set = |var: &str, field: &mut u64| {
            if let Some(v) = env(var).and_then(|v| parse_num::<u64>(var, &v, &mut warnings)) {
                *field = v;
            }
        };
        set(OTEL_BSP_SCHEDULE_DELAY, &mut batch.schedule_delay);
        set(OTEL_BSP_EXPORT_TIMEOUT, &mut batch.export_timeout);
        let mut metric_interval = conf.metrics.interval;
        set(OTEL_METRIC_EXPORT_INTERVAL, &mut metric_interval);
        for (var, field) in [
            (OTEL_BSP_MAX_QUEUE_SIZE, &mut batch.max_queue_size),
            (
                OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
                &mut batch.max_export_batch_size,
            ),
        ] {
            if let Some(v) = env(var).and_then(|v| parse_num::<usize>(var, &v, &mut warnings)) {
                *field = v;
            }
        }
        if batch.max_export_batch_size > batch.max_queue_size {
            warnings.push(format!(
                "the batch size {} is larger than the queue {}: using the queue size",
                batch.max_export_batch_size, batch.max_queue_size
            ));
            batch.max_export_batch_size = batch.max_queue_size;
        }

        for (key, value) in [
            ("service.version", &conf.version),
            ("service.namespace", &conf.namespace),
            ("deployment.environment.name", &conf.environment),
        ] {
            let exists = resource_attributes.iter().any(|kv| kv.key.as_str() == key);
            if !value.is_empty() && !exists {
                resource_attributes.push(KeyValue::new(key, value.clone()));
            }
        }

        let propagators =
            crate::propagation::resolve(&conf.propagators, env(OTEL_PROPAGATORS), &mut warnings);

        Ok(Settings {
            disabled,
            service_name,
            resource_attributes,
            traces,
            metrics,
            logs,
            sampler,
            batch,
            metric_interval: Duration::from_millis(metric_interval.max(1)),
            propagators,
            warnings,
        })
    }
}

/// File values that no environment can repair are errors at start.
fn check_conf(conf: &TelemetryConf) -> Result<(), TelemetryError> {
    let ratio_ok = |r: f64| (0.0..=1.0).contains(&r);
    if !ratio_ok(conf.sampler) {
        return Err(TelemetryError::config(
            "Sampler",
            format!(
                "expected a ratio between 0.0 and 1.0, found {}",
                conf.sampler
            ),
        ));
    }
    for (i, rule) in conf.rules.iter().enumerate() {
        if !ratio_ok(rule.ratio) {
            return Err(TelemetryError::config(
                format!("Rules[{i}].Ratio"),
                format!("expected a ratio between 0.0 and 1.0, found {}", rule.ratio),
            ));
        }
        if rule.attribute.trim().is_empty() {
            return Err(TelemetryError::config(
                format!("Rules[{i}].Attribute"),
                "expected an attribute key such as `http.route`, found an empty string",
            ));
        }
    }
    if let Some(b) = conf.batcher.as_deref()
        && !matches!(b, "otlpgrpc" | "otlphttp")
    {
        return Err(TelemetryError::config(
            "Batcher",
            format!(
                "expected `otlpgrpc` or `otlphttp`, found `{b}` (send Jaeger or Zipkin \
                     traffic through an OpenTelemetry Collector)"
            ),
        ));
    }
    if let Some(s) = conf.sampler_type.as_deref()
        && sampler_from_name(s, conf.sampler).is_none()
    {
        return Err(TelemetryError::config(
            "SamplerType",
            format!("expected one of {SAMPLER_NAMES}, found `{s}`"),
        ));
    }
    if conf.batch.max_queue_size == 0 || conf.batch.max_export_batch_size == 0 {
        return Err(TelemetryError::config(
            "Batch",
            "MaxQueueSize and MaxExportBatchSize must be at least 1",
        ));
    }
    Ok(())
}

const SAMPLER_NAMES: &str = "always_on, always_off, traceidratio, parentbased_always_on, \
                             parentbased_always_off, parentbased_traceidratio";

fn sampler_from_name(name: &str, ratio: f64) -> Option<SamplerSpec> {
    let parent = |s| SamplerSpec::ParentBased(Box::new(s));
    Some(match name {
        "always_on" => SamplerSpec::AlwaysOn,
        "always_off" => SamplerSpec::AlwaysOff,
        "traceidratio" => SamplerSpec::Ratio(ratio),
        "parentbased_always_on" => parent(SamplerSpec::AlwaysOn),
        "parentbased_always_off" => parent(SamplerSpec::AlwaysOff),
        "parentbased_traceidratio" => parent(SamplerSpec::Ratio(ratio)),
        _ => return None,
    })
}

fn resolve_sampler(
    conf: &TelemetryConf,
    env: &impl Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> SamplerSpec {
    let mut ratio = conf.sampler;
    if let Some(arg) = env(OTEL_TRACES_SAMPLER_ARG) {
        match arg.parse::<f64>() {
            Ok(r) if (0.0..=1.0).contains(&r) => ratio = r,
            _ => warnings.push(format!(
                "{OTEL_TRACES_SAMPLER_ARG}={arg:?} ignored: expected a ratio between 0.0 and 1.0"
            )),
        }
    }
    let from_env = env(OTEL_TRACES_SAMPLER).and_then(|name| {
        let spec = sampler_from_name(&name, ratio);
        if spec.is_none() {
            warnings.push(format!(
                "{OTEL_TRACES_SAMPLER}={name:?} ignored: expected one of {SAMPLER_NAMES}"
            ));
        }
        spec
    });
    if let Some(spec) = from_env {
        return spec;
    }
    let name = conf
        .sampler_type
        .as_deref()
        .unwrap_or("parentbased_traceidratio");
    let base = sampler_from_name(name, ratio).unwrap_or(SamplerSpec::Ratio(ratio));
    if conf.rules.is_empty() {
        return base;
    }
    // Rules replace the ratio part of the configured sampler and keep its parent-basedness.
    let rules = SamplerSpec::Rules {
        rules: conf.rules.clone(),
        default_ratio: ratio,
    };
    match base {
        SamplerSpec::ParentBased(_) => SamplerSpec::ParentBased(Box::new(rules)),
        _ => rules,
    }
}

fn resolve_target(
    conf: &TelemetryConf,
    signal: Signal,
    timeout_ms: u64,
    env: &impl Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> Option<ExportTarget> {
    match env(signal.exporter_var()).as_deref() {
        Some("none") => return None,
        Some("otlp") | None => {}
        Some(other) => warnings.push(format!(
            "{}={other:?} ignored: expected `otlp` or `none`",
            signal.exporter_var()
        )),
    }
    let upper = signal.upper();
    let var = |suffix: &str| format!("OTEL_EXPORTER_OTLP_{upper}_{suffix}");
    let protocol_raw = env(&var("PROTOCOL")).or_else(|| env(OTEL_EXPORTER_OTLP_PROTOCOL));
    let protocol_env = protocol_raw.and_then(|p| match p.as_str() {
        "grpc" => Some(Protocol::Grpc),
        "http/protobuf" => Some(Protocol::HttpProtobuf),
        other => {
            warnings.push(format!(
                "{OTEL_EXPORTER_OTLP_PROTOCOL}={other:?} ignored: expected `grpc` or \
                 `http/protobuf` (`http/json` is not supported)"
            ));
            None
        }
    });

    // A signal-specific endpoint is used as is; the generic one gets the signal path.
    let (raw, path) = if let Some(e) = env(&var("ENDPOINT")) {
        (e, "")
    } else if let Some(e) = env(OTEL_EXPORTER_OTLP_ENDPOINT) {
        (e, signal.path())
    } else if !conf.endpoint.trim().is_empty() {
        let path = match signal {
            Signal::Traces if !conf.otlp_http_path.is_empty() => conf.otlp_http_path.as_str(),
            _ => signal.path(),
        };
        (conf.endpoint.trim().to_owned(), path)
    } else {
        return None;
    };
    let batcher = conf.batcher.as_deref().map(|b| match b {
        "otlphttp" => Protocol::HttpProtobuf,
        _ => Protocol::Grpc,
    });
    let protocol = protocol_env
        .or(conf.protocol)
        .or(batcher)
        .unwrap_or_else(|| guess_protocol(&raw));
    let scheme = if conf.otlp_http_secure {
        "https"
    } else {
        "http"
    };
    let mut endpoint = if raw.contains("://") {
        raw
    } else {
        format!("{scheme}://{raw}")
    };
    if protocol == Protocol::HttpProtobuf && !path.is_empty() {
        endpoint = format!("{}{path}", endpoint.trim_end_matches('/'));
    }

    let mut headers: Vec<(String, String)> = conf
        .otlp_headers
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for name in [OTEL_EXPORTER_OTLP_HEADERS.to_owned(), var("HEADERS")] {
        if let Some(raw) = env(&name) {
            for (k, v) in parse_key_values(&name, &raw, warnings) {
                headers.retain(|(hk, _)| !hk.eq_ignore_ascii_case(&k));
                headers.push((k, v));
            }
        }
    }
    let timeout = env(&var("TIMEOUT"))
        .and_then(|v| parse_num::<u64>(&var("TIMEOUT"), &v, warnings))
        .unwrap_or(timeout_ms);
    // Per signal, then for all signals, then the file: the OTLP exporter spec's order.
    let file = |suffix: &str, generic: &str, conf_value: &str| {
        env(&var(suffix))
            .or_else(|| env(generic))
            .unwrap_or_else(|| conf_value.trim().to_owned())
    };
    let tls = ExportTls {
        ca_cert_file: file(
            "CERTIFICATE",
            OTEL_EXPORTER_OTLP_CERTIFICATE,
            &conf.otlp_ca_cert_file,
        ),
        client_cert_file: file(
            "CLIENT_CERTIFICATE",
            OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE,
            &conf.otlp_cert_file,
        ),
        client_key_file: file(
            "CLIENT_KEY",
            OTEL_EXPORTER_OTLP_CLIENT_KEY,
            &conf.otlp_key_file,
        ),
    };
    Some(ExportTarget {
        endpoint,
        protocol,
        headers,
        timeout: Duration::from_millis(timeout.max(1)),
        tls,
    })
}

/// The guide writes `localhost:4317` for gRPC; a port of 4318 is the HTTP convention.
fn guess_protocol(endpoint: &str) -> Protocol {
    let without_path = endpoint.split("://").last().unwrap_or(endpoint);
    let host_port = without_path.split('/').next().unwrap_or(without_path);
    if host_port.ends_with(":4318") {
        Protocol::HttpProtobuf
    } else {
        Protocol::Grpc
    }
}

#[cfg(test)]
mod tests;
