//! A TCP proxy that can stop forwarding without closing anything: the connections stay
//! open and quiet, as a host that vanished (or a firewall that drops the flow) leaves
//! them, so the peers only learn of it through their own timeouts.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// What the proxy lets through now.
#[derive(Clone, Copy, Debug, Default)]
struct Gate {
    /// Nothing moves, on any connection, old or new.
    paused: bool,
    /// Connections with a number below this never move again.
    frozen_below: u64,
}

/// A TCP proxy on a loopback port to one upstream `host:port`; stops on drop.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    gate: watch::Sender<Gate>,
    accepted: Arc<AtomicU64>,
}

impl Proxy {
    /// Listens on `127.0.0.1:0` and forwards every connection to `upstream`.
    pub async fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let (gate, gates) = watch::channel(Gate::default());
        let accepted = Arc::new(AtomicU64::new(0));
        tokio::spawn(accept(
            listener,
            upstream.to_owned(),
            gates,
            accepted.clone(),
        ));
        Proxy {
            addr,
            gate,
            accepted,
        }
    }

    /// `127.0.0.1:<port>`, to give clients instead of the upstream.
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// Stops forwarding on every connection, and on those accepted from now on.
    pub fn pause(&self) {
        self.gate.send_modify(|g| g.paused = true);
    }

    /// Forwards again (what was held back goes through).
    pub fn resume(&self) {
        self.gate.send_modify(|g| g.paused = false);
    }

    /// The connections accepted so far stop forwarding for good; new ones go through.
    pub fn freeze_existing(&self) {
        let n = self.accepted.load(Ordering::SeqCst);
        self.gate.send_modify(|g| g.frozen_below = n);
    }

    /// How many connections the proxy accepted so far.
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
    }
}

async fn accept(
    listener: TcpListener,
    upstream: String,
    mut gates: watch::Receiver<Gate>,
    accepted: Arc<AtomicU64>,
) {
    // Dropping the set (when the proxy is dropped) ends every connection.
    let mut connections = JoinSet::new();
    loop {
        let (downstream, _) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(_) => continue,
            },
            changed = gates.changed() => {
                if changed.is_err() {
                    return;
                }
                continue;
            }
        };
        let id = accepted.fetch_add(1, Ordering::SeqCst);
        let connect = TcpStream::connect(upstream.clone());
        let Ok(Ok(up)) = tokio::time::timeout(Duration::from_secs(5), connect).await else {
            continue;
        };
        let _ = (downstream.set_nodelay(true), up.set_nodelay(true));
        let (down_read, down_write) = downstream.into_split();
        let (up_read, up_write) = up.into_split();
        connections.spawn(pump(down_read, up_write, id, gates.clone()));
        connections.spawn(pump(up_read, down_write, id, gates.clone()));
        while connections.try_join_next().is_some() {}
    }
}

/// Copies one direction while the gate lets connection `id` through.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    id: u64,
    mut gates: watch::Receiver<Gate>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if !open(&mut gates, id).await {
            return;
        }
        let n = tokio::select! {
            r = from.read(&mut buf) => match r {
                Ok(0) | Err(_) => {
                    let _ = to.shutdown().await;
                    return;
                }
                Ok(n) => n,
            },
            // Re-check the gate: a pause must also hold back what arrives next.
            changed = gates.changed() => {
                if changed.is_err() {
                    return;
                }
                continue;
            }
        };
        // Bytes read just before a pause wait for the resume too.
        if !open(&mut gates, id).await || to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// Waits until connection `id` may move; false when the proxy is gone.
async fn open(gates: &mut watch::Receiver<Gate>, id: u64) -> bool {
    loop {
        let gate = *gates.borrow_and_update();
        if !gate.paused && id >= gate.frozen_below {
            return true;
        }
        if gates.changed().await.is_err() {
            return false;
        }
    }
}
