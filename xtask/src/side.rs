//! `cargo xtask bench-side [--rounds N] [--secs S] [--instr-requests N] [--only rest|hop|echo]`:
//! the side-by-side bench of issue 19, three groups of rows, each group's configurations
//! taking turns round by round (so a noisy neighbour hits each of them alike), each round a
//! fresh server process, all exporting over real OTLP/gRPC to a counting sink
//! (`examples/otlp-sink`) that the harness starts on loopback:
//! - `rest`: one JSON hello route served five ways (see [`CONFIGS`]) under `wrk`;
//! - `hop`: an HTTP route that makes one unary gRPC call over loopback, under `wrk`, and
//! - `echo`: a unary gRPC echo, under `hop-load client` (see [`crate::side_grpc`]).
//!
//! Each table gives req/s, p50, p99, the server's CPU µs per request (utime+stime from
//! `/proc/<pid>/stat`; for the hop one process serves both sides of the call), spans and
//! OTLP bytes per request, and the ratios to the group's plain baseline, as ratios of the
//! means and as the median of each round's own ratio (one slow round moves the first,
//! seldom the second). Then each
//! configuration of each group serves a fixed number of sequential requests under
//! callgrind, whose instruction count does not move with the machine's noise (see
//! [`crate::side_instr`]).
//!
//! Not part of `cargo xtask test`: it is a bench, minutes long, and its numbers are
//! reported, never asserted.

use std::io::Read;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::load::{Sample, cpu_ticks, parse, stop, wrk_with};
use crate::{Result, apt_install, cargo, ensure_free, side_grpc, side_instr, wait_for};

/// One way of serving the route: `rest-load`'s mode and rzero's sampling ratio.
pub(crate) struct Config {
    pub(crate) name: &'static str,
    pub(crate) mode: &'static str,
    pub(crate) sampler: &'static str,
    pub(crate) port: u16,
}

/// Plain axum; rzero's `Server` with every middleware off; with its default middleware
/// (tracing, access log, metrics, MaxConns, shedding, breaker, timeout, recover, MaxBytes)
/// at 0% and 100% sampling; and the hand-written glue (tower-http `TraceLayer` +
/// tracing-opentelemetry + the OTLP batch exporter) at 100%.
pub(crate) const CONFIGS: [Config; 5] = [
    Config {
        name: "axum",
        mode: "plain",
        sampler: "1",
        port: 19101,
    },
    Config {
        name: "rzero-off",
        mode: "off",
        sampler: "1",
        port: 19102,
    },
    Config {
        name: "rzero-0%",
        mode: "rzero",
        sampler: "0",
        port: 19103,
    },
    Config {
        name: "rzero-100%",
        mode: "rzero",
        sampler: "1",
        port: 19104,
    },
    Config {
        name: "glue-100%",
        mode: "glue",
        sampler: "1",
        port: 19105,
    },
];

pub(crate) const SINK_GRPC: &str = "127.0.0.1:14417";
const SINK_COUNTS: &str = "127.0.0.1:14418";

/// A group of rows that `--only` picks.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Group {
    Rest,
    Hop,
    Echo,
}

struct Options {
    rounds: usize,
    secs: u64,
    instr_requests: usize,
    only: Option<Group>,
}

impl Options {
    fn runs(&self, g: Group) -> bool {
        self.only.is_none_or(|o| o == g)
    }
}

fn options(args: &[String]) -> Result<Options> {
    let mut o = Options {
        rounds: 3,
        secs: 5,
        instr_requests: 1000,
        only: None,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value; {USAGE}"))?;
        let bad = |e: std::num::ParseIntError| format!("{flag} `{value}`: {e}; {USAGE}");
        match flag.as_str() {
            "--rounds" => o.rounds = value.parse().map_err(bad)?,
            "--secs" => o.secs = value.parse().map_err(bad)?,
            "--instr-requests" => o.instr_requests = value.parse().map_err(bad)?,
            "--only" => {
                o.only = Some(match value.as_str() {
                    "rest" => Group::Rest,
                    "hop" => Group::Hop,
                    "echo" => Group::Echo,
                    _ => return Err(format!("--only `{value}`: expected rest, hop or echo")),
                })
            }
            _ => return Err(format!("unknown flag {flag}; {USAGE}")),
        }
    }
    if o.secs == 0 || (o.rounds == 0 && o.instr_requests == 0) {
        return Err(format!(
            "--secs must be at least 1, and --rounds 0 (callgrind only) needs --instr-requests; {USAGE}"
        ));
    }
    Ok(o)
}

