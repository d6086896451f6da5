//! Test support for rzero services (feature `testing`): a real etcd, found on PATH or in
//! /usr/bin (installed with `apt-get install -y etcd-server` when missing), started on
//! free loopback ports with a temporary data dir, and killed on drop. rzero's own tests
//! and the order system's use it; so can a service's tests.
//!
//! It panics on failure, as test support does: a test without its etcd cannot go on.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static INSTALL: Mutex<()> = Mutex::new(());

/// The etcd binary, installed once if missing.
fn binary() -> PathBuf {
    let _guard = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
    let find = || {
        std::env::var_os("PATH")
            .into_iter()
            .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .chain([PathBuf::from("/usr/bin")])
            .map(|d| d.join("etcd"))
            .find(|p| p.is_file())
    };
    if let Some(p) = find() {
        return p;
    }
    let _ = Command::new("apt-get").args(["update", "-qq"]).status();
    let status = Command::new("apt-get")
        .args(["install", "-y", "-qq", "etcd-server"])
        .status()
        .expect("run apt-get");
    assert!(status.success(), "apt-get install -y etcd-server failed");
    find().expect("etcd installed by etcd-server")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running etcd, killed on drop.
#[derive(Debug)]
pub struct Etcd {
    child: Child,
    /// `127.0.0.1:<port>` of its client API.
    pub endpoint: String,
    _dir: tempfile::TempDir,
}

impl Etcd {
    /// Starts one (blocking: call from `spawn_blocking` in async tests).
    pub fn start() -> Etcd {
        let bin = binary();
        let dir = tempfile::tempdir().expect("temp dir");
        let (client, peer) = (free_port(), free_port());
        let endpoint = format!("127.0.0.1:{client}");
        let child = Command::new(bin)
            .args([
                "--name",
                "test",
                "--data-dir",
                dir.path().to_str().expect("utf-8 path"),
                "--listen-client-urls",
                &format!("http://{endpoint}"),
                "--advertise-client-urls",
                &format!("http://{endpoint}"),
                "--listen-peer-urls",
                &format!("http://127.0.0.1:{peer}"),
                "--initial-advertise-peer-urls",
                &format!("http://127.0.0.1:{peer}"),
                "--initial-cluster",
                &format!("test=http://127.0.0.1:{peer}"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start etcd");
        let etcd = Etcd {
            child,
            endpoint,
            _dir: dir,
        };
        etcd.wait_ready();
        etcd
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(&self.endpoint).is_ok() {
                // Listening is not leader-elected yet; a short pause covers a one-node
                // cluster's election.
                std::thread::sleep(Duration::from_millis(300));
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("etcd did not listen on {} within 30 s", self.endpoint);
    }

    /// Kills etcd now.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        self.kill();
    }
}
