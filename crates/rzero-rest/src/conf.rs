//! `RestConf`: go-zero's `rest.RestConf`, the keys a gateway's YAML file carries.
//!
//! Flatten it into the service's own config struct, as go-zero embeds it:
//!
//! ```
//! #[derive(serde::Deserialize, serde::Serialize)]
//! struct Config {
//!     #[serde(flatten)]
//!     rest: rzero_rest::RestConf,
//!     #[serde(rename = "Auth", default)]
//!     auth: rzero_rest::jwt::JwtConf,
//! }
//! let c: Config = rzero_conf::Loader::new()
//!     .load_str("order-api.yaml", "Name: order-api\nPort: 8888\n")
//!     .unwrap();
//! assert_eq!(c.rest.port, 8888);
//! assert_eq!(c.rest.timeout.as_millis(), 3000);
//! ```

use std::time::Duration;

use rzero_service::ServiceConf;
use serde::{Deserialize, Serialize};

use crate::cors::CorsConf;

/// A gateway's settings. Defaults are go-zero's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RestConf {
    /// The keys every service has: `Name`, `Mode`, `Log`, `Telemetry`/`OpenTelemetry`,
    /// `Prometheus`, `Shutdown` (go-zero's `service.ServiceConf`, shared with the rpc
    /// server).
    #[serde(flatten)]
    pub service: ServiceConf,
    /// Interface to bind (default `0.0.0.0`).
    #[serde(default = "default_host")]
    pub host: String,
    /// Port to bind (go-zero has no default; rzero's is 8888, the gateway's port).
    #[serde(default = "default_port")]
    pub port: u16,
    /// Log request and response details for every request (go-zero's `Verbose`).
    #[serde(default)]
    pub verbose: bool,
    /// Open connections (sockets) at once, idle keep-alive ones included; one more is
    /// answered 503 and closed as it is accepted. Also the cap on requests in flight, which
    /// HTTP/2 can multiplex on fewer sockets (default 10000).
    #[serde(default = "default_max_conns")]
    pub max_conns: usize,
    /// Time a client has to send a request's head (line and headers), counted from its
    /// first byte; a connection that dribbles its head is closed (Go's
    /// `http.Server.ReadHeaderTimeout`; default 10 s, 0 turns it off).
    #[serde(default = "default_read_header_timeout", with = "rzero_conf::duration")]
    pub read_header_timeout: Duration,
    /// Time a client has to send a request's body, counted from its head; later, reading
    /// the body fails and the answer is 408 (Go's `ReadTimeout`, for the body; default
    /// 30 s, 0 turns it off). A body still arriving when the route's `Timeout` ends is a
    /// 408 too: the client's slowness never counts against the route's breaker.
    #[serde(default = "default_read_timeout", with = "rzero_conf::duration")]
    pub read_timeout: Duration,
    /// Time a write of the answer may make no progress (the client reads nothing) before
    /// the connection is closed (Go's `WriteTimeout`, here per stalled write; default 30 s,
    /// 0 turns it off).
    #[serde(default = "default_write_timeout", with = "rzero_conf::duration")]
    pub write_timeout: Duration,
    /// Time a keep-alive connection may wait for its next request before it is closed
    /// (Go's `IdleTimeout`; default 60 s, 0 turns it off).
    #[serde(default = "default_idle_timeout", with = "rzero_conf::duration")]
    pub idle_timeout: Duration,
    /// Largest request body in bytes; larger answer 413 (default 1 MiB).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// Time a request may take, in milliseconds or with a unit; later answers 503 and the
    /// handler is cancelled (default 3000 ms; 0 turns it off).
    #[serde(default = "default_timeout", with = "rzero_conf::duration")]
    pub timeout: Duration,
    /// CPU usage in thousandths above which requests may be shed (default 900; 0 turns
    /// shedding off).
    #[serde(default = "default_cpu_threshold")]
    pub cpu_threshold: u64,
    /// Paths whose requests get no span (go-zero's `TraceIgnorePaths`), e.g. `/metrics`.
    #[serde(default)]
    pub trace_ignore_paths: Vec<String>,
    /// What the gateway takes from callers: their trace (default yes), their baggage
    /// (default no). See [`crate::trace::TrustConf`].
    #[serde(default)]
    pub trust_incoming: crate::trace::TrustConf,
    /// Switches for each built-in middleware; all on by default.
    #[serde(default)]
    pub middlewares: MiddlewaresConf,
    /// Cross-origin requests; off unless `AllowOrigins` is set.
    #[serde(default)]
    pub cors: CorsConf,
    /// HTTPS: `CertFile`, `KeyFile` (go-zero's keys) and `CACertFile` for client
    /// certificates (mTLS); plain HTTP while `CertFile` and `KeyFile` are empty. See
    /// [`crate::tls`].
    #[serde(flatten)]
    pub tls: crate::tls::ServerTlsConf,
    /// Response compression by `Accept-Encoding`: `Compress: {Enabled, MinBytes}`; off
    /// by default. See [`crate::compress`].
    #[serde(default)]
    pub compress: crate::compress::CompressConf,
    /// Rate limits per route; none unless rules are given (see [`crate::ratelimit`]).
    #[serde(default)]
    pub rate_limit: crate::ratelimit::RateLimitConf,
}

