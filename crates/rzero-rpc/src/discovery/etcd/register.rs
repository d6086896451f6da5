//! The server side: register `Key/<id>` → address under a lease, keep the lease alive,
//! register again when it is lost, and revoke it on [`Registration::deregister`] so
//! clients drop the server at once rather than after the lease's time to live.
//!
//! The lease counts as lost when etcd answers a keep-alive with TTL 0 (it expired or
//! was revoked: etcd restarted, a long pause), and when no keep-alive was confirmed for
//! a whole TTL (a half-open connection, etcd unreachable): by then etcd has dropped the
//! key, so waiting for the old stream to recover would leave the server out of
//! discovery for as long as TCP takes to give up. Keep-alives go every third of the
//! TTL, as etcd's own client sends them, each with `RequestTimeout` to be answered.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rzero_conf::EtcdConf;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::pb::{LeaseKeepAliveRequest, PutRequest};
use super::{Client, EtcdError};

/// Pause between registration attempts while etcd cannot be reached.
const RETRY: Duration = Duration::from_secs(1);

/// A server's registration in etcd, kept alive in the background until
/// [`deregister`](Self::deregister) (or drop, which revokes the lease in the
/// background when the runtime is still running).
#[derive(Debug)]
pub struct Registration {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    key: Arc<Mutex<String>>,
    /// How long `deregister` waits: a revoke may need to authenticate first.
    grace: Duration,
}

struct Registrar {
    client: Client,
    prefix: String,
    id: Option<i64>,
    value: String,
    ttl_secs: i64,
}

/// A lease and how long etcd has confirmed it for.
#[derive(Debug)]
struct Lease {
    id: i64,
    ttl: Duration,
    /// When the lease expires, by the last keep-alive etcd answered: its send time
    /// plus the TTL etcd gave (the answer may have come late; the send time is sure).
    confirmed_until: Instant,
}

/// How a keep-alive session ended.
enum Ended {
    /// The lease is gone.
    Lost(EtcdError),
    /// The stream broke; the lease may still be good.
    Broken(EtcdError),
}

// === impl Registration ===

impl Registration {
    /// Registers `value` (the server's address) under `conf.key`, and keeps it there.
    /// Fails when the first registration fails: a server that cannot be found should
    /// not start silently.
    pub async fn start(conf: &EtcdConf, value: String) -> Result<Self, EtcdError> {
        conf.validate().map_err(EtcdError::Config)?;
        Self::start_with(Client::new(conf)?, conf, value).await
    }

    pub(crate) async fn start_with(
        client: Client,
        conf: &EtcdConf,
        value: String,
    ) -> Result<Self, EtcdError> {
        let grace = client.settings().request_timeout * 2 + Duration::from_secs(1);
        let registrar = Registrar {
            client,
            prefix: conf.key.clone(),
            id: conf.id,
            value,
            ttl_secs: i64::try_from(conf.lease_ttl.as_secs()).unwrap_or(super::LEASE_TTL_SECS),
        };
        let (lease, key) = registrar.register().await?;
        tracing::info!(%key, value = %registrar.value, lease = lease.id, "registered in etcd");
        let key = Arc::new(Mutex::new(key));
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(registrar.keep(lease, stopped, key.clone()));
        Ok(Registration {
            stop,
            task,
            key,
            grace,
        })
    }

    /// The key registered now.
    pub fn key(&self) -> String {
        self.key
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Revokes the lease (its key goes with it), waiting a bounded time for etcd.
    pub async fn deregister(self) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(self.grace, self.task).await.is_err() {
            tracing::warn!(
                "etcd did not confirm the deregistration in time; the lease will expire"
            );
        }
    }
}

// === impl Lease ===

impl Lease {
    fn left(&self) -> Duration {
        self.confirmed_until
            .saturating_duration_since(Instant::now())
    }

    /// Keep-alives go every third of the TTL, as etcd's client sends them.
    fn period(&self) -> Duration {
        (self.ttl / 3).max(Duration::from_millis(500))
    }
}

// === impl Registrar ===

impl Registrar {
    /// Grants a lease and puts the key under it.
    async fn register(&self) -> Result<(Lease, String), EtcdError> {
        let sent = Instant::now();
        let grant = self.client.lease_grant(self.ttl_secs).await?;
        let lease = Lease {
            id: grant.id,
            ttl: Duration::from_secs(u64::try_from(grant.ttl).unwrap_or(0)),
            confirmed_until: sent + Duration::from_secs(u64::try_from(grant.ttl).unwrap_or(0)),
        };
        let key = format!("{}/{}", self.prefix, self.id.unwrap_or(grant.id));
        self.client
            .put(PutRequest {
                key: key.clone().into_bytes(),
                value: self.value.clone().into_bytes(),
                lease: grant.id,
            })
            .await?;
        Ok((lease, key))
    }

