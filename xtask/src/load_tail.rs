//! `cargo xtask load tail [SECONDS] [SLOW_MS]`: what tail sampling keeps, and what it
//! costs the services. The order system (release builds, embedded defaults) runs twice
//! under the same `wrk` mix (half GETs of a cached order, half creates, one in 50 a
//! create for an unknown user, whose trace has error spans):
//!
//! - `tail`: every trace exported (100%) to an rzero-collector with tail sampling as the
//!   only backend (every error, every trace of `SLOW_MS` or more, 10% of the rest);
//! - `head`: 10% head sampling (parent-based trace-id ratio) to a plain rzero-collector.
//!
//! What happened is counted by the gateway itself: its `http.server.request.duration`
//! histogram, scraped from its Prometheus endpoint before and after the run (not
//! sampled), gives the requests that failed and those over `SLOW_MS` (a bucket bound).
//! What was kept is read back from the collector's API (the traces that started during
//! the run, their error flag and duration). The table gives both, the share kept, and the
//! services' throughput and CPU per request side by side; quote the ratios, the load
//! generator and the collector share the machine's cores.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::load::{Sample, parse, wrk_with};
use crate::load_orders::{API_PORT, System};
use crate::{Result, wait_for};

const OTLP_PORT: u16 = 14327;
const UI_PORT: u16 = 16696;
const PROM_PORT: u16 = 19090;
/// Bucket bounds of the gateway's duration histogram, in ms: `SLOW_MS` must be one.
const BOUNDS_MS: [u64; 14] = [
    5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000,
];
/// The collector holds a trace this long before judging it.
const DECISION_WAIT_MS: u64 = 2000;

/// What the gateway counted and what the collector kept in one run.
struct Run {
    mode: &'static str,
    load: Sample,
    requests: u64,
    errors: u64,
    slow: u64,
    kept_traces: u64,
    kept_errors: u64,
    kept_slow: u64,
}

pub(crate) fn run(args: &[String]) -> Result {
    let secs: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(10);
    let slow_ms: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(25);
    if !BOUNDS_MS.contains(&slow_ms) {
        return Err(format!(
            "SLOW_MS {slow_ms}: expected a bound of the gateway's histogram, one of {BOUNDS_MS:?}"
        ));
    }
    crate::load_orders::prepare()?;
    // `System` and the collector want the folder that holds `release/`.
    let target = crate::release_dir()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("target"));
    let work = target.join("tail-load");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let write = |name: &str, text: String| {
        let p = work.join(name);
        std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))?;
        Ok::<_, String>(p)
    };
    let mix = write("mix.lua", MIX.to_owned())?;
    let policy = write(
        "policy.yaml",
        format!(
            "decision_wait: {DECISION_WAIT_MS}ms\npolicies:\n  - {{ type: errors }}\n  \
             - {{ name: slow, type: latency, threshold: {slow_ms}ms }}\n  \
             - {{ name: some, type: ratio, ratio: 0.1 }}\n"
        ),
    )?;
    let api_conf = write("order-api.yaml", API_CONF.to_owned())?;
    let mut runs = Vec::new();
    for (mode, ratio) in [("tail", "1.0"), ("head", "0.1")] {
        let dir = work.join(mode);
        std::fs::create_dir_all(dir.join("data")).map_err(|e| e.to_string())?;
        let tail = (mode == "tail").then_some(policy.as_path());
        let mut collector = start_collector(&target, tail)?;
        let outcome = (|| {
            wait_for(OTLP_PORT, "rzero-collector")?;
            let conf = api_conf.to_string_lossy().into_owned();
            let mut system = System::start_with(
                &target,
                &dir,
                ratio,
                OTLP_PORT,
                &[("OTEL_BSP_SCHEDULE_DELAY", "200")],
                &["-f", &conf],
            )?;
            let r = measure(&mut system, mode, secs, &mix, slow_ms);
            system.stop();
            r
        })();
        crate::load::stop(&mut collector);
        runs.push(outcome?);
    }
    report(&runs, slow_ms);
    Ok(())
}

