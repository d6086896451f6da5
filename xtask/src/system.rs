//! `cargo xtask run`: the main job. Builds and starts the whole order system with its
//! embedded defaults (user-rpc on 8081, order-rpc on 8080, order-api on 8888, SQLite
//! files and in-process caches under `target/orders/`, static endpoints) and the embedded
//! collector with its trace viewer on 16686; sends the README's two example requests and
//! prints where to see their trace. Ctrl-C stops everything in order: order-api, then
//! order-rpc, then user-rpc, each draining and flushing its telemetry, and the collector
//! last, so that no service's final flush finds it gone.
//!
//! With `OTEL_EXPORTER_OTLP_ENDPOINT` set, the services export there and no embedded
//! collector starts.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::{Result, cargo, listening, wait_for};

const SERVICES: [(&str, u16); 3] = [("user-rpc", 8081), ("order-rpc", 8080), ("order-api", 8888)];

/// Children, stopped one by one in the reverse of their start order when this is
/// dropped: SIGTERM, then SIGKILL after 15 s. Each runs in its own process group, so the
/// terminal's Ctrl-C reaches only this task, which decides the order.
struct Running(Vec<(String, Child)>);

impl Drop for Running {
    fn drop(&mut self) {
        for (name, child) in self.0.iter_mut().rev() {
            if !matches!(child.try_wait(), Ok(None)) {
                continue;
            }
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let mut waited = 0;
            while matches!(child.try_wait(), Ok(None)) && waited < 150 {
                std::thread::sleep(Duration::from_millis(100));
                waited += 1;
            }
            if waited == 150 {
                eprintln!("{name} did not stop within 15 s; killing it");
                let _ = child.kill();
                let _ = child.wait();
            } else {
                eprintln!("{name} stopped");
            }
        }
    }
}

/// A child of its own process group (see [`Running`]).
fn spawn(cmd: &mut Command, name: &str) -> Result<Child> {
    cmd.process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start {name}: {e}"))
}

pub(crate) fn run(_extra: &[String]) -> Result {
    let mut build = vec!["build", "--release"];
    for (name, _) in SERVICES {
        build.extend(["-p", name]);
    }
    build.extend(["-p", "rzero-collector"]);
    cargo(&build)?;
    let target = crate::target_dir();
    let bin = |name: &str| target.join("release").join(name);
    let work = target.join("orders");
    std::fs::create_dir_all(work.join("data"))
        .map_err(|e| format!("cannot create {}: {e}", work.display()))?;

    let external = std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some();
    let mut ports: Vec<(&str, u16)> = SERVICES.to_vec();
    if !external {
        ports.push(("rzero-collector", 4317));
    }
    for (name, port) in &ports {
        if listening(*port) {
            return Err(format!(
                "port {port} (for {name}) is taken: stop what listens there and run again"
            ));
        }
    }

    let interrupted = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&interrupted))
            .map_err(|e| format!("cannot watch for Ctrl-C: {e}"))?;
    }
    let mut running = Running(Vec::new());
    if !external {
        let collector = spawn(
            Command::new(bin("rzero-collector")).current_dir(&work),
            "rzero-collector",
        )?;
        running.0.push(("rzero-collector".into(), collector));
        wait_for(4317, "rzero-collector")?;
    }
    for (name, port) in SERVICES {
        let child = spawn(
            Command::new(bin(name))
                .current_dir(&work)
                .env("LOG_ENCODING", "plain"),
            name,
        )?;
        running.0.push((name.into(), child));
        wait_for(port, name)?;
    }

    println!(
        "\nThe order system is up: order-api http://127.0.0.1:8888, order-rpc :8080, user-rpc :8081."
    );
    let created = http(
        "POST /api/v1/orders",
        r#"{"user_id": 1, "product_id": 1, "amount": 99.99}"#,
    )?;
    println!(
        "\n$ curl -X POST localhost:8888/api/v1/orders -H 'content-type: application/json' \\\n    -d '{{\"user_id\": 1, \"product_id\": 1, \"amount\": 99.99}}'\n{}",
        created.body
    );
    let order_id = created
        .body
        .split("\"order_id\":")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .unwrap_or("1")
        .to_owned();
    let got = http(&format!("GET /api/v1/orders/{order_id}"), "")?;
    println!(
        "\n$ curl localhost:8888/api/v1/orders/{order_id}\n{}",
        got.body
    );
    if !external {
        println!(
            "\nThe trace of the POST, across order-api, order-rpc and user-rpc:\n  \
             http://127.0.0.1:16686/#/trace/{}\n(all traces: http://127.0.0.1:16686/)",
            created.trace_id
        );
    }
    println!("\nCtrl-C stops everything.");
    // Until Ctrl-C, or until any service ends by itself; then `running` stops the rest.
    while !interrupted.load(Ordering::Relaxed) {
        for (name, child) in running.0.iter_mut() {
            if let Ok(Some(status)) = child.try_wait() {
                println!("{name} exited ({status}); stopping the others");
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    println!("\nStopping: order-api, order-rpc, user-rpc, then the collector.");
    Ok(())
}

struct Answer {
    body: String,
    trace_id: String,
}

/// One HTTP/1.1 exchange with order-api (xtask keeps no HTTP client dependency).
fn http(request_line: &str, body: &str) -> Result<Answer> {
    let mut s = TcpStream::connect("127.0.0.1:8888").map_err(|e| format!("order-api: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let req = format!(
        "{request_line} HTTP/1.1\r\nhost: 127.0.0.1:8888\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut out = String::new();
    s.read_to_string(&mut out).map_err(|e| e.to_string())?;
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let trace_id = head
        .lines()
        .find_map(|l| l.strip_prefix("x-trace-id: "))
        .unwrap_or("")
        .to_owned();
    Ok(Answer {
        body: body.to_owned(),
        trace_id,
    })
}