    /// Keeps `lease` alive; registers again whenever it is lost; revokes on stop.
    async fn keep(
        self,
        mut lease: Lease,
        mut stop: watch::Receiver<bool>,
        key: Arc<Mutex<String>>,
    ) {
        loop {
            let lost = tokio::select! {
                e = self.keep_alive(&mut lease) => e,
                _ = stop.changed() => break,
            };
            let current = key.lock().unwrap_or_else(|p| p.into_inner()).clone();
            tracing::warn!(key = %current, lease = lease.id, "etcd registration lost ({lost}); registering again");
            let old = lease.id;
            loop {
                let attempt = tokio::select! {
                    r = self.register() => r,
                    _ = stop.changed() => return self.revoke(old).await,
                };
                match attempt {
                    Ok((fresh, k)) => {
                        tracing::info!(key = %k, lease = fresh.id, "registered in etcd again");
                        lease = fresh;
                        *key.lock().unwrap_or_else(|p| p.into_inner()) = k;
                        // The old lease may still live (it was only unconfirmed): its key
                        // would list this server twice until it expires.
                        if let Err(e) = self.client.lease_revoke(old).await {
                            tracing::debug!(lease = old, "revoking the lost lease: {e}");
                        }
                        break;
                    }
                    Err(e) => {
                        tracing::warn!("etcd registration failed, retrying in {RETRY:?}: {e}")
                    }
                }
                tokio::select! {
                    () = tokio::time::sleep(RETRY) => {}
                    _ = stop.changed() => return self.revoke(old).await,
                }
            }
        }
        self.revoke(lease.id).await;
    }

    /// Keeps `lease` alive across broken streams while it is confirmed; returns why it
    /// is lost.
    async fn keep_alive(&self, lease: &mut Lease) -> EtcdError {
        loop {
            let broken = match self.session(lease).await {
                Ended::Lost(e) => return e,
                Ended::Broken(e) => e,
            };
            let left = lease.left();
            if left.is_zero() {
                return self.lost(format!(
                    "no keep-alive was confirmed within its TTL of {:?} ({broken})",
                    lease.ttl
                ));
            }
            tracing::warn!(
                lease = lease.id,
                "etcd keep-alive interrupted ({broken}); the lease holds for {left:?} more, \
                 retrying"
            );
            self.client.reset();
            tokio::time::sleep(left.min(RETRY / 4)).await;
        }
    }

    /// One keep-alive stream, until it breaks or the lease is lost.
    async fn session(&self, lease: &mut Lease) -> Ended {
        let timeout = self.client.settings().request_timeout;
        let request = LeaseKeepAliveRequest { id: lease.id };
        let (requests, outgoing) = mpsc::channel(1);
        // The first request goes in before the stream opens: etcd answers the headers
        // with the first answer.
        let mut sent = Instant::now();
        if requests.try_send(request).is_err() {
            let queue = tonic::Status::internal("keep-alive request queue");
            return Ended::Broken(self.client.status_error("lease keep-alive", queue));
        }
        let outgoing = futures_util::stream::unfold(outgoing, |mut rx| async move {
            rx.recv().await.map(|r| (r, rx))
        });
        let open = self.client.lease_keep_alive(outgoing);
        let mut answers = match tokio::time::timeout_at(lease.confirmed_until, open).await {
            Err(_) => return Ended::Broken(self.client.timeout_error("lease keep-alive")),
            Ok(Err(e)) => return Ended::Broken(e),
            Ok(Ok(answers)) => answers,
        };
        loop {
            let until = (sent + timeout).min(lease.confirmed_until);
            match tokio::time::timeout_at(until, answers.message()).await {
                Err(_) => return Ended::Broken(self.client.timeout_error("lease keep-alive")),
                Ok(Ok(Some(answer))) if answer.ttl > 0 => {
                    let ttl = Duration::from_secs(u64::try_from(answer.ttl).unwrap_or(0));
                    lease.confirmed_until = sent + ttl;
                }
                Ok(Ok(Some(_))) => {
                    return Ended::Lost(
                        self.lost(
                            "etcd answered the keep-alive with TTL 0: the lease expired or was \
                         revoked"
                                .into(),
                        ),
                    );
                }
                Ok(Ok(None)) => {
                    let ended = tonic::Status::unavailable("keep-alive stream ended");
                    return Ended::Broken(self.client.status_error("lease keep-alive", ended));
                }
                Ok(Err(status)) => {
                    return Ended::Broken(self.client.status_error("lease keep-alive", status));
                }
            }
            tokio::time::sleep_until(sent + lease.period()).await;
            sent = Instant::now();
            if requests.try_send(request).is_err() {
                // The previous request was never taken: the stream is stuck.
                return Ended::Broken(self.client.timeout_error("lease keep-alive (not sent)"));
            }
        }
    }

    fn lost(&self, reason: String) -> EtcdError {
        EtcdError::LeaseLost {
            hosts: self.client.hosts().to_owned(),
            reason,
        }
    }

    async fn revoke(&self, lease: i64) {
        match self.client.lease_revoke(lease).await {
            Ok(()) => tracing::info!(prefix = %self.prefix, "deregistered from etcd"),
            Err(e) => tracing::warn!("etcd lease revoke failed ({e}); the lease will expire"),
        }
    }
}
