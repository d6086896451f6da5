//! The gRPC groups of `cargo xtask bench-side`, served by `examples/hop-load`:
//! - the hop: `GET /hop` makes one unary gRPC call over loopback to a server in the same
//!   process (so its CPU time covers both sides of the call) and answers its reply, under
//!   `wrk` as the REST rows; ratios to plain axum calling plain tonic;
//! - the echo: a unary gRPC echo server under `hop-load client` (a tonic client keeping
//!   [`CONCURRENCY`] calls in flight on one connection, as `wrk -c64` keeps requests);
//!   ratios to plain tonic.
//!
//! Both groups run as the REST one does ([`crate::side::measure`]): configurations taking
//! turns round by round, a fresh server each round, spans exported to the sink.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::Result;
use crate::side::{Driven, Row, SINK_GRPC, measure, report, wrk_driven};
use crate::side_instr::{self, Load, Subject};

/// Calls in flight of the echo's load client.
const CONCURRENCY: usize = 64;

/// One way of serving a group: `hop-load`'s mode, rzero's sampling ratio, its ports (no
/// HTTP port for the echo).
struct GrpcConfig {
    name: &'static str,
    mode: &'static str,
    sampler: &'static str,
    http_port: Option<u16>,
    grpc_port: u16,
}

/// Plain axum calling plain tonic; rzero's `Server` (default middleware) calling through
/// an `RpcClient` into an `RpcServer` (default interceptors) at 0% and 100% sampling; the
/// hand-written glue (tower-http `TraceLayer` on both sides, a tonic interceptor
/// injecting W3C context, tracing-opentelemetry, the OTLP batch exporter) at 100%.
const HOP: [GrpcConfig; 4] = [
    GrpcConfig {
        name: "axum->tonic",
        mode: "hop-plain",
        sampler: "1",
        http_port: Some(19111),
        grpc_port: 19121,
    },
    GrpcConfig {
        name: "rzero-0%",
        mode: "hop-rzero",
        sampler: "0",
        http_port: Some(19112),
        grpc_port: 19122,
    },
    GrpcConfig {
        name: "rzero-100%",
        mode: "hop-rzero",
        sampler: "1",
        http_port: Some(19113),
        grpc_port: 19123,
    },
    GrpcConfig {
        name: "glue-100%",
        mode: "hop-glue",
        sampler: "1",
        http_port: Some(19114),
        grpc_port: 19124,
    },
];

/// Plain tonic; rzero's `RpcServer` with its default interceptors at 0% and 100%; tonic
/// with tower-http's `TraceLayer` and W3C extraction by hand at 100%.
const ECHO: [GrpcConfig; 4] = [
    GrpcConfig {
        name: "tonic",
        mode: "echo-plain",
        sampler: "1",
        http_port: None,
        grpc_port: 19131,
    },
    GrpcConfig {
        name: "rzero-0%",
        mode: "echo-rzero",
        sampler: "0",
        http_port: None,
        grpc_port: 19132,
    },
    GrpcConfig {
        name: "rzero-100%",
        mode: "echo-rzero",
        sampler: "1",
        http_port: None,
        grpc_port: 19133,
    },
    GrpcConfig {
        name: "glue-100%",
        mode: "echo-glue",
        sampler: "1",
        http_port: None,
        grpc_port: 19134,
    },
];

/// The hop rows.
pub(crate) fn hop(target: &Path, rounds: usize, secs: u64) -> Result {
    let rows = rounds_of(target, &HOP, rounds, secs, "hop", &|c, secs| {
        let port = c
            .http_port
            .ok_or("a hop configuration without an HTTP port")?;
        wrk_driven(&format!("http://127.0.0.1:{port}/hop"), secs)
    })?;
    report(
        &format!(
            "HTTP -> gRPC hop (GET /hop making one unary call over loopback, both sides in one process), \
             wrk -t1 -c64, {rounds} rounds x {secs} s interleaved, fresh server per round; \
             server, wrk and sink share the machine's cores: compare ratios"
        ),
        &names(&HOP),
        &rows,
        &[
            ("rzero-100%", "rzero-0%"),
            ("rzero-0%", "axum->tonic"),
            ("rzero-100%", "glue-100%"),
        ],
    );
    Ok(())
}

/// The echo rows.
pub(crate) fn echo(target: &Path, rounds: usize, secs: u64) -> Result {
    let client = target.join("hop-load");
    let rows = rounds_of(target, &ECHO, rounds, secs, "echo", &|c, secs| {
        client_run(&client, c.grpc_port, secs, None)
    })?;
    report(
        &format!(
            "gRPC unary echo, hop-load client ({CONCURRENCY} calls in flight, one connection), \
             {rounds} rounds x {secs} s interleaved, fresh server per round; \
             server, client and sink share the machine's cores: compare ratios"
        ),
        &names(&ECHO),
        &rows,
        &[
            ("rzero-100%", "tonic"),
            ("rzero-100%", "rzero-0%"),
            ("rzero-100%", "glue-100%"),
        ],
    );
    Ok(())
}

