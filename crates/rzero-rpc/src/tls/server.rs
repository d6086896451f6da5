//! The server's TLS: tonic's `ServerTlsConfig` from a [`ServerTlsConf`].

use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};

use super::{SERVER_HANDSHAKE_TIMEOUT, ServerTlsConf, TlsConfError};
use rzero_telemetry::tls::{error_chain, install_crypto_provider, read_pem};

/// Reads the files `conf` names and checks tonic accepts them (the key matches, the
/// PEM parses), so a bad file fails the start, not the first handshake.
pub(crate) fn server_tls(conf: &ServerTlsConf) -> Result<ServerTlsConfig, TlsConfError> {
    install_crypto_provider();
    let read = |key: &str, path: &str| read_pem(&format!("Tls.{key}"), path).map_err(TlsConfError);
    let identity = Identity::from_pem(
        read("CertFile", &conf.cert_file)?,
        read("KeyFile", &conf.key_file)?,
    );
    let mut tls = ServerTlsConfig::new()
        .identity(identity)
        .timeout(SERVER_HANDSHAKE_TIMEOUT);
    if !conf.ca_cert_file.trim().is_empty() {
        let ca = read("CACertFile", &conf.ca_cert_file)?;
        tls = tls.client_ca_root(Certificate::from_pem(ca));
    }
    Server::builder().tls_config(tls.clone()).map_err(|e| {
        TlsConfError(format!(
            "cannot serve TLS with Tls.CertFile `{}` and Tls.KeyFile `{}`: {}; the files \
             must be a PEM certificate chain and its private key",
            conf.cert_file,
            conf.key_file,
            error_chain(&e)
        ))
    })?;
    Ok(tls)
}
