//! rzero's task runner, so that the README, CI and a developer run the same steps.
//!
//! ```text
//! cargo xtask test    # what CI runs: services, fmt, clippy, every test
//! cargo xtask lint    # fmt --check and clippy -D warnings
//! cargo xtask bench   # criterion benchmarks
//! cargo xtask run     # the main job: the collector + viewer, and the telemetry example
//! cargo xtask load    # HTTP load harness: plain axum against rzero's layers, as ratios
//! ```

mod load;

use std::net::{SocketAddr, TcpStream};
use std::process::{Command, ExitCode};
use std::time::Duration;

pub(crate) type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    let rest = args.get(1..).unwrap_or_default();
    let outcome = match task {
        "test" => test(rest),
        "lint" => lint(),
        "bench" => cargo(&[&["bench", "--workspace"], &strs(rest)[..]].concat()),
        "run" => demo(rest),
        "load" => load::run(rest),
        _ => {
            eprintln!("usage: cargo xtask <test|lint|bench|run|load> [args]");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask {task}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Everything CI checks, in the order that fails fastest.
fn test(extra: &[String]) -> Result {
    ensure_services()?;
    lint()?;
    cargo(&[&["test", "--workspace", "--no-fail-fast"], &strs(extra)[..]].concat())
}

/// The main job until the order system lands: the embedded collector and viewer, and the
/// telemetry example sending its trace there. With `OTEL_EXPORTER_OTLP_ENDPOINT` set, the
/// example goes to that collector instead and no embedded one starts.
fn demo(extra: &[String]) -> Result {
    cargo(&[
        "build",
        "--release",
        "-p",
        "rzero-collector",
        "-p",
        "hello-telemetry",
    ])?;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let bin = |name: &str| target.join("release").join(name);
    let example = bin("hello-telemetry").to_string_lossy().into_owned();
    if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() {
        return run(&example, &strs(extra));
    }
    if listening(4317) {
        return Err("port 4317 is taken: stop the collector there, or set \
                    OTEL_EXPORTER_OTLP_ENDPOINT to use it"
            .to_owned());
    }
    let mut collector = Command::new(bin("rzero-collector"))
        .spawn()
        .map_err(|e| format!("cannot start rzero-collector: {e}"))?;
    if let Err(e) = wait_for(4317, "rzero-collector") {
        let _ = collector.kill();
        return Err(e);
    }
    let sent = Command::new(&example)
        .args(extra)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
        .status();
    match sent {
        Ok(status) if status.success() => {}
        other => eprintln!("hello-telemetry did not finish cleanly: {other:?}"),
    }
    println!("\nOpen http://127.0.0.1:16686/ to see the trace. Ctrl-C stops the collector.");
    let _ = collector.wait();
    Ok(())
}

fn lint() -> Result {
    cargo(&["fmt", "--all", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])
}

pub(crate) fn cargo(args: &[&str]) -> Result {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    run(&cargo, args)
}

pub(crate) fn run(program: &str, args: &[&str]) -> Result {
    eprintln!("+ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .status()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

pub(crate) fn listening(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

/// Starts what the tests need that a fresh machine may lack: MariaDB and Redis (installed
/// on our machines, maybe stopped) and Debian's Chromium for the viewer's browser test.
/// etcd joins this list with the tests that need it (rpc discovery).
fn ensure_services() -> Result {
    if !listening(3306) {
        run(
            "start-stop-daemon",
            &[
                "--start",
                "--oknodo",
                "--background",
                "--exec",
                "/usr/sbin/mariadbd",
            ],
        )?;
        wait_for(3306, "MariaDB")?;
    }
    if !listening(6379) {
        run(
            "redis-server",
            &[
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "--port",
                "6379",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
        )?;
        wait_for(6379, "Redis")?;
    }
    if !std::path::Path::new("/usr/bin/chromium").exists() {
        apt_install(&["chromium"])?;
    }
    Ok(())
}

pub(crate) fn wait_for(port: u16, what: &str) -> Result {
    for _ in 0..60 {
        if listening(port) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    Err(format!(
        "{what} is not listening on 127.0.0.1:{port} after 30 s"
    ))
}

pub(crate) fn apt_install(packages: &[&str]) -> Result {
    run("apt-get", &["update", "-qq"])?;
    run("apt-get", &[&["install", "-y", "-qq"], packages].concat())
}
