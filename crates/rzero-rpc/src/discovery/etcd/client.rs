//! The connection to etcd: endpoints with deadlines, HTTP/2 pings and TLS; the calls
//! discovery makes, each bounded by `Etcd.RequestTimeout`; etcd auth (the token in the
//! `token` metadata, fetched again when etcd says it is invalid).
//!
//! A call that runs out of time drops the channel and dials a new one: the connection
//! it waited on is likely half-open, and the HTTP/2 pings would take a few more seconds
//! to prove it.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::Stream;
use rzero_conf::EtcdConf;
use tonic::metadata::AsciiMetadataValue;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Response, Status, Streaming};

use super::EtcdError;
use super::auth::{Auth, is_stale_token};
use super::pb::kv_client::KvClient;
use super::pb::lease_client::LeaseClient;
use super::pb::watch_client::WatchClient;
use super::pb::{
    LeaseGrantRequest, LeaseGrantResponse, LeaseKeepAliveRequest, LeaseKeepAliveResponse,
    LeaseRevokeRequest, PutRequest, PutResponse, RangeRequest, RangeResponse, WatchRequest,
    WatchResponse,
};
use super::tls::Tls;

/// HTTP/2 ping interval while a stream is open: go-zero's `dialKeepAliveTime`, and no
/// less than etcd's `--grpc-keepalive-min-time` default (pinging more often gets the
/// connection closed with `too_many_pings`). No pings while idle, for the same reason.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);
/// How long a watch may be silent before the watchdog asks etcd for progress. etcd's
/// own progress notifications come every 10 minutes by default: too rare to rely on.
const WATCH_IDLE: Duration = Duration::from_secs(10);
/// The metadata key etcd reads the auth token from.
pub(super) const TOKEN: &str = "token";

/// How the client waits; from `EtcdConf`, and shortened by tests.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// Connecting: TCP and TLS handshake.
    pub(crate) dial_timeout: Duration,
    /// Every unary call, opening a stream, a keep-alive's answer, a probe's answer, and
    /// the HTTP/2 ping's answer.
    pub(crate) request_timeout: Duration,
    /// HTTP/2 ping interval; `None`: no pings (tests of the watchdog alone).
    pub(crate) keepalive: Option<Duration>,
    /// Silence before the watchdog probes a watch.
    pub(crate) watch_idle: Duration,
}

/// A client of one etcd cluster; clones share the connection and the token.
#[derive(Clone)]
pub(crate) struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    hosts: String,
    endpoints: Vec<Endpoint>,
    settings: Settings,
    channel: Mutex<Channel>,
    auth: Auth,
}

/// The token and deadline one call carries.
pub(crate) struct Stamp {
    token: Option<AsciiMetadataValue>,
    timeout: Duration,
}

// === impl Settings ===

impl Settings {
    /// The deadlines `conf` gives, with pings and the watchdog on.
    pub(crate) fn from_conf(conf: &EtcdConf) -> Settings {
        Settings {
            dial_timeout: conf.dial_timeout,
            request_timeout: conf.request_timeout,
            keepalive: Some(KEEPALIVE_INTERVAL),
            watch_idle: WATCH_IDLE,
        }
    }
}

/// One endpoint per host, with deadlines, pings and TLS. No I/O: what is wrong in the
/// config (a bad host, a TLS file) shows here, at start.
pub(crate) fn endpoints(conf: &EtcdConf, settings: &Settings) -> Result<Vec<Endpoint>, EtcdError> {
    let tls = Tls::from_conf(conf)?;
    let mut endpoints = Vec::with_capacity(conf.hosts.len());
    for host in &conf.hosts {
        let host = host.trim();
        let uri = match (host.split_once("://"), &tls) {
            (Some(("http", _)), Some(_)) => {
                return Err(EtcdError::Config(format!(
                    "Etcd.Hosts: `{host}` says http:// but TLS is configured (CACertFile, \
                     CertFile or InsecureSkipVerify): write https:// or no scheme"
                )));
            }
            (Some(("http" | "https", _)), _) => host.to_owned(),
            (Some((scheme, _)), _) => {
                return Err(EtcdError::Config(format!(
                    "Etcd.Hosts: `{host}`: unknown scheme `{scheme}`: write host:port"
                )));
            }
            (None, Some(_)) => format!("https://{host}"),
            (None, None) => format!("http://{host}"),
        };
        let mut endpoint = Endpoint::from_shared(uri)
            .map_err(|source| EtcdError::BadHost {
                host: host.to_owned(),
                source,
            })?
            .connect_timeout(settings.dial_timeout)
            .tcp_nodelay(true);
        if let Some(interval) = settings.keepalive {
            endpoint = endpoint
                .http2_keep_alive_interval(interval)
                .keep_alive_timeout(settings.request_timeout)
                .keep_alive_while_idle(false);
        }
        if let Some(tls) = &tls {
            endpoint = tls.apply(endpoint, host)?;
        }
        endpoints.push(endpoint);
    }
    if endpoints.is_empty() {
        return Err(EtcdError::Config(
            "Etcd.Hosts: expected at least one `host:port`, found none".into(),
        ));
    }
    Ok(endpoints)
}