const USAGE: &str = "usage: cargo xtask bench-side [--rounds N (3; 0 runs only callgrind)] \
                     [--secs S (5)] [--instr-requests N (1000; 0 skips callgrind)] \
                     [--only rest|hop|echo]";

/// One round of one configuration.
pub(crate) struct Row {
    pub(crate) config: &'static str,
    pub(crate) sample: Sample,
    pub(crate) spans_per_req: f64,
    pub(crate) otlp_bytes_per_req: f64,
    /// The sink's own CPU per request: what a collector elsewhere would spend, shown so
    /// that its share of the shared cores is visible.
    pub(crate) sink_cpu_us_per_req: f64,
}

/// What one load run measured: requests answered, and their rate and latency.
pub(crate) struct Driven {
    pub(crate) requests: u64,
    pub(crate) rps: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
}

pub(crate) fn run(args: &[String]) -> Result {
    let o = options(args)?;
    if o.rounds > 0
        && (o.runs(Group::Rest) || o.runs(Group::Hop))
        && Command::new("wrk").arg("--version").output().is_err()
    {
        apt_install(&["wrk"])?;
    }
    let mut build = vec!["build", "--profile", "side", "-p", "otlp-sink"];
    if o.runs(Group::Rest) {
        build.extend(["-p", "rest-load"]);
    }
    if o.runs(Group::Hop) || o.runs(Group::Echo) {
        build.extend(["-p", "hop-load"]);
    }
    cargo(&build)?;
    // The `side` profile (fat LTO, one codegen unit): see the workspace's Cargo.toml.
    let target = crate::target_dir().join("side");
    ensure_free(14417, "otlp-sink")?;
    ensure_free(14418, "otlp-sink")?;
    let mut sink = Command::new(target.join("otlp-sink"))
        .args([SINK_GRPC, SINK_COUNTS])
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start otlp-sink: {e}"))?;
    let outcome = (|| -> Result {
        wait_for(14418, "otlp-sink")?;
        if o.runs(Group::Rest) && o.rounds > 0 {
            rest(&target, &o)?;
        }
        if o.runs(Group::Hop) && o.rounds > 0 {
            side_grpc::hop(&target, o.rounds, o.secs)?;
        }
        if o.runs(Group::Echo) && o.rounds > 0 {
            side_grpc::echo(&target, o.rounds, o.secs)?;
        }
        if o.instr_requests > 0 {
            if o.runs(Group::Rest) {
                side_instr::run("JSON hello", &instr_subjects(&target), o.instr_requests)?;
            }
            if o.runs(Group::Hop) {
                side_grpc::instr_hop(&target, o.instr_requests)?;
            }
            if o.runs(Group::Echo) {
                side_grpc::instr_echo(&target, o.instr_requests)?;
            }
        }
        Ok(())
    })();
    stop(&mut sink);
    outcome
}

fn rest(target: &Path, o: &Options) -> Result {
    let mut rows = Vec::new();
    for round in 1..=o.rounds {
        for c in &CONFIGS {
            eprintln!("rest round {round}/{}: {}", o.rounds, c.name);
            let server = server_command(&target.join("rest-load"), &[], c, SINK_GRPC);
            let url = format!("http://127.0.0.1:{}/hello", c.port);
            rows.push(measure(c.name, server, &[c.port], o.secs, &|secs| {
                wrk_driven(&url, secs)
            })?);
        }
    }
    let names: Vec<&str> = CONFIGS.iter().map(|c| c.name).collect();
    report(
        &format!(
            "JSON hello, wrk -t1 -c64, loopback, {} rounds x {} s interleaved, fresh server per round; \
             server, wrk and sink share the machine's cores: compare ratios",
            o.rounds, o.secs
        ),
        &names,
        &rows,
        &[("rzero-100%", "glue-100%")],
    );
    Ok(())
}

/// The REST configurations for [`side_instr`].
fn instr_subjects(target: &Path) -> Vec<side_instr::Subject> {
    CONFIGS
        .iter()
        .map(|c| side_instr::Subject {
            name: c.name,
            binary: target.join("rest-load"),
            server: Box::new(move |program: &Path, before: &[String]| {
                server_command(program, before, c, SINK_GRPC)
            }),
            ports: vec![c.port],
            load: side_instr::Load::Http {
                port: c.port,
                path: "/hello",
            },
        })
        .collect()
}

/// The server command of `c`, exporting to the sink: `program` is `rest-load`, or a
/// wrapper (valgrind) whose `before` arguments end with `rest-load`'s path.
pub(crate) fn server_command(program: &Path, before: &[String], c: &Config, sink: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(before)
        .args([c.mode, &format!("127.0.0.1:{}", c.port)])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{sink}"))
        .env("OTEL_METRIC_EXPORT_INTERVAL", "5000")
        .env("RZERO_SAMPLER", c.sampler)
        .stdout(Stdio::null());
    cmd
}