fn start_collector(target: &Path, tail: Option<&Path>) -> Result<Child> {
    let mut cmd = Command::new(target.join("release/rzero-collector"));
    cmd.args([
        "--grpc",
        &format!("127.0.0.1:{OTLP_PORT}"),
        "--http",
        "off",
        "--ui",
        &format!("127.0.0.1:{UI_PORT}"),
        "--max-spans",
        "2000000",
        "--max-traces",
        "200000",
        "--max-span-bytes",
        &(2u64 << 30).to_string(),
    ]);
    if let Some(policy) = tail {
        cmd.arg("--tail-sampling").arg(policy);
    }
    cmd.stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start rzero-collector: {e}"))
}

fn measure(
    system: &mut System,
    mode: &'static str,
    secs: u64,
    mix: &Path,
    slow_ms: u64,
) -> Result<Run> {
    wait_for(PROM_PORT, "order-api's Prometheus endpoint")?;
    // The order every GET reads; outside the counted window.
    let created = http("POST", API_PORT, "/api/v1/orders", ORDER)?;
    if !created.lines().next().is_some_and(|l| l.contains(" 200 ")) {
        return Err(format!("the first order was not created: {created}"));
    }
    let before = histogram(slow_ms)?;
    let ticks = system.ticks()?;
    let t0 = now_ms();
    eprintln!("{mode}: {secs} s of load");
    let out = wrk_with(&format!("http://127.0.0.1:{API_PORT}"), secs, Some(mix))?;
    let t1 = now_ms();
    let load = parse(&out, system.ticks()?.saturating_sub(ticks), secs)?;
    let after = histogram(slow_ms)?;
    // Export delay (200 ms batches), the decision wait, and room for a loaded machine.
    std::thread::sleep(Duration::from_millis(DECISION_WAIT_MS + 3000));
    let (kept_traces, kept_errors, kept_slow) = kept(t0, t1, slow_ms)?;
    Ok(Run {
        mode,
        load,
        requests: after.0 - before.0,
        errors: after.1 - before.1,
        slow: after.2 - before.2,
        kept_traces,
        kept_errors,
        kept_slow,
    })
}

/// The gateway's totals so far: requests, those not answered 200, those over `slow_ms`.
fn histogram(slow_ms: u64) -> Result<(u64, u64, u64)> {
    let text = http("GET", PROM_PORT, "/metrics", "")?;
    let le = format!("le=\"{}\"", slow_ms as f64 / 1000.0);
    let (mut count, mut failed, mut fast) = (0u64, 0u64, 0u64);
    for line in text
        .lines()
        .filter(|l| l.starts_with("http_server_request_duration_seconds"))
    {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let v = value.parse::<f64>().unwrap_or(0.0) as u64;
        if series.starts_with("http_server_request_duration_seconds_count") {
            count += v;
            if !series.contains("http_response_status_code=\"200\"") {
                failed += v;
            }
        } else if series.starts_with("http_server_request_duration_seconds_bucket")
            && series.contains(&le)
        {
            fast += v;
        }
    }
    if count == 0 {
        return Err(format!(
            "no http_server_request_duration_seconds on :{PROM_PORT}: {text}"
        ));
    }
    Ok((count, failed, count - fast))
}

