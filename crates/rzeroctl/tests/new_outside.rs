//! A newcomer's first minute, as the README tells it: `rzeroctl api new greet` and
//! `rzeroctl rpc new greeter` in an empty folder outside this repository, with no
//! `--rzero-path`, then a plain `cargo build`, then the service started and called. The
//! crates must find rzero by themselves (the checkout this rzeroctl was built from) and
//! say so.
//!
//! For speed only, the builds share one target directory and rzero's `Cargo.lock` (see
//! `common`): the same dependency versions, compiled once for every generated crate.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// An empty folder under the system's temp dir, outside any workspace; removed on drop.
struct Outside(PathBuf);

impl Drop for Outside {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn outside(name: &str) -> Outside {
    let dir = std::env::temp_dir().join(format!("rzero-new-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the folder");
    assert!(
        !dir.starts_with(common::workspace_root()),
        "{} must be outside the repository",
        dir.display()
    );
    Outside(dir)
}

/// `rzeroctl <args>` in `dir`, as a user types it; its stdout.
fn rzeroctl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_rzeroctl"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run rzeroctl");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "rzeroctl {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A started service, killed by its pid (through `Child`) when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `binary` with `-f conf` and waits for its "Starting server at ADDR..." line.
fn start(binary: &Path, conf: &Path) -> (Running, String) {
    let mut child = Command::new(binary)
        .arg("-f")
        .arg(conf)
        .env("OTEL_SDK_DISABLED", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the service");
    let stdout = child.stdout.take().expect("stdout");
    let running = Running(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("Starting server at ") {
                let _ = tx.send(addr.trim_end_matches("...").to_owned());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the service says where it listens");
    (running, addr)
}

fn says_where_rzero_comes_from(stdout: &str) {
    assert!(
        stdout.contains("Depends on rzero from the local checkout"),
        "the chosen rzero is printed: {stdout}"
    );
}

#[test]
fn api_new_builds_and_answers_outside_the_repo() {
    let home = outside("api");
    let out = rzeroctl(&home.0, &["api", "new", "greet"]);
    says_where_rzero_comes_from(&out);
    assert!(out.contains("cd greet && cargo run"), "{out}");
    let dir = home.0.join("greet");
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("Cargo.toml");
    assert!(manifest.contains("path = "), "{manifest}");
    common::cargo(&dir, &["build"]);

    let conf = dir.join("test.yaml");
    std::fs::write(
        &conf,
        "Name: greet-api\nHost: 127.0.0.1\nPort: 0\nCpuThreshold: 0\n\
         Shutdown:\n  WrapUpTime: 0\n  WaitTime: 0\n",
    )
    .expect("config");
    let (_svc, addr) = start(&common::binary("greet-api"), &conf);
    let addr = addr.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    write!(
        s,
        "GET /from/you HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"
    )
    .expect("write");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read");
    // The starter's logic is the user's to write: it says so, as JSON, naming the file.
    assert!(answer.starts_with("HTTP/1.1 501"), "{answer}");
    assert!(answer.contains("src/logic/greet_handler.rs"), "{answer}");
}

#[test]
fn rpc_new_builds_and_answers_outside_the_repo() {
    let home = outside("rpc");
    let out = rzeroctl(&home.0, &["rpc", "new", "greeter"]);
    says_where_rzero_comes_from(&out);
    let dir = home.0.join("greeter");
    common::cargo(&dir, &["build"]);

    let conf = dir.join("test.yaml");
    std::fs::write(
        &conf,
        "Name: greeter.rpc\nListenOn: 127.0.0.1:0\nCpuThreshold: 0\n\
         Shutdown:\n  WrapUpTime: 0\n  WaitTime: 0\n",
    )
    .expect("config");
    let (_svc, addr) = start(&common::binary("greeter"), &conf);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let status = rt.block_on(async {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .expect("endpoint")
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(10))
            .connect()
            .await
            .expect("connect");
        let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
        health
            .check(tonic_health::pb::HealthCheckRequest::default())
            .await
            .expect("grpc.health.v1 answers")
            .into_inner()
            .status
    });
    assert_eq!(
        status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
}
