//! `rzero-collector`: a local OTLP collector with a trace viewer, for any service.
//!
//! ```text
//! rzero-collector                        # gRPC 127.0.0.1:4317, HTTP 127.0.0.1:4318, viewer 127.0.0.1:16686
//! rzero-collector --otlp-host 0.0.0.0 --auth-token "$TOKEN"   # OTLP from other hosts, with a token
//! rzero-collector --ui 0.0.0.0:16686 --max-spans 500000
//! rzero-collector --grpc off             # HTTP only
//! rzero-collector --forward http://otel-collector:4317
//! RZERO_COLLECTOR_UI=0.0.0.0:16686 rzero-collector
//! ```
//!
//! Every flag has an environment variable, `RZERO_COLLECTOR_` and the flag's name in
//! capitals (`--max-spans` is `RZERO_COLLECTOR_MAX_SPANS`); a flag wins over its variable.

use std::net::SocketAddr;
use std::process::ExitCode;

use rzero_collector::{Collector, CollectorConfig};

const USAGE: &str = "usage: rzero-collector [--grpc ADDR|off] [--http ADDR|off] [--ui ADDR|off] \
                     [--otlp-host IP] [--auth-token TOKEN] \
                     [--forward URL|off] [--forward-queue-bytes N] [--max-spans N] \
                     [--max-traces N] [--max-span-bytes N] [--max-logs N] [--max-body-bytes N] \
                     [--max-decoded-bytes N] [--tail-sampling FILE|default|off] [--data DIR|off] \
                     [--data-max-bytes N]
OTLP listens on 127.0.0.1 unless --otlp-host (e.g. 0.0.0.0) or --grpc/--http say otherwise;
--auth-token makes OTLP requests need `authorization: Bearer TOKEN`.
--data DIR keeps the stored traces in DIR/traces.db (SQLite) across restarts, at most
--data-max-bytes of them (default 1 GiB; the oldest traces are deleted beyond).
--tail-sampling holds each trace until complete and keeps what the policies say (`default`:
every error, every trace over 500 ms, 10% of the rest; FILE: a YAML policy file).
every flag also reads RZERO_COLLECTOR_<FLAG>, e.g. RZERO_COLLECTOR_MAX_SPANS, RZERO_COLLECTOR_AUTH_TOKEN";

const FLAGS: [&str; 16] = [
    "--data",
    "--data-max-bytes",
    "--tail-sampling",
    "--grpc",
    "--http",
    "--ui",
    "--otlp-host",
    "--auth-token",
    "--forward",
    "--forward-queue-bytes",
    "--max-spans",
    "--max-traces",
    "--max-span-bytes",
    "--max-logs",
    "--max-body-bytes",
    "--max-decoded-bytes",
];

/// The environment's settings as flags, placed before the command line's so these win.
fn env_flags(get: impl Fn(&str) -> Option<String>) -> Vec<String> {
    let mut out = Vec::new();
    for flag in FLAGS {
        let var = format!(
            "RZERO_COLLECTOR_{}",
            flag.trim_start_matches('-')
                .replace('-', "_")
                .to_uppercase()
        );
        if let Some(v) = get(&var) {
            out.extend([flag.to_owned(), v]);
        }
    }
    out
}

