//! `ServiceConf`: go-zero's `service.ServiceConf`, the keys every service's file carries
//! whatever its kind. `RestConf` and `RpcServerConf` flatten it, as go-zero embeds it.

use std::time::Duration;

use rzero_conf::Mode;
use rzero_telemetry::{LogConf, PrometheusConf, TelemetryConf, TelemetryError, TelemetryGuard};
use serde::{Deserialize, Serialize};

use crate::devserver::DevServerConf;

/// The keys shared by every kind of service.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceConf {
    /// The service's name (`order-api`): `service.name` of its telemetry unless
    /// `OTEL_SERVICE_NAME` says otherwise. Required, as in go-zero.
    pub name: String,
    /// The environment this process runs in (`dev`, `test`, `rt`, `pre`, `pro`).
    #[serde(default)]
    pub mode: Mode,
    /// go-zero's `Log`.
    #[serde(default)]
    pub log: LogConf,
    /// go-zero's `Telemetry`.
    #[serde(default)]
    pub telemetry: Option<TelemetryConf>,
    /// The guide's `OpenTelemetry` (same keys as `Telemetry`; used when that is absent).
    #[serde(default)]
    pub open_telemetry: Option<TelemetryConf>,
    /// go-zero's `Prometheus`: serve `/metrics` on its own port when present.
    #[serde(default)]
    pub prometheus: Option<PrometheusConf>,
    /// go-zero's `DevServer`: health, metrics and CPU profiles on a port of their own
    /// (6060, loopback), when present.
    #[serde(default)]
    pub dev_server: Option<DevServerConf>,
    /// What happens between a stop signal and the exit.
    #[serde(default)]
    pub shutdown: ShutdownConf,
}

/// go-zero's `Shutdown`: the graceful stop's two waits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ShutdownConf {
    /// After the signal the server reports not ready (`/ready` 503, NOT_SERVING, out of
    /// etcd) and keeps serving this long, so load balancers and callers notice before the
    /// listener closes (default 1s, go-zero's `WrapUpTime`).
    #[serde(default = "default_wrap_up", with = "rzero_conf::duration")]
    pub wrap_up_time: Duration,
    /// Requests in flight get this long to finish; then they are dropped (default 5.5s,
    /// go-zero's `WaitTime`).
    #[serde(default = "default_wait", with = "rzero_conf::duration")]
    pub wait_time: Duration,
}

impl Default for ShutdownConf {
    fn default() -> Self {
        ShutdownConf {
            wrap_up_time: default_wrap_up(),
            wait_time: default_wait(),
        }
    }
}

fn default_wrap_up() -> Duration {
    Duration::from_secs(1)
}

fn default_wait() -> Duration {
    Duration::from_millis(5500)
}

// === impl ServiceConf ===

impl ServiceConf {
    /// The telemetry section, whichever spelling the file used (`Telemetry` wins).
    pub fn telemetry_conf(&self) -> TelemetryConf {
        self.telemetry
            .clone()
            .or_else(|| self.open_telemetry.clone())
            .unwrap_or_default()
    }

    /// Starts traces, metrics and logs as the file and the `OTEL_*` variables say, named
    /// after `Name`; `version` is the binary's (`env!("CARGO_PKG_VERSION")`). Call once in
    /// `main`, then give the guard to the server, which flushes it as its last step.
    pub fn init_telemetry(&self, version: &str) -> Result<TelemetryGuard, TelemetryError> {
        rzero_telemetry::Telemetry::new(&self.name, version)
            .conf(&self.telemetry_conf())
            .log(&self.log)
            .init()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, Serialize)]
    struct Outer {
        #[serde(flatten)]
        service: ServiceConf,
        #[serde(rename = "Port", default)]
        port: u16,
    }

    #[test]
    fn go_zero_keys_flatten_into_a_server_section() {
        let yaml = "Name: order-api\nMode: dev\nPort: 8888\nLog:\n  Encoding: json\n\
                    OpenTelemetry:\n  Endpoint: localhost:4317\nShutdown:\n  WrapUpTime: 2s\n";
        let c: Outer = rzero_conf::Loader::new()
            .env(|_| None)
            .load_str("a.yaml", yaml)
            .expect("loads");
        assert_eq!(c.service.name, "order-api");
        assert_eq!(c.service.mode, Mode::Dev);
        assert_eq!(c.port, 8888);
        assert_eq!(c.service.telemetry_conf().endpoint, "localhost:4317");
        assert_eq!(c.service.shutdown.wrap_up_time, Duration::from_secs(2));
        assert_eq!(c.service.shutdown.wait_time, Duration::from_millis(5500));
    }

    #[test]
    fn telemetry_wins_over_open_telemetry() {
        let yaml = "Name: a\nTelemetry:\n  Endpoint: a:4317\nOpenTelemetry:\n  Endpoint: b:4317\n";
        let c: ServiceConf = rzero_conf::Loader::new()
            .env(|_| None)
            .load_str("a.yaml", yaml)
            .expect("loads");
        assert_eq!(c.telemetry_conf().endpoint, "a:4317");
    }

    #[test]
    fn a_typo_in_shutdown_is_named_with_its_line() {
        let err = rzero_conf::Loader::new()
            .env(|_| None)
            .load_str::<Outer>("a.yaml", "Name: a\nShutdown:\n  WaitTim: 1s\n")
            .expect_err("unknown key");
        let msg = err.to_string();
        assert!(msg.contains("WaitTim") && msg.contains("a.yaml:3"), "{msg}");
    }
}
