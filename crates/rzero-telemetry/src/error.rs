//! What can go wrong when telemetry starts, in words that say what to change.

/// An error from [`crate::Telemetry::init`]. Exporting problems after start are never
/// errors to the caller: they are logged and counted.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// A config value is out of range or unknown.
    #[error("telemetry config: {key}: {message}")]
    Config {
        /// The key at fault, e.g. `Sampler` or `Rules[0].Ratio`.
        key: String,
        /// What was expected and what was found.
        message: String,
    },
    /// The OTLP exporter could not be built (bad URL, bad header).
    #[error("telemetry: cannot export {signal} to `{endpoint}`: {reason}")]
    Exporter {
        /// `traces`, `metrics` or `logs`.
        signal: &'static str,
        /// The endpoint as resolved from config and environment.
        endpoint: String,
        /// Why, from the exporter.
        reason: String,
    },
    /// `init` was called while another global `tracing` subscriber is installed.
    #[error(
        "telemetry: a global tracing subscriber is already installed; call \
         rzero_telemetry init once, at the start of main, and install no other subscriber"
    )]
    SubscriberInstalled,
    /// The Prometheus endpoint could not be set up.
    #[error("telemetry: Prometheus metrics on {addr}: {reason}")]
    Prometheus {
        /// The address or path involved.
        addr: String,
        /// Why.
        reason: String,
    },
}

impl TelemetryError {
    pub(crate) fn config(key: impl Into<String>, message: impl Into<String>) -> Self {
        TelemetryError::Config {
            key: key.into(),
            message: message.into(),
        }
    }
}
