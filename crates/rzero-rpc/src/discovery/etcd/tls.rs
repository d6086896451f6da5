//! TLS to etcd, on tonic's rustls: `CACertFile` (the CA that signed etcd's certificate;
//! empty: the system's trust store), `CertFile`/`CertKeyFile` (a client certificate for
//! etcd's `--client-cert-auth`), `InsecureSkipVerify` (accept any server certificate,
//! for tests: the handshake's signatures are still checked, the chain and name are not).
//!
//! The crypto provider is the process's one (ring, installed once by
//! [`rzero_telemetry::tls::install_crypto_provider`]); the verifier for
//! `InsecureSkipVerify` is the RPC client's ([`crate::tls`]).

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rzero_conf::EtcdConf;
use rzero_telemetry::tls::{error_chain, install_crypto_provider};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

use super::EtcdError;
use crate::tls::verify::AnyServerCert;

/// The TLS set-up of one `EtcdConf`, read once and applied to each host's endpoint.
#[derive(Clone, Debug)]
pub(crate) struct Tls {
    config: ClientTlsConfig,
    skip_verify: bool,
}

/// The crypto provider etcd's TLS uses: the process's one.
pub(crate) fn crypto_provider() -> Arc<CryptoProvider> {
    install_crypto_provider()
}

// === impl Tls ===

impl Tls {
    /// Reads the files `conf` names; `None` when `conf` does not ask for TLS.
    pub(crate) fn from_conf(conf: &EtcdConf) -> Result<Option<Tls>, EtcdError> {
        if !conf.uses_tls() {
            return Ok(None);
        }
        let mut config = ClientTlsConfig::new().timeout(conf.dial_timeout);
        if conf.insecure_skip_verify {
            if !conf.ca_cert_file.is_empty() {
                tracing::warn!(
                    "Etcd.InsecureSkipVerify is set: Etcd.CACertFile is not used, and etcd's \
                     certificate is not verified"
                );
            }
        } else if conf.ca_cert_file.is_empty() {
            config = config.with_native_roots();
        } else {
            let ca = read_pem("CACertFile", &conf.ca_cert_file)?;
            config = config.ca_certificate(Certificate::from_pem(ca));
        }
        if !conf.cert_file.is_empty() {
            let cert = read_pem("CertFile", &conf.cert_file)?;
            let key = read_pem("CertKeyFile", &conf.cert_key_file)?;
            config = config.identity(Identity::from_pem(cert, key));
        }
        Ok(Some(Tls {
            config,
            skip_verify: conf.insecure_skip_verify,
        }))
    }

    /// `endpoint` with TLS on. Fails when the files' contents are not what they should
    /// be (tonic parses them here): the error names the keys to check.
    pub(crate) fn apply(&self, endpoint: Endpoint, host: &str) -> Result<Endpoint, EtcdError> {
        let applied = if self.skip_verify {
            let verifier = Arc::new(AnyServerCert::new(crypto_provider()));
            endpoint.tls_config_with_verifier(self.config.clone(), verifier)
        } else {
            endpoint.tls_config(self.config.clone())
        };
        applied.map_err(|e| {
            EtcdError::Config(format!(
                "Etcd: TLS to `{host}` cannot be set up: {}; check Etcd.CACertFile, \
                 Etcd.CertFile and Etcd.CertKeyFile (PEM files; the key must match the \
                 certificate)",
                error_chain(&e)
            ))
        })
    }
}

fn read_pem(key: &str, path: &str) -> Result<Vec<u8>, EtcdError> {
    rzero_telemetry::tls::read_pem(&format!("Etcd.{key}"), path).map_err(EtcdError::Config)
}
