//! OTLP/HTTP over TLS: an [`HttpClient`] for the exporter, on hyper and tokio-rustls
//! with the process's one crypto provider (ring).
//!
//! Why not reqwest's TLS: reqwest 0.13's `rustls` feature compiles aws-lc-rs beside
//! ring (two providers: rustls can then pick no default by itself), and its
//! `rustls-no-provider` feature makes *every* `reqwest::Client` built in the workspace
//! panic unless a provider was installed first; features unify across the workspace,
//! so that would reach crates that never asked for TLS (the collector's tests build
//! plain reqwest clients). This client needs neither: it takes ring from
//! [`install_crypto_provider`] and leaves reqwest as it was (plain HTTP only).
//!
//! The SDK's batch processors export from their own threads, with no Tokio runtime;
//! requests therefore run on one small runtime thread of this client's, which ends
//! when the client (the exporter) is dropped. Each export opens one connection (TCP,
//! TLS, HTTP/1.1): exports come every few seconds, so a pool would save little. Each
//! request is bounded by the export timeout, connecting and reading included, and a
//! response body by 4 MiB.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use opentelemetry_http::{HttpClient, HttpError};
use rustls::ClientConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::sync::{mpsc, oneshot};
use tokio_rustls::TlsConnector;

use crate::error::TelemetryError;
use crate::settings::ExportTls;
use crate::tls::{install_crypto_provider, read_pem};

/// Responses larger than this are refused (the SDK's own clients use the same limit).
const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

type Job = (
    Request<Bytes>,
    oneshot::Sender<Result<Response<Bytes>, HttpError>>,
);

/// Sends OTLP/HTTP requests over TLS; see the module doc.
#[derive(Debug)]
pub(crate) struct HttpsClient {
    jobs: mpsc::Sender<Job>,
}

/// The rustls client config for `tls`: the CA file (else the system's roots) and the
/// client certificate when one is named. Shared with the gRPC exporter's checks.
pub(crate) fn client_config(tls: &ExportTls) -> Result<ClientConfig, TelemetryError> {
    let mut roots = rustls::RootCertStore::empty();
    if tls.ca_cert_file.is_empty() {
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
    } else {
        let pem =
            read_pem(CA_KEY, &tls.ca_cert_file).map_err(|e| TelemetryError::config(CA_KEY, e))?;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| {
                TelemetryError::config(CA_KEY, format!("`{}`: {e}", tls.ca_cert_file))
            })?;
            roots.add(cert).map_err(|e| {
                TelemetryError::config(CA_KEY, format!("`{}`: {e}", tls.ca_cert_file))
            })?;
        }
        if roots.is_empty() {
            return Err(TelemetryError::config(
                CA_KEY,
                format!(
                    "`{}` holds no certificate: expected the CA's `-----BEGIN CERTIFICATE-----`",
                    tls.ca_cert_file
                ),
            ));
        }
    }
    let builder = ClientConfig::builder_with_provider(install_crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TelemetryError::config(CA_KEY, e.to_string()))?
        .with_root_certificates(roots);
    let mut config = match client_identity(tls)? {
        Some((certs, key)) => builder.with_client_auth_cert(certs, key).map_err(|e| {
            TelemetryError::config(
                KEY_KEY,
                format!("the key does not fit the certificate: {e}"),
            )
        })?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The names of the settings in errors: the file key and the variable that wins over it.
pub(crate) const CA_KEY: &str = "OtlpCACertFile (OTEL_EXPORTER_OTLP_CERTIFICATE)";
pub(crate) const CERT_KEY: &str = "OtlpCertFile (OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE)";
pub(crate) const KEY_KEY: &str = "OtlpKeyFile (OTEL_EXPORTER_OTLP_CLIENT_KEY)";

type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// The client certificate chain and key, when both are named (one alone is an error).
pub(crate) fn client_identity(tls: &ExportTls) -> Result<Option<Identity>, TelemetryError> {
    match (
        tls.client_cert_file.is_empty(),
        tls.client_key_file.is_empty(),
    ) {
        (true, true) => return Ok(None),
        (false, false) => {}
        _ => {
            return Err(TelemetryError::config(
                CERT_KEY,
                "a client certificate needs both the certificate and its key: give both, or neither",
            ));
        }
    }
    let cert_pem = read_pem(CERT_KEY, &tls.client_cert_file)
        .map_err(|e| TelemetryError::config(CERT_KEY, e))?;
    let certs = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            TelemetryError::config(CERT_KEY, format!("`{}`: {e}", tls.client_cert_file))
        })?;
    if certs.is_empty() {
        return Err(TelemetryError::config(
            CERT_KEY,
            format!("`{}` holds no certificate", tls.client_cert_file),
        ));
    }
    let key_pem =
        read_pem(KEY_KEY, &tls.client_key_file).map_err(|e| TelemetryError::config(KEY_KEY, e))?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| TelemetryError::config(KEY_KEY, format!("`{}`: {e}", tls.client_key_file)))?;
    Ok(Some((certs, key)))
}

// === impl HttpsClient ===

impl HttpsClient {
    /// A client with `tls`, each request bounded by `timeout`.
    pub(crate) fn new(tls: &ExportTls, timeout: Duration) -> Result<Self, TelemetryError> {
        let connector = TlsConnector::from(Arc::new(client_config(tls)?));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                TelemetryError::config(
                    "Endpoint",
                    format!("cannot start the TLS export runtime: {e}"),
                )
            })?;
        // A few requests queue at most: the batch processor sends one at a time.
        let (jobs, mut rx) = mpsc::channel::<Job>(8);
        std::thread::Builder::new()
            .name("rzero-otlp-https".into())
            .spawn(move || {
                runtime.block_on(async move {
                    while let Some((req, reply)) = rx.recv().await {
                        let connector = connector.clone();
                        tokio::spawn(async move {
                            let outcome = tokio::time::timeout(timeout, send(&connector, req))
                                .await
                                .unwrap_or_else(|_| {
                                    Err(format!("no answer within the export timeout {timeout:?}")
                                        .into())
                                });
                            let _ = reply.send(outcome);
                        });
                    }
                });
            })
            .map_err(|e| {
                TelemetryError::config(
                    "Endpoint",
                    format!("cannot start the TLS export thread: {e}"),
                )
            })?;
        Ok(HttpsClient { jobs })
    }
}

async fn send(connector: &TlsConnector, req: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
    let uri = req.uri().clone();
    let host = uri.host().ok_or("the OTLP endpoint has no host")?;
    let port = uri.port_u16().unwrap_or(443);
    // `[::1]` in a URI is `::1` to the resolver and to the certificate check.
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let tcp = tokio::net::TcpStream::connect((bare.as_str(), port)).await?;
    tcp.set_nodelay(true)?;
    let name = ServerName::try_from(bare)?;
    let tls = connector.connect(name, tcp).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
    tokio::spawn(conn);

    let (mut parts, body) = req.into_parts();
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_default();
    parts.uri = uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .parse()?;
    parts.headers.insert(http::header::HOST, authority.parse()?);
    let response = sender
        .send_request(Request::from_parts(parts, Full::new(body)))
        .await?;
    let (parts, body) = response.into_parts();
    let body = Limited::new(body, MAX_RESPONSE_BYTES)
        .collect()
        .await?
        .to_bytes();
    Ok(Response::from_parts(parts, body))
}

#[async_trait::async_trait]
impl HttpClient for HttpsClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send((request, tx))
            .await
            .map_err(|_| "the TLS export thread has stopped")?;
        rx.await
            .map_err(|_| "the TLS export thread dropped the request")?
    }
}
