//! HTTPS for the gateway and for [`crate::httpc`]: rustls with ring, the process's one
//! crypto provider ([`rzero_telemetry::tls::install_crypto_provider`]).
//!
//! The server speaks TLS when `CertFile` and `KeyFile` are set (go-zero's keys); with
//! `CACertFile` as well, every client must present a certificate that CA signed (mTLS).
//! HTTP/2 and HTTP/1.1 are offered by ALPN. The files are read and checked once, when
//! the server starts: a missing file, a file that is not PEM, or a key that does not
//! fit the certificate fails the start with the key at fault.
//!
//! Each accepted socket must finish its handshake within the smallest non-zero of
//! `ReadHeaderTimeout`, `ReadTimeout` and `WriteTimeout` (Go's `http.Server` bounds its
//! TLS handshake the same way), or 10 s when all three are off: a client that opens a
//! socket and never completes the handshake holds nothing for long. A client that speaks
//! plain HTTP to the TLS port is answered a plain 400 that says to use `https://`, as Go
//! does, instead of a handshake alert it cannot read.

mod accept;
pub(crate) mod client;

use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use serde::{Deserialize, Serialize};

pub(crate) use accept::{Https, TlsAcceptor};
pub use client::ClientTlsConf;

/// The handshake deadline when `ReadHeaderTimeout`, `ReadTimeout` and `WriteTimeout`
/// are all off.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The server's TLS keys, flattened into [`crate::RestConf`]: `CertFile`, `KeyFile`,
/// `CACertFile`. Both of the first two empty: plain HTTP.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServerTlsConf {
    /// The server's certificate chain, PEM, leaf first (go-zero's `CertFile`).
    #[serde(default)]
    pub cert_file: String,
    /// The certificate's private key, PEM: PKCS#8, PKCS#1 or SEC1 (go-zero's `KeyFile`).
    #[serde(default)]
    pub key_file: String,
    /// Clients must present a certificate signed by this CA, PEM (mTLS). Empty: any
    /// client may connect.
    #[serde(rename = "CACertFile", default)]
    pub ca_cert_file: String,
}

/// A TLS key or file that cannot be used; the message names the key and what to fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("TLS: {0}")]
pub struct TlsConfError(pub String);

impl ServerTlsConf {
    /// True when the server is to speak TLS.
    pub fn enabled(&self) -> bool {
        !self.cert_file.trim().is_empty() || !self.key_file.trim().is_empty()
    }

    /// The rustls config these keys describe, `None` for plain HTTP. Reads the files.
    pub fn server_config(&self) -> Result<Option<rustls::ServerConfig>, TlsConfError> {
        if !self.enabled() {
            return Ok(None);
        }
        if self.cert_file.trim().is_empty() || self.key_file.trim().is_empty() {
            return Err(TlsConfError(
                "CertFile and KeyFile go together: give both to serve HTTPS, or neither".into(),
            ));
        }
        let provider = rzero_telemetry::tls::install_crypto_provider();
        let certs = read_certs("CertFile", &self.cert_file)?;
        let key = read_key("KeyFile", &self.key_file)?;
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsConfError(format!("no TLS version to offer: {e}")))?;
        let builder = if self.ca_cert_file.trim().is_empty() {
            builder.with_no_client_auth()
        } else {
            let roots = read_roots("CACertFile", &self.ca_cert_file)?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| TlsConfError(format!("CACertFile `{}`: {e}", self.ca_cert_file)))?;
            builder.with_client_cert_verifier(verifier)
        };
        let mut config = builder.with_single_cert(certs, key).map_err(|e| {
            TlsConfError(format!(
                "KeyFile `{}` does not fit CertFile `{}`: {e}; give the key the \
                 certificate was made for",
                self.key_file, self.cert_file
            ))
        })?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Some(config))
    }
}

/// The server's acceptor for `conf`, `None` for plain HTTP.
pub(crate) fn acceptor(conf: &crate::RestConf) -> Result<Option<TlsAcceptor>, TlsConfError> {
    let Some(config) = conf.tls.server_config()? else {
        return Ok(None);
    };
    let timeout = handshake_timeout(
        conf.read_header_timeout,
        conf.read_timeout,
        conf.write_timeout,
    );
    Ok(Some(TlsAcceptor::new(config, timeout)))
}

/// The handshake deadline for these timeouts (see the module docs).
pub(crate) fn handshake_timeout(header: Duration, read: Duration, write: Duration) -> Duration {
    [header, read, write]
        .into_iter()
        .filter(|d| !d.is_zero())
        .min()
        .unwrap_or(DEFAULT_HANDSHAKE_TIMEOUT)
}

/// The certificates in the PEM file at `path`, named `key` in errors; at least one.
pub(crate) fn read_certs(
    key: &str,
    path: &str,
) -> Result<Vec<CertificateDer<'static>>, TlsConfError> {
    let pem = rzero_telemetry::tls::read_pem(key, path).map_err(TlsConfError)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsConfError(format!("{key} `{path}`: {e}")))?;
    if certs.is_empty() {
        return Err(TlsConfError(format!(
            "{key} `{path}` holds no certificate: expected `-----BEGIN CERTIFICATE-----`"
        )));
    }
    Ok(certs)
}

/// The private key in the PEM file at `path`, named `key` in errors.
pub(crate) fn read_key(key: &str, path: &str) -> Result<PrivateKeyDer<'static>, TlsConfError> {
    let pem = rzero_telemetry::tls::read_pem(key, path).map_err(TlsConfError)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        TlsConfError(format!(
            "{key} `{path}`: no private key in it ({e}); expected `-----BEGIN PRIVATE KEY-----`"
        ))
    })
}

/// The CA certificates in the PEM file at `path`, as a trust store.
pub(crate) fn read_roots(key: &str, path: &str) -> Result<RootCertStore, TlsConfError> {
    let mut roots = RootCertStore::empty();
    for cert in read_certs(key, path)? {
        roots
            .add(cert)
            .map_err(|e| TlsConfError(format!("{key} `{path}`: {e}")))?;
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn the_handshake_has_the_smallest_timeout_that_is_on() {
        assert_eq!(handshake_timeout(10 * S, 30 * S, 30 * S), 10 * S);
        assert_eq!(handshake_timeout(Duration::ZERO, 30 * S, 5 * S), 5 * S);
        assert_eq!(
            handshake_timeout(Duration::ZERO, Duration::ZERO, Duration::ZERO),
            DEFAULT_HANDSHAKE_TIMEOUT
        );
    }

    #[test]
    fn half_a_key_pair_is_refused() {
        let conf = ServerTlsConf {
            cert_file: "a.pem".into(),
            ..Default::default()
        };
        let err = conf.server_config().expect_err("no key");
        assert!(err.to_string().contains("CertFile and KeyFile"), "{err}");
        assert!(
            ServerTlsConf::default()
                .server_config()
                .expect("off")
                .is_none()
        );
    }

    #[test]
    fn a_missing_file_is_named() {
        let conf = ServerTlsConf {
            cert_file: "/nonexistent/cert.pem".into(),
            key_file: "/nonexistent/key.pem".into(),
            ca_cert_file: String::new(),
        };
        let err = conf.server_config().expect_err("missing").to_string();
        assert!(err.contains("CertFile `/nonexistent/cert.pem`"), "{err}");
    }
}
