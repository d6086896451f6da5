//! The instruction count of `cargo xtask bench-side`: each configuration's server runs
//! under `valgrind --tool=callgrind` with instrumentation off, takes warm-up requests, then
//! `callgrind_control -i on`, N sequential requests, `callgrind_control -i off`.
//! Instructions / N is the cost of one request through the stack on every thread of the
//! server (the batch exporter's thread and its exports included), and it does not move
//! with the machine's noise.
//!
//! The HTTP rows (REST, hop) send N keep-alive requests from this process; the gRPC echo
//! runs `hop-load client` with one call in flight and N calls (its connection's
//! handshake falls inside the count, amortised over the N calls).
//!
//! Why callgrind: `perf stat -e instructions` needs a PMU, and this VM has none (`perf`
//! answers `<not supported>`). Why a hand-written HTTP/1.1 client: the responses are small
//! JSON bodies with a content-length, and `wrk` cannot send an exact number of requests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::load::stop;
use crate::{Result, apt_install};

const WARM_UP: usize = 200;

/// Builds a server command: `program` is valgrind, `before` its arguments and the binary.
pub(crate) type ServerCommand = Box<dyn Fn(&Path, &[String]) -> Command>;

/// One configuration to count: its server and the load that drives it.
pub(crate) struct Subject {
    pub(crate) name: &'static str,
    /// The server's binary, the last of valgrind's arguments before the server's own.
    pub(crate) binary: PathBuf,
    pub(crate) server: ServerCommand,
    /// The ports to wait for before the first request.
    pub(crate) ports: Vec<u16>,
    pub(crate) load: Load,
}

/// How a [`Subject`] is driven.
pub(crate) enum Load {
    /// Sequential keep-alive `GET path` on one connection from this process.
    Http { port: u16, path: &'static str },
    /// `hop-load client` (the binary at `client`) with one call in flight.
    Grpc { client: PathBuf, port: u16 },
}

/// Counts every subject's instructions per request and prints a table, the first subject
/// the baseline; `what` names the workload in the heading.
pub(crate) fn run(what: &str, subjects: &[Subject], n: usize) -> Result {
    if Command::new("valgrind").arg("--version").output().is_err() {
        apt_install(&["valgrind"])?;
    }
    // `RZERO_CALLGRIND_DIR=DIR` keeps the profiles (`DIR/<config>.callgrind`) for
    // `callgrind_annotate --inclusive=yes`: where a configuration's instructions go.
    let keep = std::env::var_os("RZERO_CALLGRIND_DIR").map(std::path::PathBuf::from);
    let dir = keep.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("rzero-bench-side-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let result = (|| -> Result {
        let mut counts = Vec::new();
        for (i, s) in subjects.iter().enumerate() {
            eprintln!("callgrind: {what}, {} ({n} requests)", s.name);
            counts.push((s.name, instructions(&dir, i, s, n)?));
        }
        println!(
            "\n{what}: instructions per request (callgrind Ir, all server threads, {n} sequential requests after {WARM_UP} warm-up)"
        );
        let base_name = subjects.first().map(|s| s.name).unwrap_or_default();
        println!("\n| config | instructions/req | vs {base_name} |");
        println!("|---|---:|---:|");
        let base = counts.first().map(|(_, v)| *v).unwrap_or(1.0);
        for (name, v) in &counts {
            println!("| {name} | {v:.0} | {:.2} |", v / base);
        }
        Ok(())
    })();
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn instructions(dir: &Path, i: usize, s: &Subject, n: usize) -> Result<f64> {
    let out = dir.join(format!(
        "{i}-{}.callgrind",
        s.name.replace(['%', '>', ' '], "")
    ));
    let before = [
        "--tool=callgrind".to_owned(),
        "--instr-atstart=no".to_owned(),
        format!("--callgrind-out-file={}", out.display()),
        s.binary.display().to_string(),
    ];
    for &port in &s.ports {
        crate::ensure_free(port, &format!("{} under callgrind", s.name))?;
    }
    let mut valgrind = (s.server)(Path::new("valgrind"), &before);
    valgrind.stderr(Stdio::null());
    let mut server = valgrind
        .spawn()
        .map_err(|e| format!("cannot start valgrind: {e}"))?;
    let pid = server.id().to_string();
    let result = (|| -> Result<u64> {
        for &port in &s.ports {
            crate::wait_for(port, &format!("{} under callgrind", s.name))?;
        }
        match &s.load {
            Load::Http { port, path } => {
                let mut client = Client::connect(*port, path)?;
                client.requests(WARM_UP)?;
                control("on", &pid)?;
                client.requests(n)?;
                control("off", &pid)?;
                Ok(n as u64)
            }
            Load::Grpc { client, port } => {
                crate::side_grpc::client_run(client, *port, 0, Some(WARM_UP))?;
                control("on", &pid)?;
                let done = crate::side_grpc::client_run(client, *port, 0, Some(n));
                control("off", &pid)?;
                Ok(done?.requests)
            }
        }
    })();
    stop_slowly(&mut server);
    let requests = result?;
    let text = std::fs::read_to_string(&out).map_err(|e| {
        format!(
            "callgrind wrote no profile for {} ({e}): did the server exit on SIGINT?",
            s.name
        )
    })?;
    // `totals:`, not `summary:`: with instrumentation toggled, callgrind writes 0 in the
    // summary and the collected count in the totals.
    let total: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("totals:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("no totals line in {}", out.display()))?;
    Ok(total / requests.max(1) as f64)
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

/// A keep-alive HTTP/1.1 connection that sends `GET <path>` and reads each answer whole.
struct Client {
    reader: BufReader<TcpStream>,
    request: Vec<u8>,
}

impl Client {
    fn connect(port: u16, path: &str) -> Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .map_err(|e| format!("cannot connect to 127.0.0.1:{port}: {e}"))?;
        let _ = stream.set_nodelay(true);
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|e| e.to_string())?;
        Ok(Client {
            reader: BufReader::new(stream),
            request: format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").into_bytes(),
        })
    }

    fn requests(&mut self, n: usize) -> Result {
        for _ in 0..n {
            self.one().map_err(|e| format!("request failed: {e}"))?;
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