/// Traces the collector kept that started in `[t0, t1]` ms: all, with an error, of at
/// least `slow_ms`. Read in 100 ms windows, each under the API's 1,000 per answer.
fn kept(t0: u64, t1: u64, slow_ms: u64) -> Result<(u64, u64, u64)> {
    let mut seen = HashSet::new();
    let (mut errors, mut slow) = (0, 0);
    let mut from = t0;
    while from <= t1 {
        let path = format!(
            "/rzero/api/traces?service=order-api&start_ms={from}&end_ms={}&limit=1000",
            from + 100
        );
        let answer = http("GET", UI_PORT, &path, "")?;
        let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        let v: serde_json::Value =
            serde_json::from_str(body).map_err(|e| format!("{path}: {e}: {body}"))?;
        let traces = v["data"].as_array().cloned().unwrap_or_default();
        if traces.len() >= 1000 {
            return Err(format!(
                "{path}: 1,000 traces in 100 ms, the API's cap; shorten the window"
            ));
        }
        for t in traces {
            let id = t["trace_id"].as_str().unwrap_or_default().to_owned();
            if seen.insert(id) {
                errors += u64::from(t["error"] == true);
                slow += u64::from(t["duration_nanos"].as_u64().unwrap_or(0) >= slow_ms * 1_000_000);
            }
        }
        from += 100;
    }
    Ok((seen.len() as u64, errors, slow))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// One HTTP/1.0 request on a fresh connection (so the answer is not chunked); the
/// whole answer.
fn http(method: &str, port: u16, path: &str, body: &str) -> Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!(":{port}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let req = format!(
        "{method} {path} HTTP/1.0\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut out = String::new();
    s.read_to_string(&mut out)
        .map_err(|e| format!("{method} :{port}{path}: {e}"))?;
    Ok(out)
}

fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "-".to_owned();
    }
    format!("{:.1}%", 100.0 * part as f64 / whole as f64)
}

fn report(runs: &[Run], slow_ms: u64) {
    println!(
        "\norder system under wrk -t1 -c64 (GET a cached order / POST an order / 1 in 50 a POST for an unknown user),\n\
         tail = 100% export to the collector tail-sampling (errors, >= {slow_ms} ms, 10% of the rest),\n\
         head = 10% head sampling to a plain collector; counted = the gateway's own histogram"
    );
    println!(
        "{:<5} {:>9} {:>12} {:>9} {:>16} {:>16} {:>16} {:>10}",
        "mode",
        "req/s",
        "CPU µs/req",
        "requests",
        "errors kept",
        "slow kept",
        "traces kept",
        "p99 ms"
    );
    for r in runs {
        println!(
            "{:<5} {:>9.0} {:>12.1} {:>9} {:>16} {:>16} {:>16} {:>10.3}",
            r.mode,
            r.load.rps,
            r.load.cpu_us_per_req,
            r.requests,
            format!(
                "{}/{} {}",
                r.kept_errors,
                r.errors,
                share(r.kept_errors, r.errors)
            ),
            format!("{}/{} {}", r.kept_slow, r.slow, share(r.kept_slow, r.slow)),
            format!("{} {}", r.kept_traces, share(r.kept_traces, r.requests)),
            r.load.p99_ms,
        );
    }
    if let [tail, head] = runs {
        println!(
            "tail vs head: throughput {:.3}x, CPU per request {:.3}x, p99 {:.3}x",
            tail.load.rps / head.load.rps,
            tail.load.cpu_us_per_req / head.load.cpu_us_per_req,
            tail.load.p99_ms / head.load.p99_ms
        );
    }
}

const ORDER: &str = r#"{"user_id": 1, "product_id": 1, "amount": 9.99}"#;

/// The request mix, the same sequence in both runs.
const MIX: &str = r#"local n = 0
local json = { ["Content-Type"] = "application/json" }
request = function()
  n = n + 1
  if n % 50 == 0 then
    return wrk.format("POST", "/api/v1/orders", json, '{"user_id": 99, "product_id": 1, "amount": 5}')
  elseif n % 2 == 0 then
    return wrk.format("POST", "/api/v1/orders", json, '{"user_id": 1, "product_id": 1, "amount": 9.99}')
  end
  return wrk.format("GET", "/api/v1/orders/1")
end
"#;

/// order-api's embedded config, plus its Prometheus endpoint and no load shedding (a
/// shed request would be an error neither run caused).
const API_CONF: &str = "Name: order-api
Host: 127.0.0.1
Port: ${ORDER_API_PORT:-8888}
Timeout: 5000
CpuThreshold: 0
OpenTelemetry:
  Endpoint: ${OTLP_ENDPOINT:-localhost:4317}
  Sampler: 1.0
Prometheus:
  Host: 127.0.0.1
  Port: 19090
  Path: /metrics
Log:
  Encoding: plain
OrderRpc:
  Endpoints:
    - ${ORDER_RPC_ADDR:-127.0.0.1:8080}
  Timeout: 5000
";