fn parse(args: &[String]) -> Result<CollectorConfig, String> {
    let mut config = CollectorConfig::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_owned());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let addr = |v: &str| -> Result<Option<SocketAddr>, String> {
            if v == "off" {
                return Ok(None);
            }
            v.parse().map(Some).map_err(|_| {
                format!("{flag} {v}: expected host:port such as 127.0.0.1:4317, or `off`")
            })
        };
        let number = |v: &str| -> Result<usize, String> {
            v.parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{flag} {v}: expected a positive number"))
        };
        match flag.as_str() {
            "--grpc" => config.otlp_grpc = addr(value)?,
            "--http" => config.otlp_http = addr(value)?,
            "--ui" => config.ui = addr(value)?,
            "--max-spans" => config.limits.max_spans = number(value)?,
            "--max-traces" => config.limits.max_traces = number(value)?,
            "--max-span-bytes" => config.limits.max_span_bytes = number(value)?,
            "--max-logs" => config.limits.max_logs = number(value)?,
            "--forward" if value == "off" => config.forward = None,
            "--forward" => config.forward = Some(value.clone()),
            "--max-body-bytes" => config.max_body_bytes = number(value)?,
            "--max-decoded-bytes" => config.max_decoded_bytes = number(value)?,
            "--forward-queue-bytes" => config.forward_queue_bytes = number(value)?,
            "--auth-token" if value.is_empty() => {
                return Err(format!("--auth-token: the token is empty\n{USAGE}"));
            }
            "--auth-token" => config.auth_token = Some(value.clone()),
            "--data" if value == "off" => config.data_dir = None,
            "--data" => config.data_dir = Some(value.into()),
            "--data-max-bytes" => config.data_max_bytes = number(value)?,
            "--tail-sampling" => {
                config.tail_sampling = match value.as_str() {
                    "off" => None,
                    "default" => Some(rzero_collector::TailConfig::default_policies()),
                    path => {
                        let text = std::fs::read_to_string(path)
                            .map_err(|e| format!("--tail-sampling {path}: cannot read it: {e}"))?;
                        Some(
                            rzero_collector::TailConfig::from_yaml(&text)
                                .map_err(|e| format!("--tail-sampling {path}: {e}"))?,
                        )
                    }
                }
            }
            "--otlp-host" => {
                let ip: std::net::IpAddr = value.parse().map_err(|_| {
                    format!("--otlp-host {value}: expected an IP address such as 0.0.0.0 or ::")
                })?;
                // Only the ports still at their default host move; an explicit
                // --grpc/--http address wins.
                for a in [&mut config.otlp_grpc, &mut config.otlp_http] {
                    if let Some(a) = a.as_mut().filter(|a| a.ip().is_loopback()) {
                        a.set_ip(ip);
                    }
                }
            }
            other => return Err(format!("unknown flag {other}\n{USAGE}")),
        }
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = env_flags(|k| std::env::var(k).ok());
    args.extend(std::env::args().skip(1));
    let config = match parse(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let forward = config.forward.clone();
    let collector = match Collector::start(config).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let show = |a: Option<SocketAddr>| a.map_or("off".to_owned(), |a| a.to_string());
    println!("rzero-collector: OTLP/gRPC {}", show(collector.grpc_addr()));
    println!("rzero-collector: OTLP/HTTP {}", show(collector.http_addr()));
    if let Some(ui) = collector.ui_addr() {
        println!("rzero-collector: traces at http://{ui}/");
    }
    if let Some(upstream) = &forward {
        println!("rzero-collector: forwarding to {upstream}");
    }
    wait_for_signal().await;
    collector.shutdown().await;
    ExitCode::SUCCESS
}

/// SIGINT (Ctrl-C) or, on Unix, SIGTERM (what `docker stop` and Kubernetes send).
async fn wait_for_signal() {
    #[cfg(unix)]
    if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    {
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        return;
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_win_over_the_environment() {
        let mut a = env_flags(|k| match k {
            "RZERO_COLLECTOR_MAX_SPANS" => Some("7".into()),
            "RZERO_COLLECTOR_GRPC" => Some("off".into()),
            "RZERO_COLLECTOR_FORWARD" => Some("http://up:4317".into()),
            _ => None,
        });
        a.extend(args(&["--max-spans", "9", "--ui", "127.0.0.1:1"]));
        let c = parse(&a).expect("parses");
        assert_eq!(c.limits.max_spans, 9);
        assert_eq!(c.otlp_grpc, None);
        assert_eq!(c.forward.as_deref(), Some("http://up:4317"));

        assert_eq!(c.ui, Some(SocketAddr::from(([127, 0, 0, 1], 1))));
        let d = parse(&args(&["--data", "/tmp/d", "--data-max-bytes", "1048576"])).expect("data");
        assert_eq!(d.data_max_bytes, 1 << 20);
    }

    #[test]
    fn otlp_is_on_loopback_unless_opened() {
        let c = parse(&[]).expect("defaults");
        assert!(c.otlp_grpc.is_some_and(|a| a.ip().is_loopback()));
        assert!(c.otlp_http.is_some_and(|a| a.ip().is_loopback()));
        assert_eq!(c.auth_token, None);
        let c = parse(&args(&["--otlp-host", "0.0.0.0", "--auth-token", "t0k"])).expect("open");
        assert_eq!(c.otlp_grpc, Some(SocketAddr::from(([0, 0, 0, 0], 4317))));
        assert_eq!(c.otlp_http, Some(SocketAddr::from(([0, 0, 0, 0], 4318))));
        assert_eq!(c.auth_token.as_deref(), Some("t0k"));
        assert!(parse(&args(&["--otlp-host", "everywhere"])).is_err());
        assert!(parse(&args(&["--auth-token", ""])).is_err());
    }

    #[test]
    fn tail_sampling_is_off_default_or_a_file() {
        assert!(parse(&[]).expect("defaults").tail_sampling.is_none());
        let c = parse(&args(&["--tail-sampling", "default"])).expect("default");
        assert_eq!(c.tail_sampling.map(|t| t.policies.len()), Some(3));
        let e = parse(&args(&["--tail-sampling", "/nonexistent/policy.yaml"])).expect_err("file");
        assert!(e.contains("cannot read"), "{e}");
    }

    #[test]
    fn bad_flags_say_what_is_expected() {
        let e = parse(&args(&["--max-spans", "0"])).expect_err("zero");
        assert!(e.contains("positive number"), "{e}");
        let e = parse(&args(&["--ui", "nowhere"])).expect_err("addr");
        assert!(e.contains("host:port"), "{e}");
        let e = parse(&args(&["--wat", "1"])).expect_err("unknown");
        assert!(e.contains("unknown flag"), "{e}");
        assert!(parse(&args(&["--grpc"])).is_err(), "missing value");
    }
}
