//! TLS and mTLS for the RPC server and client, on tonic's rustls with ring (the
//! process's one crypto provider, see [`rzero_telemetry::tls`]).
//!
//! - Server, `Tls: {CertFile, KeyFile, CACertFile}`: serve TLS with this certificate;
//!   with `CACertFile`, every client must present a certificate that CA signed (mTLS).
//! - Client, `Tls: {CACertFile, CertFile, KeyFile, ServerName, InsecureSkipVerify}`:
//!   verify servers against `CACertFile` (empty: the system's trust store), present a
//!   client certificate when the server asks for one, check the name `ServerName`
//!   (empty: the endpoint's host, an IP address included) instead of each endpoint's.
//!
//! The section's presence turns TLS on, as go-zero's `CertFile`/`KeyFile` do for its
//! rest server; a nested section rather than flat keys because a client that trusts
//! the system store has no file to name, and still needs a switch.
//!
//! Files are read once at start, bounded in size, and a missing or malformed one fails
//! the start with the key at fault; a handshake has a deadline (10 s on the server, 3 s
//! on the client), so a peer that never completes it holds nothing.

mod client;
mod server;
pub(crate) mod verify;

use serde::{Deserialize, Serialize};

pub use client::ClientTls;
pub(crate) use server::server_tls;

/// How long a client may take to finish the server's TLS handshake.
pub const SERVER_HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// How long the client waits for a server's TLS handshake (as long as for the TCP
/// connect before it).
pub const CLIENT_HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// A server's `Tls:` section.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ServerTlsConf {
    /// The server's certificate chain, PEM (leaf first).
    pub cert_file: String,
    /// The certificate's private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key_file: String,
    /// Clients must present a certificate signed by this CA (PEM): mTLS. Empty: any
    /// client may connect, as with plain TLS.
    #[serde(rename = "CACertFile", default)]
    pub ca_cert_file: String,
}

/// A client's `Tls:` section.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ClientTlsConf {
    /// The CA that signed the servers' certificates, PEM. Empty: the system's trust
    /// store.
    #[serde(rename = "CACertFile", default)]
    pub ca_cert_file: String,
    /// A client certificate, PEM, for servers that require one (mTLS); with `KeyFile`.
    #[serde(default)]
    pub cert_file: String,
    /// The client certificate's private key, PEM.
    #[serde(default)]
    pub key_file: String,
    /// The name the servers' certificates must carry. Empty: each endpoint's host (an
    /// IP address is checked against the certificate's IP addresses).
    #[serde(default)]
    pub server_name: String,
    /// Accept any server certificate (default false). For tests only: the connection
    /// is encrypted but not authenticated, anyone on the path can read it.
    #[serde(default)]
    pub insecure_skip_verify: bool,
}

/// A `Tls:` section that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("rpc TLS: {0}")]
pub struct TlsConfError(pub String);
