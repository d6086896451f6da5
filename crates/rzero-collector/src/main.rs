//! `rzero-collector`: a local OTLP collector with a trace viewer, for any service.
//!
//! ```text
//! rzero-collector                        # gRPC 0.0.0.0:4317, HTTP 0.0.0.0:4318, viewer 127.0.0.1:16686
//! rzero-collector --ui 0.0.0.0:16686 --max-spans 500000
//! rzero-collector --grpc off             # HTTP only
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;

use rzero_collector::{Collector, CollectorConfig};

const USAGE: &str = "usage: rzero-collector [--grpc ADDR|off] [--http ADDR|off] [--ui ADDR|off] \
                     [--max-spans N] [--max-traces N] [--max-body-bytes N]";

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
            "--max-body-bytes" => config.max_body_bytes = number(value)?,
            other => return Err(format!("unknown flag {other}\n{USAGE}")),
        }
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
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