fn open(endpoints: &[Endpoint]) -> Channel {
    match endpoints {
        [one] => one.connect_lazy(),
        many => Channel::balance_list(many.iter().cloned()),
    }
}

/// A deadline that passed: ours as tonic enforces it from `grpc-timeout` (it races our
/// own timer), or etcd's.
pub(super) fn is_deadline(status: &Status) -> bool {
    status.code() == tonic::Code::DeadlineExceeded
        || (status.code() == tonic::Code::Cancelled && status.message().contains("Timeout expired"))
}

// === impl Stamp ===

impl Stamp {
    /// `message` as a request with the deadline and the token.
    pub(crate) fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        request.set_timeout(self.timeout);
        if let Some(token) = &self.token {
            request.metadata_mut().insert(TOKEN, token.clone());
        }
        request
    }
}

// === impl Client ===

impl Client {
    /// A client of the cluster `conf` names, with `conf`'s deadlines.
    pub(crate) fn new(conf: &EtcdConf) -> Result<Client, EtcdError> {
        Client::with_settings(conf, Settings::from_conf(conf))
    }

    /// A client with `settings` instead of `conf`'s. Connects on first use; needs a
    /// Tokio runtime.
    pub(crate) fn with_settings(conf: &EtcdConf, settings: Settings) -> Result<Client, EtcdError> {
        let endpoints = endpoints(conf, &settings)?;
        Ok(Client {
            inner: Arc::new(Inner {
                hosts: conf.hosts.join(","),
                channel: Mutex::new(open(&endpoints)),
                endpoints,
                settings,
                auth: Auth::new(conf),
            }),
        })
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub(crate) fn hosts(&self) -> &str {
        &self.inner.hosts
    }

    /// How many times this client authenticated (tests watch token refresh with it).
    #[cfg(test)]
    pub(crate) fn authentications(&self) -> u64 {
        self.inner.auth.authentications()
    }

    /// Drops the connection; the next call dials again.
    pub(crate) fn reset(&self) {
        let fresh = open(&self.inner.endpoints);
        *self.inner.channel.lock().unwrap_or_else(|p| p.into_inner()) = fresh;
    }

    pub(super) fn channel(&self) -> Channel {
        self.inner
            .channel
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(crate) fn status_error(&self, what: &'static str, status: Status) -> EtcdError {
        EtcdError::Call {
            hosts: self.inner.hosts.clone(),
            what,
            status,
        }
    }

    pub(crate) fn timeout_error(&self, what: &'static str) -> EtcdError {
        EtcdError::Timeout {
            hosts: self.inner.hosts.clone(),
            what,
            after: self.inner.settings.request_timeout,
        }
    }

    pub(crate) async fn range(&self, message: RangeRequest) -> Result<RangeResponse, EtcdError> {
        self.unary("range", |channel, stamp| {
            let request = stamp.request(message.clone());
            async move { KvClient::new(channel).range(request).await }
        })
        .await
    }

    pub(crate) async fn put(&self, message: PutRequest) -> Result<PutResponse, EtcdError> {
        self.unary("put", |channel, stamp| {
            let request = stamp.request(message.clone());
            async move { KvClient::new(channel).put(request).await }
        })
        .await
    }

    /// Deletes `key` (test support: what an operator's `etcdctl del` does).
    #[cfg(any(test, feature = "testing"))]
    pub(crate) async fn delete(&self, key: &[u8]) -> Result<(), EtcdError> {
        self.unary("delete", |channel, stamp| {
            let request = stamp.request(super::pb::DeleteRangeRequest {
                key: key.to_vec(),
                range_end: Vec::new(),
            });
            async move { KvClient::new(channel).delete_range(request).await }
        })
        .await
        .map(drop)
    }

    pub(crate) async fn lease_grant(&self, ttl: i64) -> Result<LeaseGrantResponse, EtcdError> {
        let granted = self
            .unary("lease grant", |channel, stamp| {
                let request = stamp.request(LeaseGrantRequest { ttl, id: 0 });
                async move { LeaseClient::new(channel).lease_grant(request).await }
            })
            .await?;
        if !granted.error.is_empty() {
            return Err(self.status_error("lease grant", Status::unavailable(granted.error)));
        }
        Ok(granted)
    }

    pub(crate) async fn lease_revoke(&self, id: i64) -> Result<(), EtcdError> {
        self.unary("lease revoke", |channel, stamp| {
            let request = stamp.request(LeaseRevokeRequest { id });
            async move { LeaseClient::new(channel).lease_revoke(request).await }
        })
        .await
        .map(drop)
    }

    /// Opens a keep-alive stream. `requests` must yield its first request at once:
    /// etcd sends the stream's headers with its first answer.
    pub(crate) async fn lease_keep_alive<S>(
        &self,
        requests: S,
    ) -> Result<Streaming<LeaseKeepAliveResponse>, EtcdError>
    where
        S: Stream<Item = LeaseKeepAliveRequest> + Send + 'static,
    {
        self.open_stream("lease keep-alive", requests, |channel, request| async move {
            LeaseClient::new(channel).lease_keep_alive(request).await
        })
        .await
    }

    /// Opens a watch stream; as [`Client::lease_keep_alive`], the create request must
    /// come first and at once.
    pub(crate) async fn watch<S>(&self, requests: S) -> Result<Streaming<WatchResponse>, EtcdError>
    where
        S: Stream<Item = WatchRequest> + Send + 'static,
    {
        self.open_stream("watch", requests, |channel, request| async move {
            WatchClient::new(channel).watch(request).await
        })
        .await
    }

    /// Forgets the token (etcd refused it somewhere a status cannot say so, e.g. a watch
    /// cancelled for `permission denied`): the next call authenticates again.
    pub(crate) fn forget_token(&self) {
        self.inner.auth.forget(None);
    }

    /// A unary call with the deadline and the token; once more with a fresh token when
    /// etcd says the token is stale.
    async fn unary<T, F, Fut>(&self, what: &'static str, mut call: F) -> Result<T, EtcdError>
    where
        F: FnMut(Channel, Stamp) -> Fut,
        Fut: Future<Output = Result<Response<T>, Status>>,
    {
        let timeout = self.inner.settings.request_timeout;
        let mut refreshed = false;
        loop {
            let token = self.inner.auth.token(self).await?;
            let stamp = Stamp {
                token: token.clone(),
                timeout,
            };
            match tokio::time::timeout(timeout, call(self.channel(), stamp)).await {
                Err(_) => {
                    self.reset();
                    return Err(self.timeout_error(what));
                }
                Ok(Ok(response)) => return Ok(response.into_inner()),
                Ok(Err(status)) if is_deadline(&status) => {
                    self.reset();
                    return Err(self.timeout_error(what));
                }
                Ok(Err(status)) if token.is_some() && is_stale_token(&status) => {
                    self.inner.auth.forget(token.as_ref());
                    if refreshed {
                        return Err(self.status_error(what, status));
                    }
                    tracing::debug!(what, "etcd refused the auth token; authenticating again");
                    refreshed = true;
                }
                Ok(Err(status)) => return Err(self.status_error(what, status)),
            }
        }
    }

    async fn open_stream<M, S, T, F, Fut>(
        &self,
        what: &'static str,
        messages: S,
        call: F,
    ) -> Result<Streaming<T>, EtcdError>
    where
        S: Stream<Item = M> + Send + 'static,
        F: FnOnce(Channel, Request<S>) -> Fut,
        Fut: Future<Output = Result<Response<Streaming<T>>, Status>>,
    {
        let token = self.inner.auth.token(self).await?;
        // No `grpc-timeout` here: it would end the stream itself.
        let mut request = Request::new(messages);
        if let Some(token) = &token {
            request.metadata_mut().insert(TOKEN, token.clone());
        }
        let timeout = self.inner.settings.request_timeout;
        match tokio::time::timeout(timeout, call(self.channel(), request)).await {
            Err(_) => {
                self.reset();
                Err(self.timeout_error(what))
            }
            Ok(Ok(response)) => Ok(response.into_inner()),
            Ok(Err(status)) => {
                if is_stale_token(&status) {
                    self.inner.auth.forget(token.as_ref());
                }
                Err(self.status_error(what, status))
            }
        }
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("hosts", &self.inner.hosts)
            .field("settings", &self.inner.settings)
            .field("auth", &self.inner.auth)
            .finish_non_exhaustive()
    }
}
