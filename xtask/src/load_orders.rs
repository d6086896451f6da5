//! `cargo xtask load orders [SECONDS (10)] [ROUNDS (3)]`: the order system under load. The three services
//! (release builds, embedded defaults, log level warn) run on their own ports and export
//! to a counting OTLP sink (`examples/otlp-sink`: it answers OK and keeps nothing, as a
//! collector on another machine costs these cores nothing); `wrk` drives GET of an
//! existing (cached) order and POST of new orders through order-api, with tracing at 0%,
//! 10% and 100% sampling, taking turns round by round. The table gives the means of req/s, p50, p99 and the CPU of the
//! three services per request, and the ratios against 0%. The load generator shares the
//! machine's cores: compare ratios, not absolute numbers.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::load::{Sample, cpu_ticks, parse, wrk_with};
use crate::{Result, apt_install, cargo, wait_for};

pub(crate) const API_PORT: u16 = 18888;
const RPC_PORT: u16 = 18080;
const USER_PORT: u16 = 18081;
const OTLP_PORT: u16 = 14317;
/// Where the sink answers its counts (unread here; the sink needs the port).
const SINK_COUNTS_PORT: u16 = 14319;

/// wrk, and release builds of the three services and the collector: what every load
/// run of the order system needs first.
pub(crate) fn prepare() -> Result {
    if Command::new("wrk").arg("--version").output().is_err() {
        apt_install(&["wrk"])?;
    }
    cargo(&[
        "build",
        "--release",
        "-p",
        "user-rpc",
        "-p",
        "order-rpc",
        "-p",
        "order-api",
        "-p",
        "rzero-collector",
        "-p",
        "otlp-sink",
    ])?;
    Ok(())
}

pub(crate) fn run(args: &[String]) -> Result {
    let secs: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(10);
    // Ratios take turns round by round, each round a fresh system: one 5 s round per
    // ratio once gave GET p50 1.60x and, straight after, 1.12x.
    let rounds: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(3).max(1);
    prepare()?;
    let target = crate::target_dir();
    let work = target.join("orders-load");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let post = work.join("post.lua");
    std::fs::write(
        &post,
        "wrk.method = \"POST\"\nwrk.body = '{\"user_id\": 1, \"product_id\": 1, \"amount\": 9.99}'\n\
         wrk.headers[\"Content-Type\"] = \"application/json\"\n",
    )
    .map_err(|e| e.to_string())?;
    let mut sink = Command::new(target.join("release/otlp-sink"))
        .args([
            format!("127.0.0.1:{OTLP_PORT}"),
            format!("127.0.0.1:{SINK_COUNTS_PORT}"),
        ])
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start otlp-sink: {e}"))?;
    let outcome = (|| {
        wait_for(OTLP_PORT, "otlp-sink")?;
        let mut rows = Vec::new();
        for (round, ratio) in (1..=rounds).flat_map(|r| RATIOS.map(|ratio| (r, ratio))) {
            let dir = work.join(format!("round-{round}-ratio-{ratio}"));
            std::fs::create_dir_all(dir.join("data")).map_err(|e| e.to_string())?;
            let mut system = System::start(&target, &dir, ratio)?;
            let result = (|| {
                // One order to GET, then warm the caches.
                let url = format!("http://127.0.0.1:{API_PORT}/api/v1/orders");
                wrk_with(&url, 1, Some(&post))?;
                let get = format!("{url}/1");
                wrk_with(&get, 1, None)?;
                eprintln!("round {round}/{rounds}, sampling {ratio}: GET");
                let get_row = system.measure(&get, secs, None)?;
                eprintln!("round {round}/{rounds}, sampling {ratio}: POST");
                let post_row = system.measure(&url, secs, Some(&post))?;
                Ok::<_, String>((get_row, post_row))
            })();
            system.stop();
            let (g, p) = result?;
            rows.push((ratio, "GET", g));
            rows.push((ratio, "POST", p));
        }
        report(&rows, rounds, secs);
        Ok(())
    })();
    let _ = sink.kill();
    let _ = sink.wait();
    outcome
}

/// The three services, started in order (user-rpc, order-rpc, order-api).
pub(crate) struct System(pub(crate) Vec<Child>);

impl System {
    fn start(target: &Path, dir: &Path, ratio: &str) -> Result<Self> {
        Self::start_with(target, dir, ratio, OTLP_PORT, &[], &[])
    }

