//! go-zero's config center (`core/configcenter` with its etcd subscriber) in Rust: a
//! typed config value that follows one etcd key, checks each revision, keeps the last
//! good one, and tells subscribers.
//!
//! Each revision of the key is read as a config file is (YAML, so JSON too, with
//! rzero-conf's [`Loader`]: errors with line and column, unknown keys refused, `${VAR}`
//! expanded from the process environment), then through the optional
//! [`validate`](ConfigValueBuilder::validate) hook. A good revision replaces the value
//! and wakes the subscribers of [`ConfigValue::subscribe`]; a bad one (or the key
//! deleted) is logged at error level and published on [`ConfigValue::rejections`],
//! and the last good value stays. As go-zero's `NewConfigCenter`, start fails when the
//! key is missing or its first value is bad: a service should not start on no config.
//!
//! It lives in rzero-rpc, beside the etcd client it shares with discovery (same
//! deadlines, auth, TLS and watchdog), and reads the same `Etcd:` section: `Key` is the
//! exact key watched (go-zero's `WithExactMatch`), not a prefix.
//!
//! ```no_run
//! # async fn run() -> Result<(), rzero_rpc::configcenter::ConfigError> {
//! use rzero_rpc::configcenter::ConfigValue;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, Deserialize, Serialize)]
//! struct Limits {
//!     #[serde(rename = "MaxOrders")]
//!     max_orders: u32,
//! }
//!
//! let etcd = rzero_conf::EtcdConf {
//!     hosts: vec!["127.0.0.1:2379".into()],
//!     key: "order-api/limits".into(),
//!     ..Default::default()
//! };
//! let limits = ConfigValue::<Limits>::builder(&etcd)
//!     .validate(|l| if l.max_orders == 0 { Err("MaxOrders: must be > 0".into()) } else { Ok(()) })
//!     .start()
//!     .await?;
//! println!("now {}", limits.get().max_orders);
//! let mut changes = limits.subscribe();
//! while changes.changed().await.is_ok() {
//!     println!("revision {}: {}", changes.borrow().revision, changes.borrow().value.max_orders);
//! }
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::Duration;

use rzero_conf::{EtcdConf, Loader};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::watch;

use crate::discovery::etcd::pb::event::EventType;
use crate::discovery::etcd::pb::{KeyValue, RangeRequest};
use crate::discovery::etcd::{Client, EtcdError, WatchStats, watch_from};

/// Pause before the watch starts over after a failure.
const RETRY: Duration = Duration::from_secs(1);

type Check<T> = Box<dyn Fn(&T) -> Result<(), String> + Send + Sync>;

/// A config value that follows an etcd key. Its background watch stops when this and
/// every subscriber are dropped.
#[derive(Debug)]
pub struct ConfigValue<T> {
    key: String,
    value: watch::Receiver<Snapshot<T>>,
    rejected: watch::Receiver<Option<Rejected>>,
}

/// The value in effect and the etcd revision it came from.
#[derive(Debug)]
pub struct Snapshot<T> {
    /// The value.
    pub value: Arc<T>,
    /// The key's `mod_revision` that held it.
    pub revision: i64,
}

/// A revision that was not taken, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// The revision (of the put, or of the delete).
    pub revision: i64,
    /// What was wrong, with the line and column for a parse error.
    pub reason: String,
}

/// How to start a [`ConfigValue`].
pub struct ConfigValueBuilder<T> {
    conf: EtcdConf,
    loader: Loader,
    check: Option<Check<T>>,
}

/// Why a config value could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `Etcd` is incomplete.
    #[error("{0}")]
    Config(String),
    /// etcd could not be read.
    #[error(transparent)]
    Etcd(#[from] EtcdError),
    /// The key is not in etcd.
    #[error("config center: key `{key}` is not in etcd at {hosts}: put the config there first")]
    Missing {
        /// `Etcd.Key`.
        key: String,
        /// `Etcd.Hosts`, joined.
        hosts: String,
    },
    /// The key's value is not a valid config.
    #[error("config center: key `{key}` (revision {revision}) is not a valid config: {reason}")]
    Invalid {
        /// `Etcd.Key`.
        key: String,
        /// Its revision.
        revision: i64,
        /// What is wrong.
        reason: String,
    },
}

/// Turns a revision's bytes into a checked `T`.
struct Parser<T> {
    key: String,
    loader: Loader,
    check: Option<Check<T>>,
}

/// The follower's state: what is in effect, what was seen last.
struct Follower<T> {
    client: Client,
    parser: Parser<T>,
    value: watch::Sender<Snapshot<T>>,
    rejected: watch::Sender<Option<Rejected>>,
    /// The newest revision looked at, good or bad: a resync does not judge it twice.
    seen: i64,
    deleted: bool,
}

