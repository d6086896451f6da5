//! etcd auth: `Authenticate` with `Etcd.User`/`Pass`, the token kept for every call, and
//! fetched again when etcd says it is stale (etcd's simple tokens expire after 5 minutes
//! unused, `--auth-token-ttl`; any token goes stale when users or roles change).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use rzero_conf::EtcdConf;
use tonic::metadata::AsciiMetadataValue;
use tonic::{Request, Status};

use super::pb::AuthenticateRequest;
use super::pb::auth_client::AuthClient;
use super::{Client, EtcdError};

/// The credentials and the token of one client.
pub(super) struct Auth {
    /// `Etcd.User` and `Etcd.Pass`, when auth is on.
    credentials: Option<(String, String)>,
    token: Mutex<Option<AsciiMetadataValue>>,
    /// One `Authenticate` at a time: a burst of calls with an expired token shares it.
    authenticating: tokio::sync::Mutex<()>,
    authentications: AtomicU64,
}

/// etcd's answers to a token it no longer knows: expired (`invalid auth token`), or
/// issued before a change of users or roles (`revision of auth store is old`).
pub(super) fn is_stale_token(status: &Status) -> bool {
    status.code() == tonic::Code::Unauthenticated
        || status.message().contains("invalid auth token")
        || status.message().contains("auth store is old")
}

impl Auth {
    pub(super) fn new(conf: &EtcdConf) -> Auth {
        Auth {
            credentials: (!conf.user.is_empty())
                .then(|| (conf.user.clone(), conf.pass.expose().to_owned())),
            token: Mutex::new(None),
            authenticating: tokio::sync::Mutex::new(()),
            authentications: AtomicU64::new(0),
        }
    }

    #[cfg(test)]
    pub(super) fn authentications(&self) -> u64 {
        self.authentications.load(Ordering::Relaxed)
    }

    fn cached(&self) -> Option<AsciiMetadataValue> {
        self.token.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Forgets `stale` unless another call already replaced it; `None`: whatever the
    /// token is.
    pub(super) fn forget(&self, stale: Option<&AsciiMetadataValue>) {
        let mut token = self.token.lock().unwrap_or_else(|p| p.into_inner());
        if stale.is_none() || token.as_ref() == stale {
            *token = None;
        }
    }

    /// The token to send: none without `Etcd.User`, else the cached one, else a new one
    /// from `client`'s cluster, within `RequestTimeout`.
    pub(super) async fn token(
        &self,
        client: &Client,
    ) -> Result<Option<AsciiMetadataValue>, EtcdError> {
        let Some((user, pass)) = &self.credentials else {
            return Ok(None);
        };
        if let Some(token) = self.cached() {
            return Ok(Some(token));
        }
        let _one_at_a_time = self.authenticating.lock().await;
        if let Some(token) = self.cached() {
            return Ok(Some(token));
        }
        let timeout = client.settings().request_timeout;
        let mut request = Request::new(AuthenticateRequest {
            name: user.clone(),
            password: pass.clone(),
        });
        request.set_timeout(timeout);
        let mut auth = AuthClient::new(client.channel());
        let status = match tokio::time::timeout(timeout, auth.authenticate(request)).await {
            Err(_) => {
                client.reset();
                return Err(client.timeout_error("authenticate"));
            }
            Ok(Ok(answer)) => {
                self.authentications.fetch_add(1, Ordering::Relaxed);
                let token =
                    AsciiMetadataValue::try_from(answer.into_inner().token).map_err(|_| {
                        let odd = Status::internal("etcd sent a token that is not ASCII");
                        client.status_error("authenticate", odd)
                    })?;
                *self.token.lock().unwrap_or_else(|p| p.into_inner()) = Some(token.clone());
                return Ok(Some(token));
            }
            Ok(Err(status)) if super::client::is_deadline(&status) => {
                client.reset();
                return Err(client.timeout_error("authenticate"));
            }
            Ok(Err(status)) => status,
        };
        use tonic::Code;
        Err(match status.code() {
            Code::InvalidArgument
            | Code::FailedPrecondition
            | Code::Unauthenticated
            | Code::PermissionDenied => EtcdError::Auth {
                hosts: client.hosts().to_owned(),
                user: user.clone(),
                status,
            },
            _ => client.status_error("authenticate", status),
        })
    }
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .finish_non_exhaustive()
    }
}
