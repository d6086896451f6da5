//! A Redis client from go-zero's `Redis:` section whose commands are CLIENT spans.
//!
//! `Type: node` uses redis-rs's `ConnectionManager` (one multiplexed connection that
//! reconnects by itself); `Type: cluster` its async cluster connection. With `NonBlock`
//! (the default, as in go-zero) the client is made without touching Redis, so a service
//! starts while Redis is down and the cache degrades to the database; otherwise start-up
//! pings within `PingTimeout` and fails as unavailable. Every command is bounded by
//! [`RedisStore::with_timeout`] (default 1 s): a hung Redis costs a request at most that.
//!
//! Every command also goes through an adaptive breaker (go-zero's redis client has one
//! too): while Redis is down, commands fail at once instead of each waiting out the
//! timeout, so the cache above steps aside and reads cost the database's time alone;
//! the breaker still lets a command through now and then (at least one a second), and
//! closes as those succeed, when Redis is back. Only "unavailable" failures (refused,
//! timed out, connection lost) count against it: a script error says nothing of Redis's
//! health.
//!
//! Spans carry `db.system.name=redis`, `db.operation.name` (the command), `db.namespace`
//! (the database index) and the server address; no keys and no values.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute as semconv;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{Client, ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo};
use rzero_conf::{RedisConf, RedisType};
use rzero_resilience::breaker::{BreakerConfig, SreBreaker};
use tokio::sync::OnceCell;

use crate::error::StoreError;
use crate::telemetry::Telemetry;

/// redis-rs's command builder and reply decoding, for [`RedisStore::query`].
pub use ::redis::{Cmd, FromRedisValue, cmd};

/// The default bound on one command, connecting included.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(1);

/// A traced Redis client; cheap to clone.
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Conn,
    address: String,
    port: u16,
    timeout: Duration,
    password: String,
    telemetry: Telemetry,
    /// Fails commands fast while Redis is down (see the module doc).
    breaker: SreBreaker,
}

enum Conn {
    Node(ConnectionManager),
    /// Made on first use, so that a cluster that is down at start does not stop start-up.
    Cluster(Box<Cluster>),
}

struct Cluster {
    client: redis::cluster::ClusterClient,
    conn: OnceCell<ClusterConnection>,
}

// === impl RedisStore ===

impl RedisStore {
    /// A client for `conf` reporting to the global telemetry.
    pub async fn connect(conf: &RedisConf) -> Result<Self, StoreError> {
        Self::connect_with(conf, Telemetry::global()).await
    }

    /// A client for `conf` reporting to `telemetry`. Pings first unless `NonBlock`.
    pub async fn connect_with(conf: &RedisConf, telemetry: Telemetry) -> Result<Self, StoreError> {
        let store = Self::lazy_with(conf, telemetry)?;
        if !conf.non_block {
            store.ping().await?;
        }
        Ok(store)
    }

    /// A client for `conf` that connects on its first command, whatever `NonBlock` says:
    /// for code that builds its clients outside async code (a server's middleware stack).
    /// Only a config error (a bad `Host`, an unreadable `TlsCaFile`) fails here.
    pub fn lazy_with(conf: &RedisConf, telemetry: Telemetry) -> Result<Self, StoreError> {
        let tls = tls_certificates(conf)?;
        let seeds: Vec<&str> = conf
            .host
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        let Some(first) = seeds.first() else {
            return Err(StoreError::Config(
                "Redis.Host is empty: expected `host:port` (comma-separated seeds for a cluster)"
                    .into(),
            ));
        };
        let (address, port) = split(first)?;
        let conn = match conf.kind {
            RedisType::Node => Conn::Node(node(conf, &address, port, tls)?),
            RedisType::Cluster => {
                let mut b = ClusterClientBuilder::new(
                    seeds
                        .iter()
                        .map(|s| split(s).map(|(h, p)| ConnectionAddr::Tcp(h, p)))
                        .collect::<Result<Vec<_>, _>>()?,
                )
                .connection_timeout(conf.ping_timeout)
                .response_timeout(DEFAULT_COMMAND_TIMEOUT)
                .retries(1);
                if !conf.user.is_empty() {
                    b = b.username(&conf.user);
                }
                if !conf.pass.expose().is_empty() {
                    b = b.password(conf.pass.expose());
                }
                if let Some(certs) = tls {
                    b = b.tls(redis::TlsMode::Secure).certs(certs);
                }
                let client = b.build().map_err(|e| config_error(e, conf))?;
                Conn::Cluster(Box::new(Cluster {
                    client,
                    conn: OnceCell::new(),
                }))
            }
        };
        Ok(RedisStore {
            inner: Arc::new(Inner {
                conn,
                address,
                port,
                timeout: DEFAULT_COMMAND_TIMEOUT.max(conf.ping_timeout),
                password: conf.pass.expose().to_owned(),
                telemetry,
                breaker: SreBreaker::new(BreakerConfig::default()),
            }),
        })
    }

    /// The bound on each command (see [`RedisStore::with_timeout`]).
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The same client with each command bounded by `timeout`.
    pub fn with_timeout(self, timeout: Duration) -> Self {
        match Arc::try_unwrap(self.inner) {
            Ok(mut inner) => {
                inner.timeout = timeout;
                RedisStore {
                    inner: Arc::new(inner),
                }
            }
            // Shared already: clones keep the timeout they had.
            Err(inner) => RedisStore { inner },
        }
    }

