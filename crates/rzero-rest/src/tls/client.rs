//! The client side, for [`crate::httpc`]: which servers to trust, and the client
//! certificate to present when a server asks for one.

use std::sync::{Arc, OnceLock};

use rustls::{ClientConfig, RootCertStore};
use serde::{Deserialize, Serialize};

use super::{TlsConfError, read_certs, read_key, read_roots};

/// An outbound client's TLS settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ClientTlsConf {
    /// The CA that signed the servers' certificates, PEM. Empty: the system's trust
    /// store.
    #[serde(rename = "CACertFile", default)]
    pub ca_cert_file: String,
    /// A client certificate chain, PEM, for servers that require one (mTLS); with
    /// `KeyFile`.
    #[serde(default)]
    pub cert_file: String,
    /// The client certificate's private key, PEM.
    #[serde(default)]
    pub key_file: String,
}

impl ClientTlsConf {
    /// The rustls config for these settings (without ALPN: the connector sets it).
    /// Reads the files.
    pub(crate) fn client_config(&self) -> Result<ClientConfig, TlsConfError> {
        let roots = if self.ca_cert_file.trim().is_empty() {
            system_roots()
        } else {
            Arc::new(read_roots("CACertFile", &self.ca_cert_file)?)
        };
        let builder = builder().with_root_certificates(roots);
        let config = match (self.cert_file.trim(), self.key_file.trim()) {
            ("", "") => builder.with_no_client_auth(),
            (cert, key) if !cert.is_empty() && !key.is_empty() => builder
                .with_client_auth_cert(read_certs("CertFile", cert)?, read_key("KeyFile", key)?)
                .map_err(|e| {
                    TlsConfError(format!(
                        "KeyFile `{key}` does not fit CertFile `{cert}`: {e}; give the key \
                         the certificate was made for"
                    ))
                })?,
            _ => {
                return Err(TlsConfError(
                    "CertFile and KeyFile go together: give both for a client certificate, \
                     or neither"
                        .into(),
                ));
            }
        };
        Ok(config)
    }
}

/// The config that trusts the system's store and presents no certificate: nothing to
/// read, so nothing to fail.
pub(crate) fn system_config() -> ClientConfig {
    builder()
        .with_root_certificates(system_roots())
        .with_no_client_auth()
}

/// rustls's builder on the process's provider, with its safe default versions (which
/// ring supports: rustls's `builder()` cannot fail once a provider is installed).
fn builder() -> rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier> {
    rzero_telemetry::tls::install_crypto_provider();
    ClientConfig::builder()
}

/// The system's trust store, read once per process (reading it walks a directory of
/// files: too slow for every client). Certificates rustls cannot parse are skipped, as
/// browsers and Go do.
fn system_roots() -> Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            for e in &found.errors {
                tracing::warn!(error = %e, "skipping part of the system trust store");
            }
            let mut roots = RootCertStore::empty();
            let (_added, _skipped) = roots.add_parsable_certificates(found.certs);
            Arc::new(roots)
        })
        .clone()
}