impl Default for RestConf {
    fn default() -> Self {
        RestConf {
            service: ServiceConf::default(),
            host: default_host(),
            port: default_port(),
            verbose: false,
            max_conns: default_max_conns(),
            read_header_timeout: default_read_header_timeout(),
            read_timeout: default_read_timeout(),
            write_timeout: default_write_timeout(),
            idle_timeout: default_idle_timeout(),
            max_bytes: default_max_bytes(),
            timeout: default_timeout(),
            cpu_threshold: default_cpu_threshold(),
            trace_ignore_paths: Vec::new(),
            trust_incoming: Default::default(),
            middlewares: MiddlewaresConf::default(),
            cors: CorsConf::default(),
            tls: Default::default(),
            compress: Default::default(),
            rate_limit: Default::default(),
        }
    }
}

/// go-zero's `Middlewares`: every built-in middleware can be switched off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct MiddlewaresConf {
    /// Server spans and trace context extraction.
    #[serde(default = "yes")]
    pub trace: bool,
    /// One access log line per request.
    #[serde(default = "yes")]
    pub log: bool,
    /// go-zero's Prometheus switch; here an alias of `Metrics` kept for familiar files.
    #[serde(default = "yes")]
    pub prometheus: bool,
    /// The `MaxConns` limits (sockets and requests in flight).
    #[serde(default = "yes")]
    pub max_conns: bool,
    /// A circuit breaker per route.
    #[serde(default = "yes")]
    pub breaker: bool,
    /// Adaptive load shedding (also needs `CpuThreshold` > 0).
    #[serde(default = "yes")]
    pub shedding: bool,
    /// The `Timeout` limit.
    #[serde(default = "yes")]
    pub timeout: bool,
    /// Panics become 500 answers.
    #[serde(default = "yes")]
    pub recover: bool,
    /// Request duration and active requests metrics.
    #[serde(default = "yes")]
    pub metrics: bool,
    /// The `MaxBytes` limit.
    #[serde(default = "yes")]
    pub max_bytes: bool,
    /// Request bodies sent with `Content-Encoding: gzip` are decoded before the handler
    /// reads them, `MaxBytes` counting the decoded bytes (go-zero's `Gunzip`).
    #[serde(default = "yes")]
    pub gunzip: bool,
}

impl Default for MiddlewaresConf {
    fn default() -> Self {
        MiddlewaresConf {
            trace: true,
            log: true,
            prometheus: true,
            max_conns: true,
            breaker: true,
            shedding: true,
            timeout: true,
            recover: true,
            metrics: true,
            max_bytes: true,
            gunzip: true,
        }
    }
}

impl MiddlewaresConf {
    /// Every middleware off: the bare router, for comparison in benchmarks.
    pub fn none() -> Self {
        MiddlewaresConf {
            trace: false,
            log: false,
            prometheus: false,
            max_conns: false,
            breaker: false,
            shedding: false,
            timeout: false,
            recover: false,
            metrics: false,
            max_bytes: false,
            gunzip: false,
        }
    }
}

fn yes() -> bool {
    true
}
fn default_host() -> String {
    "0.0.0.0".into()
}
fn default_port() -> u16 {
    8888
}
fn default_max_conns() -> usize {
    10_000
}
fn default_read_header_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_read_timeout() -> Duration {
    Duration::from_secs(30)
}
fn default_write_timeout() -> Duration {
    Duration::from_secs(30)
}
fn default_idle_timeout() -> Duration {
    Duration::from_secs(60)
}
fn default_max_bytes() -> u64 {
    1 << 20
}
fn default_timeout() -> Duration {
    Duration::from_millis(3000)
}
fn default_cpu_threshold() -> u64 {
    900
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, Serialize)]
    struct Config {
        #[serde(flatten)]
        rest: RestConf,
    }

    #[test]
    fn go_zero_keys_and_defaults() {
        let yaml = "Name: order-api\nHost: 127.0.0.1\nPort: 8888\nTimeout: 5000\n\
                    ReadHeaderTimeout: 2s\nIdleTimeout: 90s\n\
                    Middlewares:\n  Shedding: false\nOpenTelemetry:\n  Endpoint: localhost:4317\n";
        let c: Config = rzero_conf::Loader::new()
            .load_str("a.yaml", yaml)
            .expect("loads");
        assert_eq!(c.rest.service.name, "order-api");
        assert_eq!(c.rest.timeout, Duration::from_secs(5));
        assert_eq!(c.rest.read_header_timeout, Duration::from_secs(2));
        assert_eq!(c.rest.idle_timeout, Duration::from_secs(90));
        assert_eq!(c.rest.read_timeout, Duration::from_secs(30));
        assert!(!c.rest.middlewares.shedding);
        assert!(c.rest.middlewares.trace);
        assert_eq!(c.rest.max_bytes, 1 << 20);
        assert_eq!(c.rest.service.telemetry_conf().endpoint, "localhost:4317");
    }

    #[test]
    fn unknown_middleware_is_named() {
        let err = rzero_conf::Loader::new()
            .load_str::<Config>("a.yaml", "Name: a\nMiddlewares:\n  Tracing: true\n")
            .expect_err("rejected");
        let msg = err.to_string();
        assert!(msg.contains("Tracing"), "{msg}");
        assert!(msg.contains("a.yaml:3"), "{msg}");
    }
}