/// The hop's instruction counts: `n` sequential keep-alive `GET /hop`.
pub(crate) fn instr_hop(target: &Path, n: usize) -> Result {
    let subjects = HOP
        .iter()
        .map(|c| {
            let port = c.http_port.unwrap_or_default();
            subject(target, c, Load::Http { port, path: "/hop" })
        })
        .collect::<Vec<_>>();
    side_instr::run("HTTP -> gRPC hop", &subjects, n)
}

/// The echo's instruction counts: `n` sequential calls of `hop-load client`.
pub(crate) fn instr_echo(target: &Path, n: usize) -> Result {
    let subjects = ECHO
        .iter()
        .map(|c| {
            let client = target.join("hop-load");
            subject(
                target,
                c,
                Load::Grpc {
                    client,
                    port: c.grpc_port,
                },
            )
        })
        .collect::<Vec<_>>();
    side_instr::run("gRPC echo", &subjects, n)
}

fn subject(target: &Path, c: &'static GrpcConfig, load: Load) -> Subject {
    let mut ports = vec![c.grpc_port];
    ports.extend(c.http_port);
    Subject {
        name: c.name,
        binary: target.join("hop-load"),
        server: Box::new(move |program: &Path, before: &[String]| {
            server_command(program, before, c)
        }),
        ports,
        load,
    }
}

fn names(configs: &[GrpcConfig]) -> Vec<&str> {
    configs.iter().map(|c| c.name).collect()
}

fn rounds_of(
    target: &Path,
    configs: &'static [GrpcConfig],
    rounds: usize,
    secs: u64,
    group: &str,
    drive: &dyn Fn(&GrpcConfig, u64) -> Result<Driven>,
) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for round in 1..=rounds {
        for c in configs {
            eprintln!("{group} round {round}/{rounds}: {}", c.name);
            let mut ports = vec![c.grpc_port];
            ports.extend(c.http_port);
            rows.push(measure(
                c.name,
                server_command(&target.join("hop-load"), &[], c),
                &ports,
                secs,
                &|secs| drive(c, secs),
            )?);
        }
    }
    Ok(rows)
}

/// `hop-load <mode> [127.0.0.1:<http>] 127.0.0.1:<grpc>`, exporting to the sink:
/// `program` is `hop-load`, or a wrapper (valgrind) whose `before` arguments end with
/// `hop-load`'s path.
fn server_command(program: &Path, before: &[String], c: &GrpcConfig) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(before).arg(c.mode);
    if let Some(port) = c.http_port {
        cmd.arg(format!("127.0.0.1:{port}"));
    }
    cmd.arg(format!("127.0.0.1:{}", c.grpc_port))
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{SINK_GRPC}"))
        .env("OTEL_METRIC_EXPORT_INTERVAL", "5000")
        .env("RZERO_SAMPLER", c.sampler)
        .stdout(Stdio::null());
    cmd
}

/// `hop-load client` against the echo on `port`: [`CONCURRENCY`] calls in flight for
/// `secs`; or, given `calls`, one call in flight until that many were made (at most
/// 600 s).
pub(crate) fn client_run(
    client: &Path,
    port: u16,
    secs: u64,
    calls: Option<usize>,
) -> Result<Driven> {
    let mut cmd = Command::new(client);
    cmd.args(["client", &format!("127.0.0.1:{port}")]);
    match calls {
        None => cmd.args([CONCURRENCY.to_string(), secs.to_string()]),
        Some(n) => cmd.args(["1".to_owned(), "600".to_owned(), n.to_string()]),
    };
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run hop-load client: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "hop-load client failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    parse_client(&String::from_utf8_lossy(&out.stdout))
}

/// The line of `hop-load client`: `calls N errors E secs S rps R p50_ms X p99_ms Y`.
fn parse_client(out: &str) -> Result<Driven> {
    let line = out
        .lines()
        .find(|l| l.starts_with("calls "))
        .ok_or_else(|| format!("no `calls` line in hop-load client's output:\n{out}"))?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let value = |key: &str| -> Result<f64> {
        words
            .iter()
            .position(|w| *w == key)
            .and_then(|i| words.get(i + 1)?.parse().ok())
            .ok_or_else(|| format!("no {key} in hop-load client's line `{line}`"))
    };
    let errors = value("errors")?;
    if errors > 0.0 {
        eprintln!("  {errors} calls failed (shed, timed out or refused)");
    }
    Ok(Driven {
        requests: value("calls")? as u64,
        rps: value("rps")?,
        p50_ms: value("p50_ms")?,
        p99_ms: value("p99_ms")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_line_of_the_load_client() {
        let out = "calls 1200 errors 3 secs 5.001 rps 239.9 p50_ms 2.345 p99_ms 6.789\n";
        let d = parse_client(out).expect("a valid line");
        assert_eq!(d.requests, 1200);
        assert_eq!((d.rps, d.p50_ms, d.p99_ms), (239.9, 2.345, 6.789));
        assert!(parse_client("nothing here").is_err());
        assert!(parse_client("calls x errors 0").is_err());
    }

    #[test]
    fn every_configuration_has_its_own_ports() {
        let mut ports: Vec<u16> = HOP
            .iter()
            .chain(&ECHO)
            .flat_map(|c| [Some(c.grpc_port), c.http_port])
            .flatten()
            .chain(crate::side::CONFIGS.iter().map(|c| c.port))
            .collect();
        let n = ports.len();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), n);
    }
}
