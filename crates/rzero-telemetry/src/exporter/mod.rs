//! OTLP exporters for the three signals, over gRPC (tonic) or HTTP/protobuf (reqwest
//! for plain http, [`https`] for TLS), with TLS and client certificates from
//! `OTEL_EXPORTER_OTLP_[SIGNAL_]CERTIFICATE`, `..._CLIENT_CERTIFICATE`, `..._CLIENT_KEY`
//! or `OtlpCACertFile`, `OtlpCertFile`, `OtlpKeyFile`.
//!
//! Metrics and logs use opentelemetry-otlp's exporters on the SDK's background threads;
//! spans use rzero's own batching processor and encoder ([`spans`], which says why).
//! A slow or absent collector costs the request path nothing; the per-request timeout
//! bounds how long one export may hang.

mod https;
pub(crate) mod spans;

use std::collections::HashMap;
use std::str::FromStr;

use opentelemetry_otlp::{WithExportConfig, WithHttpConfig, WithTonicConfig};
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Certificate, ClientTlsConfig, Identity};

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

/// TLS files name with a plaintext endpoint would silently send in the clear.
fn check_scheme(target: &ExportTarget) -> Result<bool, TelemetryError> {
    let https = target.endpoint.starts_with("https://");
    if target.tls.is_set() && !https {
        return Err(TelemetryError::config(
            https::CA_KEY,
            format!(
                "TLS files are set but the endpoint `{}` is not https: use an https:// \
                 endpoint (or OtlpHttpSecure: true), or drop the TLS settings",
                target.endpoint
            ),
        ));
    }
    Ok(https)
}

/// tonic's TLS for the gRPC exporter: the CA (else the system's roots) and the client
/// certificate. The files are parsed once here (so a bad one fails the start), and
/// again by tonic.
fn grpc_tls(target: &ExportTarget) -> Result<ClientTlsConfig, TelemetryError> {
    https::client_config(&target.tls)?;
    let mut config = ClientTlsConfig::new();
    config = if target.tls.ca_cert_file.is_empty() {
        config.with_native_roots()
    } else {
        let pem = crate::tls::read_pem(https::CA_KEY, &target.tls.ca_cert_file)
            .map_err(|e| TelemetryError::config(https::CA_KEY, e))?;
        config.ca_certificate(Certificate::from_pem(pem))
    };
    if !target.tls.client_cert_file.is_empty() {
        let read = |key: &str, path: &str| {
            crate::tls::read_pem(key, path).map_err(|e| TelemetryError::config(key, e))
        };
        config = config.identity(Identity::from_pem(
            read(https::CERT_KEY, &target.tls.client_cert_file)?,
            read(https::KEY_KEY, &target.tls.client_key_file)?,
        ));
    }
    Ok(config)
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
        let https = check_scheme(target)?;
        match target.protocol {
            Protocol::Grpc => {
                let mut b = <$builder>::builder()
                    .with_tonic()
                    .with_endpoint(target.endpoint.clone())
                    .with_timeout(target.timeout)
                    .with_metadata(metadata(target)?);
                if https {
                    b = b.with_tls_config(grpc_tls(target)?);
                }
                b.build().map_err(fail)
            }
            Protocol::HttpProtobuf if https => <$builder>::builder()
                .with_http()
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .with_endpoint(target.endpoint.clone())
                .with_timeout(target.timeout)
                .with_headers(checked_headers(target)?)
                .with_http_client(https::HttpsClient::new(&target.tls, target.timeout)?)
                .build()
                .map_err(fail),
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