    /// Runs `cmd` as one traced command.
    pub async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T, StoreError> {
        let name = cmd
            .args_iter()
            .next()
            .and_then(|a| match a {
                redis::Arg::Simple(b) => std::str::from_utf8(b).ok(),
                _ => None,
            })
            .map(str::to_ascii_uppercase)
            .unwrap_or_else(|| "redis".to_owned());
        let inner = &*self.inner;
        let Ok(promise) = inner.breaker.allow() else {
            return Err(StoreError::Unavailable(format!(
                "redis at {}:{}: not tried, its recent commands failed (circuit breaker \
                 open; it lets a command through now and then and closes once Redis \
                 answers); is it up? (Redis.Host)",
                inner.address, inner.port
            )));
        };
        let attrs = vec![
            KeyValue::new(semconv::DB_SYSTEM_NAME, "redis"),
            KeyValue::new(semconv::DB_OPERATION_NAME, name.clone()),
            KeyValue::new(semconv::DB_NAMESPACE, "0"),
            KeyValue::new(semconv::SERVER_ADDRESS, inner.address.clone()),
            KeyValue::new(semconv::SERVER_PORT, i64::from(inner.port)),
        ];
        let op = inner.telemetry.start(name, attrs, []);
        let result = match tokio::time::timeout(inner.timeout, self.run(cmd)).await {
            Ok(r) => r.map_err(|e| match StoreError::from(e).scrub(&inner.password) {
                StoreError::Unavailable(m) => StoreError::Unavailable(format!(
                    "redis at {}:{}: {m}; is it up? (Redis.Host)",
                    inner.address, inner.port
                )),
                e => e,
            }),
            Err(_) => Err(StoreError::Unavailable(format!(
                "redis at {}:{} did not answer within {:?}",
                inner.address, inner.port, inner.timeout
            ))),
        };
        op.end(result.as_ref().err());
        match &result {
            Err(StoreError::Unavailable(_)) => promise.reject(),
            _ => promise.accept(),
        }
        result
    }

    async fn run<T: FromRedisValue>(&self, cmd: &Cmd) -> redis::RedisResult<T> {
        match &self.inner.conn {
            Conn::Node(m) => cmd.query_async(&mut m.clone()).await,
            Conn::Cluster(cluster) => {
                let c = cluster
                    .conn
                    .get_or_try_init(|| cluster.client.get_async_connection())
                    .await?;
                cmd.query_async(&mut c.clone()).await
            }
        }
    }

    /// `PING`: is Redis there?
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.query::<String>(&redis::cmd("PING")).await.map(drop)
    }

    /// `GET key`.
    pub async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.query(redis::cmd("GET").arg(key)).await
    }

    /// `SET key value PX ttl`.
    pub async fn set_ex(&self, key: &str, value: &str, ttl: Duration) -> Result<(), StoreError> {
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        self.query(redis::cmd("SET").arg(key).arg(value).arg("PX").arg(ms))
            .await
    }

    /// `DEL keys...`; how many existed.
    pub async fn del(&self, keys: &[&str]) -> Result<u64, StoreError> {
        if keys.is_empty() {
            return Ok(0);
        }
        self.query(redis::cmd("DEL").arg(keys)).await
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("address", &self.inner.address)
            .field("port", &self.inner.port)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

/// `Some` when `Tls` is on: the CA to trust (`TlsCaFile`) or none (the system's store).
/// Also makes sure rustls has its crypto provider (ring, as the rest of rzero).
fn tls_certificates(conf: &RedisConf) -> Result<Option<redis::TlsCertificates>, StoreError> {
    if !conf.tls {
        return Ok(None);
    }
    // Already installed (by us or the application) is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let root_cert = if conf.tls_ca_file.is_empty() {
        None
    } else {
        Some(std::fs::read(&conf.tls_ca_file).map_err(|e| {
            StoreError::Config(format!(
                "Redis.TlsCaFile `{}` cannot be read: {e}; give a PEM file of the CA",
                conf.tls_ca_file
            ))
        })?)
    };
    Ok(Some(redis::TlsCertificates {
        client_tls: None,
        root_cert,
    }))
}

fn node(
    conf: &RedisConf,
    address: &str,
    port: u16,
    tls: Option<redis::TlsCertificates>,
) -> Result<ConnectionManager, StoreError> {
    let mut redis = RedisConnectionInfo::default();
    if !conf.user.is_empty() {
        redis = redis.set_username(&conf.user);
    }
    if !conf.pass.expose().is_empty() {
        redis = redis.set_password(conf.pass.expose());
    }
    let addr = match tls {
        None => ConnectionAddr::Tcp(address.to_owned(), port),
        Some(_) => ConnectionAddr::TcpTls {
            host: address.to_owned(),
            port,
            insecure: false,
            tls_params: None,
        },
    };
    let info = addr
        .into_connection_info()
        .map_err(|e| config_error(e, conf))?
        .set_redis_settings(redis);
    let client = match tls {
        None => Client::open(info),
        Some(certs) => Client::build_with_tls(info, certs),
    }
    .map_err(|e| config_error(e, conf))?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(conf.ping_timeout))
        .set_response_timeout(Some(DEFAULT_COMMAND_TIMEOUT))
        // One quick retry: a request must not wait through a reconnect back-off; the
        // next request tries again.
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(100));
    ConnectionManager::new_lazy_with_config(client, config).map_err(|e| config_error(e, conf))
}

fn config_error(e: redis::RedisError, conf: &RedisConf) -> StoreError {
    StoreError::Config(format!("Redis: {e}")).scrub(conf.pass.expose())
}

fn split(hostport: &str) -> Result<(String, u16), StoreError> {
    match hostport.rsplit_once(':') {
        Some((h, p)) => p.parse().map(|p| (h.to_owned(), p)).map_err(|_| {
            StoreError::Config(format!(
                "Redis.Host `{hostport}`: port `{p}` is not a number"
            ))
        }),
        None => Ok((hostport.to_owned(), 6379)),
    }
}
