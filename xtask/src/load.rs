//! `cargo xtask load [SECONDS]`: the HTTP load harness. Plain axum, rzero's `Server`
//! with every middleware off (`off`), and with its defaults (100% sampling, spans exported
//! over OTLP/gRPC to an rzero-collector, or not exported) take turns under `wrk` on
//! loopback, twice each, and
//! the table gives req/s, p50, p99 and server CPU per request, with rzero/plain ratios.
//! The load generator shares the machine's cores with the server: compare ratios, not
//! absolute numbers.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::{Result, apt_install, cargo, wait_for};

const CONNECTIONS: &str = "64";

pub(crate) struct Sample {
    pub(crate) rps: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) cpu_us_per_req: f64,
}

pub(crate) fn run(args: &[String]) -> Result {
    let secs: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(10);
    if Command::new("wrk").arg("--version").output().is_err() {
        apt_install(&["wrk"])?;
    }
    cargo(&[
        "build",
        "--release",
        "-p",
        "rest-load",
        "-p",
        "rzero-collector",
    ])?;
    let target = crate::release_dir();
    let mut collector = Command::new(target.join("rzero-collector"))
        .args(["--grpc", "127.0.0.1:14317", "--http", "off", "--ui", "off"])
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start rzero-collector: {e}"))?;
    let outcome = (|| {
        wait_for(14317, "rzero-collector")?;
        let mut rows: Vec<(&str, Sample)> = Vec::new();
        for round in 0..2 {
            for (mode, port) in [
                ("plain", 19001u16),
                ("off", 19002u16),
                ("rzero", 19003u16),
                ("unexported", 19004u16),
            ] {
                eprintln!("round {}: {mode}", round + 1);
                rows.push((mode, measure(&target, mode, port, secs)?));
            }
        }
        report(&rows);
        Ok(())
    })();
    let _ = collector.kill();
    let _ = collector.wait();
    outcome
}

fn measure(target: &std::path::Path, mode: &str, port: u16, secs: u64) -> Result<Sample> {
    let addr = format!("127.0.0.1:{port}");
    let mut cmd = Command::new(target.join("rest-load"));
    cmd.env("OTEL_METRIC_EXPORT_INTERVAL", "5000")
        .stdout(Stdio::null());
    // `unexported`: rzero's layers with spans made and sampled but sent nowhere, which
    // separates the layers' cost from the export's (and the collector's, which shares
    // the cores here).
    match mode {
        "unexported" => cmd
            .args(["rzero", &addr])
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT"),
        _ => cmd
            .args([mode, &addr])
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:14317"),
    };
    let mut server = cmd
        .spawn()
        .map_err(|e| format!("cannot start rest-load: {e}"))?;
    let result = (|| {
        wait_for(port, "rest-load")?;
        let url = format!("http://{addr}/hello");
        wrk(&url, 2)?; // warm up
        let before = cpu_ticks(&server)?;
        let out = wrk(&url, secs)?;
        let after = cpu_ticks(&server)?;
        parse(&out, after.saturating_sub(before), secs)
    })();
    stop(&mut server);
    result
}

fn wrk(url: &str, secs: u64) -> Result<String> {
    wrk_with(url, secs, None)
}

/// `wrk` against `url` for `secs`, with a Lua `script` (e.g. for POST) when given.
pub(crate) fn wrk_with(url: &str, secs: u64, script: Option<&std::path::Path>) -> Result<String> {
    let mut cmd = Command::new("wrk");
    if let Some(script) = script {
        cmd.arg("-s").arg(script);
    }
    let out = cmd
        .args([
            "-t1",
            "-c",
            CONNECTIONS,
            "-d",
            &format!("{secs}s"),
            "--latency",
            url,
        ])
        .output()
        .map_err(|e| format!("cannot run wrk: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "wrk failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// utime + stime of the process, in clock ticks (1/100 s on Linux).
pub(crate) fn cpu_ticks(child: &Child) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", child.id()))
        .map_err(|e| format!("cannot read the server's CPU time: {e}"))?;
    // Fields after the `(comm)`: state is field 3, utime 14 and stime 15.
    let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok(field(14) + field(15))
}

pub(crate) fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    for _ in 0..50 {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

pub(crate) fn parse(out: &str, ticks: u64, secs: u64) -> Result<Sample> {
    let value_after = |label: &str| -> Option<String> {
        out.lines()
            .find(|l| l.trim_start().starts_with(label))
            .and_then(|l| {
                l.trim_start()[label.len()..]
                    .split_whitespace()
                    .next()
                    .map(str::to_owned)
            })
    };
    let rps: f64 = value_after("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no Requests/sec in wrk's output:\n{out}"))?;
    let ms = |label: &str| {
        value_after(label)
            .and_then(|v| to_ms(&v))
            .unwrap_or(f64::NAN)
    };
    if let Some(n) = value_after("Non-2xx or 3xx responses:") {
        eprintln!("  {n} answers were not 2xx (shed, timed out or refused)");
    }
    let requests = rps * secs as f64;
    Ok(Sample {
        rps,
        p50_ms: ms("50%"),
        p99_ms: ms("99%"),
        cpu_us_per_req: ticks as f64 * 10_000.0 / requests.max(1.0),
    })
}

pub(crate) fn to_ms(v: &str) -> Option<f64> {
    let split = v.find(|c: char| c.is_ascii_alphabetic())?;
    let (n, unit) = v.split_at(split);
    let n: f64 = n.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        _ => return None,
    })
}

fn report(rows: &[(&str, Sample)]) {
    println!(
        "\nJSON hello, wrk -t1 -c{CONNECTIONS}, loopback, 2 rounds (server and load generator share the cores)"
    );
    println!(
        "{:<10} {:>10} {:>9} {:>9} {:>14}",
        "server", "req/s", "p50 ms", "p99 ms", "CPU µs/req"
    );
    for (mode, s) in rows {
        println!(
            "{mode:<10} {:>10.0} {:>9.3} {:>9.3} {:>14.1}",
            s.rps, s.p50_ms, s.p99_ms, s.cpu_us_per_req
        );
    }
    let mean = |mode: &str, f: fn(&Sample) -> f64| {
        let v: Vec<f64> = rows
            .iter()
            .filter(|(m, _)| *m == mode)
            .map(|(_, s)| f(s))
            .collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    for mode in ["off", "rzero", "unexported"] {
        println!(
            "{mode}/plain: throughput {:.3}x, p50 {:.3}x, p99 {:.3}x, CPU per request {:.3}x",
            mean(mode, |s| s.rps) / mean("plain", |s| s.rps),
            mean(mode, |s| s.p50_ms) / mean("plain", |s| s.p50_ms),
            mean(mode, |s| s.p99_ms) / mean("plain", |s| s.p99_ms),
            mean(mode, |s| s.cpu_us_per_req) / mean("plain", |s| s.cpu_us_per_req),
        );
    }
}
