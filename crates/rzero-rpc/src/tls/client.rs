//! The client's TLS: one [`ClientTls`] read from a [`ClientTlsConf`], applied to each
//! endpoint's channel.

use std::sync::Arc;

use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

use super::verify::AnyServerCert;
use super::{ClientTlsConf, TlsConfError};
use rzero_telemetry::tls::{error_chain, install_crypto_provider, read_pem};

/// A client's TLS set-up, read once; cheap to clone.
#[derive(Clone, Debug)]
pub struct ClientTls {
    config: ClientTlsConfig,
    skip_verify: bool,
}

impl ClientTls {
    /// Reads the files `conf` names. A client certificate needs both `CertFile` and
    /// `KeyFile`.
    pub fn from_conf(conf: &ClientTlsConf) -> Result<ClientTls, TlsConfError> {
        install_crypto_provider();
        let read =
            |key: &str, path: &str| read_pem(&format!("Tls.{key}"), path).map_err(TlsConfError);
        let mut config = ClientTlsConfig::new().timeout(super::CLIENT_HANDSHAKE_TIMEOUT);
        if conf.insecure_skip_verify {
            tracing::warn!(
                "rpc client Tls.InsecureSkipVerify is set: server certificates are not \
                 verified; never use it in production"
            );
        } else if conf.ca_cert_file.trim().is_empty() {
            config = config.with_native_roots();
        } else {
            config = config.ca_certificate(Certificate::from_pem(read(
                "CACertFile",
                &conf.ca_cert_file,
            )?));
        }
        match (conf.cert_file.trim(), conf.key_file.trim()) {
            ("", "") => {}
            (cert, key) if !cert.is_empty() && !key.is_empty() => {
                config = config.identity(Identity::from_pem(
                    read("CertFile", cert)?,
                    read("KeyFile", key)?,
                ));
            }
            _ => {
                return Err(TlsConfError(
                    "Tls.CertFile and Tls.KeyFile go together: give both for a client \
                     certificate, or neither"
                        .into(),
                ));
            }
        }
        if !conf.server_name.trim().is_empty() {
            config = config.domain_name(conf.server_name.trim());
        }
        Ok(ClientTls {
            config,
            skip_verify: conf.insecure_skip_verify,
        })
    }

    /// `endpoint` (an `https://` URI) with TLS on. Fails when a file's contents are not
    /// what they should be (tonic parses them here).
    pub fn apply(&self, endpoint: Endpoint) -> Result<Endpoint, TlsConfError> {
        let uri = endpoint.uri().to_string();
        let applied = if self.skip_verify {
            let verifier = Arc::new(AnyServerCert::new(install_crypto_provider()));
            endpoint.tls_config_with_verifier(self.config.clone(), verifier)
        } else {
            endpoint.tls_config(self.config.clone())
        };
        applied.map_err(|e| {
            TlsConfError(format!(
                "cannot set up TLS to `{}`: {}; check Tls.CACertFile, Tls.CertFile and \
                 Tls.KeyFile (PEM files; the key must match the certificate)",
                uri,
                error_chain(&e)
            ))
        })
    }
}