/// One round: `server` started (it exports to the sink), `ports` listening, a 1 s warm-up
/// and a `secs` run of `drive`, the server's CPU time over the run, then SIGINT (the server
/// flushes its spans before it exits) and the sink's counts of both runs per request.
pub(crate) fn measure(
    name: &'static str,
    mut server: Command,
    ports: &[u16],
    secs: u64,
    drive: &dyn Fn(u64) -> Result<Driven>,
) -> Result<Row> {
    let before = sink_counts()?;
    for &port in ports {
        ensure_free(port, name)?;
    }
    let mut server = server
        .spawn()
        .map_err(|e| format!("cannot start the server of {name}: {e}"))?;
    let result = (|| -> Result<(Sample, u64)> {
        for &port in ports {
            wait_for(port, name)?;
        }
        let warm = drive(1)?;
        let t0 = cpu_ticks(&server)?;
        let run = drive(secs)?;
        let t1 = cpu_ticks(&server)?;
        let sample = Sample {
            rps: run.rps,
            p50_ms: run.p50_ms,
            p99_ms: run.p99_ms,
            cpu_us_per_req: t1.saturating_sub(t0) as f64 * 10_000.0 / run.requests.max(1) as f64,
        };
        Ok((sample, warm.requests + run.requests))
    })();
    stop(&mut server);
    let (sample, total) = result?;
    let after = sink_counts()?;
    let per_req = |i: usize| (after[i].saturating_sub(before[i])) as f64 / total.max(1) as f64;
    Ok(Row {
        config: name,
        sample,
        spans_per_req: per_req(0),
        otlp_bytes_per_req: per_req(1) + per_req(3) + per_req(4),
        sink_cpu_us_per_req: per_req(5),
    })
}

/// `wrk` against `url` for `secs`, read as a [`Driven`].
pub(crate) fn wrk_driven(url: &str, secs: u64) -> Result<Driven> {
    let out = wrk_with(url, secs, None)?;
    let s = parse(&out, 0, secs)?;
    Ok(Driven {
        requests: requests(&out),
        rps: s.rps,
        p50_ms: s.p50_ms,
        p99_ms: s.p99_ms,
    })
}

