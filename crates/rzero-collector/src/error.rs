//! Errors of starting the collector.

use std::net::SocketAddr;

/// The collector could not start.
#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    /// A port is taken or not ours to bind.
    #[error("collector: cannot listen on {addr} for {what}: {source} (is the port taken?)")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// `OTLP/gRPC`, `OTLP/HTTP` or `the API`.
        what: &'static str,
        /// The socket error.
        source: std::io::Error,
    },
    /// The forward endpoint is not a usable OTLP/gRPC address.
    #[error("collector: cannot forward to `{endpoint}`: {reason}")]
    Forward {
        /// The endpoint as configured.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The data directory (`--data`) cannot be opened or read.
    #[error("collector: {0}")]
    Data(String),
}
