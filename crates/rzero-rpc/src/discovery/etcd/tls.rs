//! TLS to etcd, on tonic's rustls: `CACertFile` (the CA that signed etcd's certificate;
//! empty: the system's trust store), `CertFile`/`CertKeyFile` (a client certificate for
//! etcd's `--client-cert-auth`), `InsecureSkipVerify` (accept any server certificate,
//! for tests: the handshake's signatures are still checked, the chain and name are not).
//!
//! The crypto provider is chosen here and only here ([`crypto_provider`]): the process
//! default when one is installed, else ring, which is what tonic's `tls-ring` does for
//! the rest of the handshake. When rzero gets one provider for the whole process (one
//! `CryptoProvider::install_default` in the service's start-up), this module follows it
//! with no change.

use std::io::Read;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rzero_conf::EtcdConf;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

use super::EtcdError;

/// PEM files larger than this are refused: certificates are a few KiB, and a huge file
/// is the wrong file.
const MAX_PEM_BYTES: u64 = 1 << 20;

/// The TLS set-up of one `EtcdConf`, read once and applied to each host's endpoint.
#[derive(Clone, Debug)]
pub(crate) struct Tls {
    config: ClientTlsConfig,
    skip_verify: bool,
}

/// The crypto provider etcd's TLS uses: the process default if one was installed,
/// else ring (as tonic's `tls-ring`).
pub(crate) fn crypto_provider() -> Arc<CryptoProvider> {
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
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
            let verifier = Arc::new(AnyServerCert(crypto_provider()));
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

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn read_pem(key: &str, path: &str) -> Result<Vec<u8>, EtcdError> {
    let fail = |why: String| EtcdError::Config(format!("Etcd.{key} `{path}`: {why}"));
    let file = std::fs::File::open(path).map_err(|e| fail(format!("cannot open: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_PEM_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_PEM_BYTES {
        return Err(fail(format!(
            "larger than {MAX_PEM_BYTES} bytes: expected a PEM file"
        )));
    }
    // Without this a CA file with no PEM block in it would trust nothing, and every
    // handshake would fail far from its cause.
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Err(fail(
            "no PEM block in it (expected `-----BEGIN CERTIFICATE-----` or \
             `-----BEGIN PRIVATE KEY-----`)"
                .into(),
        ));
    }
    Ok(bytes)
}

/// `InsecureSkipVerify`: any certificate chain and name pass; the handshake signatures
/// are still verified, so the peer must hold the key of the certificate it sent.
#[derive(Debug)]
struct AnyServerCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
