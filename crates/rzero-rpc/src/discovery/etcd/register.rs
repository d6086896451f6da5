//! The server side: register `Key/<id>` → address under a lease, keep the lease alive,
//! register again when it is lost (etcd restarted, a long pause), and revoke it on
//! [`Registration::deregister`] so clients drop the server at once rather than after
//! the lease's time to live.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rzero_conf::EtcdConf;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

use super::pb::lease_client::LeaseClient;
use super::pb::{
    LeaseGrantRequest, LeaseKeepAliveRequest, LeaseRevokeRequest, PutRequest, kv_client::KvClient,
};
use super::{EtcdError, LEASE_TTL_SECS, connect};

const RETRY: Duration = Duration::from_secs(1);

/// A server's registration in etcd, kept alive in the background until
/// [`deregister`](Self::deregister) (or drop, which leaves the lease to expire).
#[derive(Debug)]
pub struct Registration {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    key: Arc<Mutex<String>>,
}

struct Registrar {
    channel: Channel,
    hosts: String,
    prefix: String,
    id: Option<i64>,
    value: String,
}

// === impl Registration ===

impl Registration {
    /// Registers `value` (the server's address) under `conf.key`, and keeps it there.
    /// Fails when the first registration fails: a server that cannot be found should
    /// not start silently.
    pub async fn start(conf: &EtcdConf, value: String) -> Result<Self, EtcdError> {
        conf.validate().map_err(EtcdError::Config)?;
        let registrar = Registrar {
            channel: connect(&conf.hosts)?,
            hosts: conf.hosts.join(","),
            prefix: conf.key.clone(),
            id: conf.id,
            value,
        };
        let (lease, key) = registrar.register().await?;
        tracing::info!(%key, value = %registrar.value, "registered in etcd");
        let key = Arc::new(Mutex::new(key));
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(registrar.keep(lease, stopped, key.clone()));
        Ok(Registration { stop, task, key })
    }

    /// The key registered now.
    pub fn key(&self) -> String {
        self.key
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Revokes the lease (its key goes with it), waiting at most a few seconds for etcd.
    pub async fn deregister(self) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(Duration::from_secs(3), self.task)
            .await
            .is_err()
        {
            tracing::warn!(
                "etcd did not confirm the deregistration in time; the lease will expire"
            );
        }
    }
}

// === impl Registrar ===

impl Registrar {
    fn err(&self, status: tonic::Status) -> EtcdError {
        EtcdError::Call {
            hosts: self.hosts.clone(),
            status,
        }
    }

    /// Grants a lease and puts the key under it.
    async fn register(&self) -> Result<(i64, String), EtcdError> {
        let grant = LeaseClient::new(self.channel.clone())
            .lease_grant(LeaseGrantRequest {
                ttl: LEASE_TTL_SECS,
                id: 0,
            })
            .await
            .map_err(|s| self.err(s))?
            .into_inner();
        if !grant.error.is_empty() {
            return Err(self.err(tonic::Status::unavailable(grant.error)));
        }
        let key = format!("{}/{}", self.prefix, self.id.unwrap_or(grant.id));
        KvClient::new(self.channel.clone())
            .put(PutRequest {
                key: key.clone().into_bytes(),
                value: self.value.clone().into_bytes(),
                lease: grant.id,
            })
            .await
            .map_err(|s| self.err(s))?;
        Ok((grant.id, key))
    }

    /// Keeps `lease` alive; registers again whenever it is lost; revokes on stop.
    async fn keep(self, mut lease: i64, mut stop: watch::Receiver<bool>, key: Arc<Mutex<String>>) {
        loop {
            let lost = tokio::select! {
                e = self.keep_alive(lease) => e,
                _ = stop.changed() => break,
            };
            tracing::warn!("etcd registration lost ({lost}); registering again");
            loop {
                tokio::select! {
                    () = tokio::time::sleep(RETRY) => {}
                    _ = stop.changed() => return self.revoke(lease).await,
                }
                match self.register().await {
                    Ok((l, k)) => {
                        tracing::info!(key = %k, "registered in etcd again");
                        lease = l;
                        *key.lock().unwrap_or_else(|p| p.into_inner()) = k;
                        break;
                    }
                    Err(e) => tracing::warn!("etcd registration failed, retrying: {e}"),
                }
            }
        }
        self.revoke(lease).await;
    }

    /// Sends keep-alives every third of the TTL until the lease is lost.
    async fn keep_alive(&self, lease: i64) -> EtcdError {
        let period = Duration::from_secs(u64::try_from(LEASE_TTL_SECS / 3).unwrap_or(1).max(1));
        let requests = futures_util::stream::unfold(true, move |first| async move {
            if !first {
                tokio::time::sleep(period).await;
            }
            Some((LeaseKeepAliveRequest { id: lease }, false))
        });
        let mut responses = match LeaseClient::new(self.channel.clone())
            .lease_keep_alive(requests)
            .await
        {
            Ok(r) => r.into_inner(),
            Err(s) => return self.err(s),
        };
        loop {
            match responses.message().await {
                Ok(Some(r)) if r.ttl > 0 => continue,
                Ok(Some(_)) => {
                    return EtcdError::LeaseLost {
                        hosts: self.hosts.clone(),
                    };
                }
                Ok(None) => return self.err(tonic::Status::unavailable("keep-alive stream ended")),
                Err(s) => return self.err(s),
            }
        }
    }

    async fn revoke(&self, lease: i64) {
        let mut client = LeaseClient::new(self.channel.clone());
        let revoke = client.lease_revoke(LeaseRevokeRequest { id: lease });
        match tokio::time::timeout(Duration::from_secs(2), revoke).await {
            Ok(Ok(_)) => tracing::info!(prefix = %self.prefix, "deregistered from etcd"),
            Ok(Err(s)) => tracing::warn!("etcd lease revoke failed: {}", self.err(s)),
            Err(_) => tracing::warn!("etcd lease revoke timed out; the lease will expire"),
        }
    }
}
