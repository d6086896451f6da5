//! rzero's task runner, so that the README, CI and a developer run the same steps.
//!
//! ```text
//! cargo xtask test    # what CI runs: services, fmt, clippy, every test
//! cargo xtask lint    # fmt --check and clippy -D warnings
//! cargo xtask bench   # criterion benchmarks
//! cargo xtask run     # the main job: the order system, the collector and its viewer
//! cargo xtask load    # HTTP load harness: plain axum against rzero's layers, as ratios
//! cargo xtask load orders [secs] [rounds]  # the order system at 0%, 10% and 100% sampling, interleaved rounds, as ratios
//! cargo xtask load tail    # 100% export + tail sampling vs 10% head sampling: kept, cost
//! cargo xtask bench-side    # axum/tonic, rzero and the usual tracing glue side by side: REST, HTTP->gRPC hop, gRPC echo (issue 19)
//! cargo xtask codegen-check  # services/ is exactly rzeroctl's output (CI runs it)
//! cargo xtask codegen # regenerate services/ in place
//! ```

mod codegen;
mod load;
mod load_orders;
mod load_tail;
mod side;
mod side_grpc;
mod side_instr;
mod system;

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
        "run" => system::run(rest),
        "load" if rest.first().map(String::as_str) == Some("orders") => {
            load_orders::run(rest.get(1..).unwrap_or_default())
        }
        "load" if rest.first().map(String::as_str) == Some("tail") => {
            load_tail::run(rest.get(1..).unwrap_or_default())
        }
        "load" => load::run(rest),
        "bench-side" => side::run(rest),
        "codegen-check" => codegen::check(),
        "codegen" => codegen::regenerate(),
        _ => {
            eprintln!(
                "usage: cargo xtask <test|lint|bench|bench-side|run|load|codegen-check|codegen> [args]"
            );
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
    check_disk();
    ensure_services()?;
    lint()?;
    codegen::check()?;
    package()?;
    cargo(&[&["test", "--workspace", "--no-fail-fast"], &strs(extra)[..]].concat())
}

/// The crates a release publishes, dependencies first.
const PUBLISHED: &[&str] = &[
    "rzero-conf",
    "rzero-telemetry",
    "rzero-resilience",
    "rzero-service",
    "rzero-rest",
    "rzero-rpc",
    "rzero-stores",
    "rzero-collector",
    "rzero",
    "rzeroctl",
];

/// `cargo package` of every published crate, so a release stays one command away: each
/// manifest is publishable (a version on every path dependency, the metadata crates.io
/// asks for) and archives. `--no-verify`: building every archive on its own would compile
/// the workspace a second time on CI's two cores; `cargo package -p X` verifies one.
fn package() -> Result {
    let mut args = vec!["package", "--no-verify", "--allow-dirty"];
    for c in PUBLISHED {
        args.extend(["-p", c]);
    }
    cargo(&args)
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

/// Cargo's target dir: `$CARGO_TARGET_DIR` when set (e.g. a target dir per worktree),
/// else the workspace's `target`.
pub(crate) fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// Where `cargo build --release` puts binaries.
pub(crate) fn release_dir() -> std::path::PathBuf {
    target_dir().join("release")
}

/// What a cold `cargo xtask test` writes under the target dir (measured 2026-12-03: the
/// debug build of every test, bench and example, with incremental data), in GiB.
const TEST_BUILD_GIB: u64 = 12;

/// Warns before the build when the target dir's disk has less room than a cold test
/// build writes: out of space, the linker dies halfway with a bus error or "No space left
/// on device", which says nothing about the cause. A warning, not an error: a warm target
/// dir needs far less.
fn check_disk() {
    let target = target_dir();
    let probe = if target.exists() {
        target
    } else {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    };
    let Some(free) = Command::new("df")
        .args(["-Pk"])
        .arg(&probe)
        .output()
        .ok()
        .and_then(|o| free_kib(&String::from_utf8_lossy(&o.stdout)))
    else {
        return;
    };
    let free_gib = free / (1 << 20);
    if free_gib < TEST_BUILD_GIB {
        eprintln!(
            "xtask test: warning: only {free_gib} GiB free on the disk of {}; a cold test \
             build writes about {TEST_BUILD_GIB} GiB. Free some (e.g. `cargo clean` in other \
             checkouts or worktrees) if the build fails with \"No space left on device\".",
            probe.display()
        );
    }
}

/// The "Available" column (KiB) of `df -Pk`'s one data line.
fn free_kib(df: &str) -> Option<u64> {
    df.lines().nth(1)?.split_whitespace().nth(3)?.parse().ok()
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
    ensure_etcd()
}

/// rzero-rpc's discovery tests start their own etcd (on free ports, with a temp data
/// dir): the binary must be there. The package's own service is not started.
fn ensure_etcd() -> Result {
    if !std::path::Path::new("/usr/bin/etcd").exists() {
        apt_install(&["etcd-server"])?;
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

/// Fails when something already listens on `port`: a process left from an earlier run
/// would answer in place of the one about to start, and be measured instead of it.
pub(crate) fn ensure_free(port: u16, what: &str) -> Result {
    if listening(port) {
        return Err(format!(
            "127.0.0.1:{port} is taken before {what} starts: stop the process left on it \
             (an earlier run's?) and run again"
        ));
    }
    Ok(())
}

pub(crate) fn apt_install(packages: &[&str]) -> Result {
    run("apt-get", &["update", "-qq"])?;
    run("apt-get", &[&["install", "-y", "-qq"], packages].concat())
}

#[cfg(test)]
mod tests {
    use super::free_kib;

    #[test]
    fn reads_the_free_space_of_df() {
        let df = "Filesystem     1024-blocks      Used Available Capacity Mounted on\n\
                  /dev/vda         264091876  12582912  83886080      13% /\n";
        assert_eq!(free_kib(df), Some(83_886_080));
        assert_eq!(free_kib(""), None);
        assert_eq!(free_kib("header only\n"), None);
    }
}