// === impl ConfigValue ===

impl<T> ConfigValue<T>
where
    T: DeserializeOwned + Serialize + Send + Sync + 'static,
{
    /// A builder for a value following `conf.key` in the etcd of `conf.hosts`.
    pub fn builder(conf: &EtcdConf) -> ConfigValueBuilder<T> {
        ConfigValueBuilder {
            conf: conf.clone(),
            loader: Loader::new(),
            check: None,
        }
    }

    /// The value in effect now.
    pub fn get(&self) -> Arc<T> {
        self.value.borrow().value.clone()
    }

    /// The revision of the value in effect.
    pub fn revision(&self) -> i64 {
        self.value.borrow().revision
    }

    /// The etcd key followed.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The value as it changes: `changed()` wakes on each good revision after this call.
    pub fn subscribe(&self) -> watch::Receiver<Snapshot<T>> {
        let mut rx = self.value.clone();
        rx.mark_unchanged();
        rx
    }

    /// The newest revision's rejection, if the newest revision was rejected (`None`
    /// again once a good one follows).
    pub fn rejections(&self) -> watch::Receiver<Option<Rejected>> {
        let mut rx = self.rejected.clone();
        rx.mark_unchanged();
        rx
    }
}

// === impl Snapshot ===

impl<T> Clone for Snapshot<T> {
    fn clone(&self) -> Self {
        Snapshot {
            value: self.value.clone(),
            revision: self.revision,
        }
    }
}

// === impl ConfigValueBuilder ===

impl<T> ConfigValueBuilder<T>
where
    T: DeserializeOwned + Serialize + Send + Sync + 'static,
{
    /// Checks each revision after parsing; an `Err` rejects it with that message.
    pub fn validate(
        mut self,
        check: impl Fn(&T) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.check = Some(Box::new(check));
        self
    }

    /// Parses with `loader` (e.g. one with its own `${VAR}` lookup) instead of
    /// `Loader::new()`.
    pub fn loader(mut self, loader: Loader) -> Self {
        self.loader = loader;
        self
    }

    /// Reads the key, checks its value, and starts following it. Fails when etcd cannot
    /// be read, the key is missing, or its value is not a valid config.
    pub async fn start(self) -> Result<ConfigValue<T>, ConfigError> {
        self.conf.validate().map_err(ConfigError::Config)?;
        let client = Client::new(&self.conf)?;
        let parser = Parser {
            key: self.conf.key.clone(),
            loader: self.loader,
            check: self.check,
        };
        let range = client.range(exact(&parser.key)).await?;
        let header = range.header.map(|h| h.revision).unwrap_or(0);
        let Some(kv) = range.kvs.into_iter().next() else {
            return Err(ConfigError::Missing {
                key: parser.key,
                hosts: client.hosts().to_owned(),
            });
        };
        let first =
            parser
                .parse(kv.mod_revision, &kv.value)
                .map_err(|reason| ConfigError::Invalid {
                    key: parser.key.clone(),
                    revision: kv.mod_revision,
                    reason,
                })?;
        tracing::info!(key = %parser.key, revision = kv.mod_revision, "config center: config loaded");
        let (value, value_rx) = watch::channel(Snapshot {
            value: Arc::new(first),
            revision: kv.mod_revision,
        });
        let (rejected, rejected_rx) = watch::channel(None);
        let follower = Follower {
            client,
            parser,
            value,
            rejected,
            seen: kv.mod_revision,
            deleted: false,
        };
        tokio::spawn(follower.run(header + 1));
        Ok(ConfigValue {
            key: self.conf.key,
            value: value_rx,
            rejected: rejected_rx,
        })
    }
}

impl<T> std::fmt::Debug for ConfigValueBuilder<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigValueBuilder")
            .field("conf", &self.conf)
            .field("validate", &self.check.is_some())
            .finish_non_exhaustive()
    }
}

fn exact(key: &str) -> RangeRequest {
    RangeRequest {
        key: key.as_bytes().to_vec(),
        ..RangeRequest::default()
    }
}

// === impl Parser ===

impl<T: DeserializeOwned + Serialize> Parser<T> {
    fn parse(&self, revision: i64, bytes: &[u8]) -> Result<T, String> {
        let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 text: {e}"))?;
        let source = format!("etcd:{}@{revision}", self.key);
        let value: T = self
            .loader
            .load_str(&source, text)
            .map_err(|e| e.to_string())?;
        if let Some(check) = &self.check {
            check(&value).map_err(|why| format!("{source}: {why}"))?;
        }
        Ok(value)
    }
}