/// The sink's counts: spans, trace bytes, trace exports, metric bytes, log bytes, and its
/// own CPU µs.
fn sink_counts() -> Result<[u64; 6]> {
    let mut line = String::new();
    TcpStream::connect(SINK_COUNTS)
        .and_then(|mut s| {
            s.set_read_timeout(Some(Duration::from_secs(5)))?;
            s.read_to_string(&mut line)
        })
        .map_err(|e| format!("cannot read otlp-sink's counts on {SINK_COUNTS}: {e}"))?;
    let numbers: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .step_by(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    numbers
        .try_into()
        .map_err(|_| format!("otlp-sink's counts line is not six numbers: `{line}`"))
}

/// The total in wrk's `N requests in 5.00s, ...` line (0 when absent).
fn requests(wrk_out: &str) -> u64 {
    wrk_out
        .lines()
        .find_map(|l| l.split_once(" requests in ").map(|(n, _)| n.trim()))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The table of one group: `names` in order, the first the baseline of the ratio
/// columns, then a line per pair `(a, b)` of a's ratios to b's, and every round.
pub(crate) fn report(title: &str, names: &[&str], rows: &[Row], pairs: &[(&str, &str)]) {
    let base = names.first().copied().unwrap_or_default();
    println!("\n{title}");
    println!(
        "\n| config | req/s | p50 ms | p99 ms | CPU µs/req | spans/req | OTLP B/req | sink CPU µs/req | req/s vs {base} | CPU/req vs {base} | req/s vs {base}, median round |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mean = |name: &str, f: &dyn Fn(&Row) -> f64| {
        let v: Vec<f64> = rows.iter().filter(|r| r.config == name).map(f).collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    let base_rps = mean(base, &|r| r.sample.rps);
    let base_cpu = mean(base, &|r| r.sample.cpu_us_per_req);
    for &name in names {
        let rps = mean(name, &|r| r.sample.rps);
        let cpu = mean(name, &|r| r.sample.cpu_us_per_req);
        println!(
            "| {name} | {rps:.0} | {:.3} | {:.3} | {cpu:.1} | {:.2} | {:.0} | {:.2} | {:.3} | {:.3} | {:.3} |",
            mean(name, &|r| r.sample.p50_ms),
            mean(name, &|r| r.sample.p99_ms),
            mean(name, &|r| r.spans_per_req),
            mean(name, &|r| r.otlp_bytes_per_req),
            mean(name, &|r| r.sink_cpu_us_per_req),
            rps / base_rps,
            cpu / base_cpu,
            round_median(rows, name, base, &|r| r.sample.rps),
        );
    }
    println!();
    for (a, b) in pairs {
        let ratio = |f: &dyn Fn(&Row) -> f64| mean(a, f) / mean(b, f);
        println!(
            "{a} / {b}: req/s {:.3}x, p99 {:.3}x, CPU per request {:.3}x; median round: req/s {:.3}x, CPU per request {:.3}x",
            ratio(&|r| r.sample.rps),
            ratio(&|r| r.sample.p99_ms),
            ratio(&|r| r.sample.cpu_us_per_req),
            round_median(rows, a, b, &|r| r.sample.rps),
            round_median(rows, a, b, &|r| r.sample.cpu_us_per_req),
        );
    }
    println!("\nper round (req/s, CPU µs/req):");
    for r in rows {
        println!(
            "  {:<12} {:>8.0} {:>8.1}",
            r.config, r.sample.rps, r.sample.cpu_us_per_req
        );
    }
}

/// The median over rounds of `a`'s value over `b`'s in the same round (the configurations
/// take turns, so a round's two runs are minutes apart at most): one slow round, which
/// moves a mean of means, moves this only when it is the middle one.
fn round_median(rows: &[Row], a: &str, b: &str, f: &dyn Fn(&Row) -> f64) -> f64 {
    let of = |name: &str| -> Vec<f64> { rows.iter().filter(|r| r.config == name).map(f).collect() };
    let mut ratios: Vec<f64> = of(a)
        .into_iter()
        .zip(of(b))
        .map(|(x, y)| x / y)
        .filter(|r| r.is_finite())
        .collect();
    ratios.sort_by(f64::total_cmp);
    match ratios.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => ratios[n / 2],
        n => (ratios[n / 2 - 1] + ratios[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(config: &'static str, rps: f64) -> Row {
        Row {
            config,
            sample: Sample {
                rps,
                p50_ms: 0.0,
                p99_ms: 0.0,
                cpu_us_per_req: 0.0,
            },
            spans_per_req: 0.0,
            otlp_bytes_per_req: 0.0,
            sink_cpu_us_per_req: 0.0,
        }
    }

    #[test]
    fn the_round_median_pairs_each_round_and_ignores_one_bad_round() {
        // Round 2's `a` is an outlier: the mean of means would say 0.73x.
        let rows = [
            row("a", 90.0),
            row("b", 100.0),
            row("a", 20.0),
            row("b", 100.0),
            row("a", 95.0),
            row("b", 100.0),
        ];
        let rps = |r: &Row| r.sample.rps;
        assert!((round_median(&rows, "a", "b", &rps) - 0.90).abs() < 1e-9);
        assert!((round_median(&rows[..4], "a", "b", &rps) - 0.55).abs() < 1e-9);
        assert!(round_median(&rows, "a", "nobody", &rps).is_nan());
    }

    #[test]
    fn reads_the_request_total_of_wrk() {
        let out = "Running 1s test @ http://127.0.0.1:1/hello\n  \
                   123456 requests in 5.00s, 12.34MB read\nRequests/sec:  24691.20\n";
        assert_eq!(requests(out), 123456);
        assert_eq!(requests("no such line"), 0);
    }

    #[test]
    fn flags_override_the_defaults_and_bad_ones_say_so() {
        let args: Vec<String> = ["--rounds", "1", "--secs", "2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let o = options(&args).expect("valid flags");
        assert_eq!((o.rounds, o.secs, o.instr_requests), (1, 2, 1000));
        assert_eq!(o.only, None);
        let only: Vec<String> = vec!["--only".into(), "hop".into()];
        assert_eq!(options(&only).ok().and_then(|o| o.only), Some(Group::Hop));
        let wrong: Vec<String> = vec!["--only".into(), "grpc".into()];
        assert!(options(&wrong).is_err());
        let bad: Vec<String> = vec!["--secs".into(), "x".into()];
        assert!(options(&bad).err().unwrap_or_default().contains("--secs"));
        assert!(options(&["--rounds".into()]).is_err());
        let only_instr: Vec<String> = vec!["--rounds".into(), "0".into()];
        assert_eq!(
            options(&only_instr).map(|o| o.rounds),
            Ok(0),
            "callgrind only"
        );
        let nothing: Vec<String> = ["--rounds", "0", "--instr-requests", "0"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(options(&nothing).is_err(), "neither load nor callgrind");
    }
}
