//! The instruction count of `cargo xtask bench-side`: each configuration's server runs
//! under `valgrind --tool=callgrind` with instrumentation off, takes warm-up requests, then
//! `callgrind_control -i on`, N sequential keep-alive requests from this process,
//! `callgrind_control -i off`. Instructions / N is the cost of one request through the
//! stack on every thread of the server (the batch exporter's thread and its exports
//! included), and it does not move with the machine's noise.
//!
//! Why callgrind: `perf stat -e instructions` needs a PMU, and this VM has none (`perf`
//! answers `<not supported>`). Why a hand-written HTTP/1.1 client: the response of
//! `/hello` is one small known shape, and `wrk` cannot send an exact number of requests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::load::stop;
use crate::side::{CONFIGS, Config, server_command};
use crate::{Result, apt_install};

const WARM_UP: usize = 200;

pub(crate) fn run(target: &Path, sink: &str, n: usize) -> Result {
    if Command::new("valgrind").arg("--version").output().is_err() {
        apt_install(&["valgrind"])?;
    }
    let dir = std::env::temp_dir().join(format!("rzero-bench-side-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let result = (|| -> Result {
        let mut counts = Vec::new();
        for c in &CONFIGS {
            eprintln!("callgrind: {} ({n} requests)", c.name);
            counts.push((c.name, instructions(target, &dir, c, sink, n)?));
        }
        println!(
            "\ninstructions per request (callgrind Ir, all server threads, {n} sequential keep-alive requests after {WARM_UP} warm-up)"
        );
        println!("\n| config | instructions/req | vs axum |");
        println!("|---|---:|---:|");
        let base = counts.first().map(|(_, v)| *v).unwrap_or(1.0);
        for (name, v) in &counts {
            println!("| {name} | {v:.0} | {:.2} |", v / base);
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn instructions(target: &Path, dir: &Path, c: &Config, sink: &str, n: usize) -> Result<f64> {
    let out = dir.join(format!("{}.callgrind", c.port));
    let before = [
        "--tool=callgrind".to_owned(),
        "--instr-atstart=no".to_owned(),
        format!("--callgrind-out-file={}", out.display()),
        target.join("rest-load").display().to_string(),
    ];
    let mut valgrind = server_command(Path::new("valgrind"), &before, c, sink);
    valgrind.stderr(Stdio::null());
    let mut server = valgrind
        .spawn()
        .map_err(|e| format!("cannot start valgrind: {e}"))?;
    let pid = server.id().to_string();
    let result = (|| -> Result {
        crate::wait_for(c.port, "rest-load under callgrind")?;
        let mut client = Client::connect(c.port)?;
        client.requests(WARM_UP)?;
        control("on", &pid)?;
        client.requests(n)?;
        control("off", &pid)
    })();
    stop_slowly(&mut server);
    result?;
    let text = std::fs::read_to_string(&out).map_err(|e| {
        format!(
            "callgrind wrote no profile for {} ({e}): did the server exit on SIGINT?",
            c.name
        )
    })?;
    // `totals:`, not `summary:`: with instrumentation toggled, callgrind writes 0 in the
    // summary and the collected count in the totals.
    let total: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("totals:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("no totals line in {}", out.display()))?;
    Ok(total / n as f64)
}

/// `callgrind_control -i on|off PID`, quietly: its "OK" lines would land in the table.
fn control(state: &str, pid: &str) -> Result {
    let out = Command::new("callgrind_control")
        .args(["-i", state, pid])
        .output()
        .map_err(|e| format!("cannot run callgrind_control: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "callgrind_control -i {state} {pid} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// SIGINT and a long wait: under valgrind the server's shutdown (and callgrind's dump)
/// takes seconds; a kill would lose the profile.
fn stop_slowly(child: &mut std::process::Child) {
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    for _ in 0..300 {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    stop(child);
}

/// A keep-alive HTTP/1.1 connection that sends `GET /hello` and reads each answer whole.
struct Client {
    reader: BufReader<TcpStream>,
    request: Vec<u8>,
}

impl Client {
    fn connect(port: u16) -> Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .map_err(|e| format!("cannot connect to 127.0.0.1:{port}: {e}"))?;
        let _ = stream.set_nodelay(true);
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|e| e.to_string())?;
        Ok(Client {
            reader: BufReader::new(stream),
            request: format!("GET /hello HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").into_bytes(),
        })
    }

    fn requests(&mut self, n: usize) -> Result {
        for _ in 0..n {
            self.one()
                .map_err(|e| format!("request to /hello failed: {e}"))?;
        }
        Ok(())
    }

    fn one(&mut self) -> std::io::Result<()> {
        self.reader.get_mut().write_all(&self.request)?;
        let mut line = String::new();
        let mut length = None;
        let mut first = true;
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            if first && !line.starts_with("HTTP/1.1 200") {
                return Err(std::io::Error::other(format!("answer `{}`", line.trim())));
            }
            first = false;
            let l = line.to_ascii_lowercase();
            if let Some(v) = l.strip_prefix("content-length:") {
                length = v.trim().parse::<usize>().ok();
            }
            if line == "\r\n" {
                break;
            }
        }
        let length =
            length.ok_or_else(|| std::io::Error::other("answer without content-length"))?;
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)
    }
}
