//! OTLP exporters for the three signals, over gRPC (tonic) or HTTP/protobuf (reqwest).
//!
//! Exports run on the SDK's background threads: a slow or absent collector costs the
//! request path nothing; the per-request timeout bounds how long one export may hang.

use std::collections::HashMap;
use std::str::FromStr;

use opentelemetry_otlp::{WithExportConfig, WithHttpConfig, WithTonicConfig};
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};

use crate::config::Protocol;
use crate::error::TelemetryError;
use crate::settings::ExportTarget;

/// Checks every configured header is one HTTP can carry, so a bad one fails at start
/// instead of failing every export later, silently.
fn checked_headers(target: &ExportTarget) -> Result<HashMap<String, String>, TelemetryError> {
    for (k, v) in &target.headers {
        if http::HeaderName::from_bytes(k.as_bytes()).is_err() {
            return Err(TelemetryError::config(
                "OtlpHeaders",
                format!("`{k}` is not a valid header name (letters, digits, `-`, `_`, `.`)"),
            ));
        }
        if http::HeaderValue::from_str(v).is_err() {
            return Err(TelemetryError::config(
                "OtlpHeaders",
                format!("the value of `{k}` is not a valid header value (visible ASCII only)"),
            ));
        }
    }
    Ok(target.headers.iter().cloned().collect())
}

/// gRPC metadata from the configured headers; a header gRPC cannot carry is a config error.
fn metadata(target: &ExportTarget) -> Result<MetadataMap, TelemetryError> {
    let mut map = MetadataMap::new();
    for (k, v) in &target.headers {
        let key = MetadataKey::from_str(&k.to_ascii_lowercase()).map_err(|_| {
            TelemetryError::config(
                "OtlpHeaders",
                format!("`{k}` is not a valid header name (letters, digits, `-`, `_`, `.`)"),
            )
        })?;
        let value = MetadataValue::try_from(v.as_str()).map_err(|_| {
            TelemetryError::config(
                "OtlpHeaders",
                format!("the value of `{k}` is not a valid header value (visible ASCII only)"),
            )
        })?;
        map.insert(key, value);
    }
    Ok(map)
}

/// Builds the exporter of one signal. `$builder` is e.g. `opentelemetry_otlp::SpanExporter`.
macro_rules! build_exporter {
    ($builder:ty, $signal:literal, $target:expr) => {{
        let target: &ExportTarget = $target;
        let fail = |e: opentelemetry_otlp::ExporterBuildError| TelemetryError::Exporter {
            signal: $signal,
            endpoint: target.endpoint.clone(),
            reason: e.to_string(),
        };
        match target.protocol {
            Protocol::Grpc => <$builder>::builder()
                .with_tonic()
                .with_endpoint(target.endpoint.clone())
                .with_timeout(target.timeout)
                .with_metadata(metadata(target)?)
                .build()
                .map_err(fail),
            // HTTPS for OTLP/HTTP would need a TLS stack in reqwest and a process-wide
            // crypto provider that every other reqwest user of the process then depends
            // on; gRPC carries TLS itself (tonic with ring), so TLS goes that way.
            Protocol::HttpProtobuf if target.endpoint.starts_with("https://") => {
                Err(TelemetryError::Exporter {
                    signal: $signal,
                    endpoint: target.endpoint.clone(),
                    reason: "OTLP/HTTP over TLS is not built in: use protocol `grpc` (TLS \
                             supported) or a plain-http collector next to the service"
                        .to_owned(),
                })
            }
            Protocol::HttpProtobuf => <$builder>::builder()
                .with_http()
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .with_endpoint(target.endpoint.clone())
                .with_timeout(target.timeout)
                .with_headers(checked_headers(target)?)
                .build()
                .map_err(fail),
        }
    }};
}

/// The span exporter for `target`.
pub(crate) fn spans(
    target: &ExportTarget,
) -> Result<opentelemetry_otlp::SpanExporter, TelemetryError> {
    build_exporter!(opentelemetry_otlp::SpanExporter, "traces", target)
}

/// The metric exporter for `target`.
pub(crate) fn metrics(
    target: &ExportTarget,
) -> Result<opentelemetry_otlp::MetricExporter, TelemetryError> {
    build_exporter!(opentelemetry_otlp::MetricExporter, "metrics", target)
}

/// The log exporter for `target`.
pub(crate) fn logs(
    target: &ExportTarget,
) -> Result<opentelemetry_otlp::LogExporter, TelemetryError> {
    build_exporter!(opentelemetry_otlp::LogExporter, "logs", target)
}