    /// The services exporting to the collector on `otlp_port`, head-sampling `ratio`,
    /// with extra environment `env` and order-api's arguments `api_args`.
    pub(crate) fn start_with(
        target: &Path,
        dir: &Path,
        ratio: &str,
        otlp_port: u16,
        env: &[(&str, &str)],
        api_args: &[&str],
    ) -> Result<Self> {
        let mut system = System(Vec::new());
        for (name, port) in [
            ("user-rpc", USER_PORT),
            ("order-rpc", RPC_PORT),
            ("order-api", API_PORT),
        ] {
            let mut cmd = Command::new(target.join("release").join(name));
            if name == "order-api" {
                cmd.args(api_args);
            }
            let child = cmd
                .current_dir(dir)
                .envs(env.iter().copied())
                .env("USER_RPC_LISTEN", format!("127.0.0.1:{USER_PORT}"))
                .env("USER_RPC_ADDR", format!("127.0.0.1:{USER_PORT}"))
                .env("ORDER_RPC_LISTEN", format!("127.0.0.1:{RPC_PORT}"))
                .env("ORDER_RPC_ADDR", format!("127.0.0.1:{RPC_PORT}"))
                .env("ORDER_API_HOST", "127.0.0.1")
                .env("ORDER_API_PORT", API_PORT.to_string())
                .env("OTLP_ENDPOINT", format!("http://127.0.0.1:{otlp_port}"))
                .env("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
                .env("OTEL_TRACES_SAMPLER_ARG", ratio)
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .spawn()
                .map_err(|e| format!("cannot start {name}: {e}"))?;
            system.0.push(child);
            wait_for(port, name)?;
        }
        Ok(system)
    }

    pub(crate) fn ticks(&self) -> Result<u64> {
        self.0.iter().map(cpu_ticks).sum()
    }

    fn measure(&mut self, url: &str, secs: u64, script: Option<&Path>) -> Result<Sample> {
        let before = self.ticks()?;
        let out = wrk_with(url, secs, script)?;
        let after = self.ticks()?;
        parse(&out, after.saturating_sub(before), secs)
    }

    pub(crate) fn stop(&mut self) {
        for child in self.0.iter_mut().rev() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}

/// The sampling ratios compared, the first the baseline.
const RATIOS: [&str; 3] = ["0", "0.1", "1.0"];

/// Means over the rounds per ratio and call, the ratios to sampling 0, then every round.
fn report(rows: &[(&str, &str, Sample)], rounds: usize, secs: u64) {
    println!(
        "\norder system (order-api -> order-rpc -> user-rpc, SQLite, in-process cache), wrk -t1 -c64,\n\
         loopback, {rounds} rounds x {secs} s interleaved, fresh services per round, means;\n\
         CPU = the three services' CPU per request"
    );
    println!(
        "{:<9} {:<5} {:>10} {:>9} {:>9} {:>14}",
        "sampling", "call", "req/s", "p50 ms", "p99 ms", "CPU µs/req"
    );
    let mean = |ratio: &str, call: &str| {
        let of: Vec<&Sample> = rows
            .iter()
            .filter(|(r, c, _)| *r == ratio && *c == call)
            .map(|(_, _, s)| s)
            .collect();
        let n = of.len().max(1) as f64;
        let avg = |f: fn(&Sample) -> f64| of.iter().map(|s| f(s)).sum::<f64>() / n;
        Sample {
            rps: avg(|s| s.rps),
            p50_ms: avg(|s| s.p50_ms),
            p99_ms: avg(|s| s.p99_ms),
            cpu_us_per_req: avg(|s| s.cpu_us_per_req),
        }
    };
    for call in ["GET", "POST"] {
        for ratio in RATIOS {
            let s = mean(ratio, call);
            println!(
                "{ratio:<9} {call:<5} {:>10.0} {:>9.3} {:>9.3} {:>14.1}",
                s.rps, s.p50_ms, s.p99_ms, s.cpu_us_per_req
            );
        }
    }
    for call in ["GET", "POST"] {
        let b = mean(RATIOS[0], call);
        for ratio in &RATIOS[1..] {
            let s = mean(ratio, call);
            println!(
                "{call} at {ratio} vs 0: throughput {:.3}x, p50 {:.3}x, p99 {:.3}x, CPU per request {:.3}x",
                s.rps / b.rps,
                s.p50_ms / b.p50_ms,
                s.p99_ms / b.p99_ms,
                s.cpu_us_per_req / b.cpu_us_per_req
            );
        }
    }
    println!("\nper round (sampling, call, req/s, p50 ms, CPU µs/req):");
    for (ratio, call, s) in rows {
        println!(
            "  {ratio:<5} {call:<5} {:>8.0} {:>8.3} {:>8.1}",
            s.rps, s.p50_ms, s.cpu_us_per_req
        );
    }
}
