//! Why an outbound request failed.

use std::time::Duration;

/// An outbound request's failure; each says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpcError {
    /// The URL cannot be used.
    #[error("invalid URL {0}")]
    InvalidUrl(String),
    /// The host's breaker is open after recent failures.
    #[error("circuit breaker open for {host}: recent calls mostly failed; retry later")]
    BreakerOpen {
        /// `host:port`.
        host: String,
    },
    /// No complete answer within the timeout.
    #[error("no answer within {0:?}; the callee is slow or down")]
    Timeout(Duration),
    /// Connecting or exchanging failed.
    #[error("request failed: {0}; is the callee running?")]
    Connect(String),
    /// The TLS handshake failed: most often the server's certificate is not signed by a
    /// CA the client trusts, or names another host.
    #[error(
        "TLS handshake failed: {0}; if the server's certificate is not trusted, give its CA \
         as CACertFile (ClientTlsConf), and check the URL's host is a name the certificate \
         carries"
    )]
    Tls(String),
    /// The answer body could not be read.
    #[error("could not read the answer: {0}")]
    Body(String),
    /// The answer body is larger than the client accepts.
    #[error("answer body larger than {0} bytes; raise max_response_bytes if expected")]
    TooLarge(usize),
}

impl HttpcError {
    pub(super) fn connect(e: hyper_util::client::legacy::Error) -> Self {
        use std::error::Error as _;
        let mut msg = e.to_string();
        let mut tls = false;
        let mut source = e.source();
        while let Some(s) = source {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            tls |= is_rustls(s);
            source = s.source();
        }
        if tls {
            HttpcError::Tls(msg)
        } else {
            HttpcError::Connect(msg)
        }
    }

    /// The `error.type` of the span.
    pub fn kind(&self) -> &'static str {
        match self {
            HttpcError::InvalidUrl(_) => "invalid_url",
            HttpcError::BreakerOpen { .. } => "breaker_open",
            HttpcError::Timeout(_) => "timeout",
            HttpcError::Connect(_) => "connect",
            HttpcError::Tls(_) => "tls",
            HttpcError::Body(_) => "body",
            HttpcError::TooLarge(_) => "too_large",
        }
    }
}

/// A rustls error, or io::Errors around one (tokio-rustls wraps rustls's error in one,
/// hyper-rustls that in another; `io::Error::source` skips the wrapped error itself).
fn is_rustls(e: &(dyn std::error::Error + 'static)) -> bool {
    if e.is::<rustls::Error>() {
        return true;
    }
    e.downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
        .is_some_and(|inner| is_rustls(inner))
}
