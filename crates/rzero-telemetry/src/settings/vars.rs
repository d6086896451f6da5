//! The `OTEL_*` variable names rzero reads, and the parsing of their values.

/// `true` turns the SDK off: nothing is recorded or exported.
pub const OTEL_SDK_DISABLED: &str = "OTEL_SDK_DISABLED";
/// `service.name`; wins over `service.name` in `OTEL_RESOURCE_ATTRIBUTES`.
pub const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
/// `key1=value1,key2=value2` resource attributes (values percent-encoded).
pub const OTEL_RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";
/// Base endpoint of all signals; for HTTP the signal path (`/v1/traces`, ...) is appended.
pub const OTEL_EXPORTER_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// `grpc` or `http/protobuf`.
pub const OTEL_EXPORTER_OTLP_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
/// `key1=value1,key2=value2` headers on every export (values percent-encoded).
pub const OTEL_EXPORTER_OTLP_HEADERS: &str = "OTEL_EXPORTER_OTLP_HEADERS";
/// The CA certificate (PEM file) that verifies the collector's TLS certificate;
/// `OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_CERTIFICATE` per signal.
pub const OTEL_EXPORTER_OTLP_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_CERTIFICATE";
/// The client certificate (PEM file) for mTLS to the collector; per signal
/// `OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_CLIENT_CERTIFICATE`.
pub const OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE";
/// The client certificate's private key (PEM file); per signal
/// `OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_CLIENT_KEY`.
pub const OTEL_EXPORTER_OTLP_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_CLIENT_KEY";
/// Export timeout in milliseconds.
pub const OTEL_EXPORTER_OTLP_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TIMEOUT";
/// `always_on`, `always_off`, `traceidratio`, `parentbased_always_on`,
/// `parentbased_always_off`, `parentbased_traceidratio`.
pub const OTEL_TRACES_SAMPLER: &str = "OTEL_TRACES_SAMPLER";
/// The ratio of the `*traceidratio` samplers.
pub const OTEL_TRACES_SAMPLER_ARG: &str = "OTEL_TRACES_SAMPLER_ARG";
/// Milliseconds between two batch exports.
pub const OTEL_BSP_SCHEDULE_DELAY: &str = "OTEL_BSP_SCHEDULE_DELAY";
/// Milliseconds one batch export may take.
pub const OTEL_BSP_EXPORT_TIMEOUT: &str = "OTEL_BSP_EXPORT_TIMEOUT";
/// Spans buffered before new ones are dropped.
pub const OTEL_BSP_MAX_QUEUE_SIZE: &str = "OTEL_BSP_MAX_QUEUE_SIZE";
/// Spans per export request.
pub const OTEL_BSP_MAX_EXPORT_BATCH_SIZE: &str = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE";
/// Milliseconds between two metric exports.
pub const OTEL_METRIC_EXPORT_INTERVAL: &str = "OTEL_METRIC_EXPORT_INTERVAL";
/// Comma-separated propagators: `tracecontext`, `baggage`, `b3`, `b3multi`, `jaeger`,
/// `none`.
pub const OTEL_PROPAGATORS: &str = "OTEL_PROPAGATORS";
/// `otlp` or `none`, per signal.
pub const OTEL_TRACES_EXPORTER: &str = "OTEL_TRACES_EXPORTER";
/// `otlp` or `none`.
pub const OTEL_METRICS_EXPORTER: &str = "OTEL_METRICS_EXPORTER";
/// `otlp` or `none`.
pub const OTEL_LOGS_EXPORTER: &str = "OTEL_LOGS_EXPORTER";

pub(super) fn parse_bool(var: &str, v: &str, warnings: &mut Vec<String>) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => {
            warnings.push(format!("{var}={v:?} ignored: expected `true` or `false`"));
            None
        }
    }
}

pub(super) fn parse_num<T: std::str::FromStr>(
    var: &str,
    v: &str,
    warnings: &mut Vec<String>,
) -> Option<T> {
    let parsed = v.parse::<T>().ok();
    if parsed.is_none() {
        warnings.push(format!(
            "{var}={v:?} ignored: expected a non-negative integer"
        ));
    }
    parsed
}

/// Parses the W3C-baggage-like `k=v,k2=v2` lists of `OTEL_RESOURCE_ATTRIBUTES` and
/// `OTEL_EXPORTER_OTLP_HEADERS`; values are percent-decoded. A malformed item is skipped
/// with a warning, the others are kept.
pub(crate) fn parse_key_values(
    var: &str,
    raw: &str,
    warnings: &mut Vec<String>,
) -> Vec<(String, String)> {
    // A warning names the item by its position, and by its key when it has one, never by
    // its text: the items of OTEL_EXPORTER_OTLP_HEADERS are API keys, and one written
    // without `=` may be nothing but the key.
    let mut out = Vec::new();
    let items = raw.split(',').map(str::trim).filter(|s| !s.is_empty());
    for (n, item) in items.enumerate() {
        let n = n + 1;
        let Some((k, v)) = item.split_once('=') else {
            warnings.push(format!(
                "{var}: item {n} ignored: expected key=value (its text is not shown)"
            ));
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        match percent_decode(v) {
            Some(v) if !k.is_empty() => out.push((k.to_owned(), v)),
            _ if k.is_empty() => warnings.push(format!(
                "{var}: item {n} ignored: its key is empty (its value is not shown)"
            )),
            _ => warnings.push(format!(
                "{var}: item {n} (`{}`) ignored: its value is not valid percent-encoding \
                 (the value is not shown)",
                k.escape_debug()
            )),
        }
    }
    out
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