// === impl Follower ===

impl<T> Follower<T>
where
    T: DeserializeOwned + Serialize + Send + Sync + 'static,
{
    /// Watches from `start`; after a failure reads the key again and watches on, until
    /// nobody holds the value.
    async fn run(mut self, mut start: i64) {
        let stats = WatchStats::default();
        let key = self.parser.key.clone().into_bytes();
        loop {
            let client = self.client.clone();
            let value = self.value.clone();
            let failed = tokio::select! {
                e = watch_from(&client, &key, &[], start, &stats, |events, _| {
                    for event in events {
                        let Some(kv) = event.kv else { continue };
                        if event.r#type == EventType::Delete as i32 {
                            self.on_delete(kv.mod_revision);
                        } else {
                            self.on_put(&kv);
                        }
                    }
                }) => e,
                () = value.closed() => return,
            };
            tracing::warn!(key = %self.parser.key, "config center: {failed}; keeping revision {}", self.value.borrow().revision);
            client.reset();
            loop {
                tokio::select! {
                    () = tokio::time::sleep(RETRY) => {}
                    () = value.closed() => return,
                }
                match client.range(exact(&self.parser.key)).await {
                    Ok(range) => {
                        match range.kvs.first() {
                            Some(kv) => self.on_put(kv),
                            None => {
                                let revision =
                                    range.header.as_ref().map(|h| h.revision).unwrap_or(0);
                                self.on_delete(revision);
                            }
                        }
                        start = range.header.map(|h| h.revision).unwrap_or(0) + 1;
                        break;
                    }
                    Err(e) => tracing::warn!(key = %self.parser.key, "config center: {e}"),
                }
            }
        }
    }

    fn on_put(&mut self, kv: &KeyValue) {
        if kv.mod_revision <= self.seen {
            return;
        }
        self.seen = kv.mod_revision;
        self.deleted = false;
        let key = &self.parser.key;
        match self.parser.parse(kv.mod_revision, &kv.value) {
            Ok(value) => {
                tracing::info!(%key, revision = kv.mod_revision, "config center: new config in effect");
                self.value.send_replace(Snapshot {
                    value: Arc::new(value),
                    revision: kv.mod_revision,
                });
                self.rejected.send_replace(None);
            }
            Err(reason) => self.reject(kv.mod_revision, reason),
        }
    }

    fn on_delete(&mut self, revision: i64) {
        if self.deleted {
            return;
        }
        self.deleted = true;
        self.seen = self.seen.max(revision);
        self.reject(revision, "the key was deleted".into());
    }

    fn reject(&self, revision: i64, reason: String) {
        tracing::error!(
            key = %self.parser.key,
            revision,
            "config center: revision rejected, keeping revision {}: {reason}",
            self.value.borrow().revision
        );
        self.rejected
            .send_replace(Some(Rejected { revision, reason }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, Serialize)]
    struct Limits {
        #[serde(rename = "MaxOrders")]
        max_orders: u32,
    }

    fn parser() -> Parser<Limits> {
        Parser {
            key: "app/limits".into(),
            loader: Loader::new().env(|_| None),
            check: Some(Box::new(|l: &Limits| match l.max_orders {
                0 => Err("MaxOrders: must be more than 0".into()),
                _ => Ok(()),
            })),
        }
    }

    #[test]
    fn each_revision_is_read_as_a_config_file() {
        let p = parser();
        assert_eq!(p.parse(3, b"MaxOrders: 7\n").map(|l| l.max_orders), Ok(7));
        assert_eq!(
            p.parse(3, br#"{"MaxOrders": 8}"#).map(|l| l.max_orders),
            Ok(8)
        );
        let bad = |bytes: &[u8]| p.parse(4, bytes).err().unwrap_or_default();
        assert!(
            bad(b"\xff\xfe").starts_with("not UTF-8 text"),
            "{}",
            bad(b"\xff\xfe")
        );
        assert!(bad(b"").contains("empty"), "{}", bad(b""));
        let e = bad(b"MaxOrders: 7\nMaxOrders: 8\n");
        assert!(
            e.starts_with("etcd:app/limits@4:2:1: duplicate key `MaxOrders`"),
            "{e}"
        );
        let e = bad(b"MaxOrders: -1\n");
        assert!(e.starts_with("etcd:app/limits@4:1:12: MaxOrders"), "{e}");
        assert_eq!(
            bad(b"MaxOrders: 0\n"),
            "etcd:app/limits@4: MaxOrders: must be more than 0"
        );
        assert!(bad(b"MaxOrders: ${UNSET}\n").contains("UNSET"));
    }
}
