//! `RateLimit:` in `RestConf`. goctl's `@server` has no rate-limit key, so limits are
//! config only: a rule per route, matched by the route's path as declared.
//!
//! ```yaml
//! RateLimit:
//!   Redis: { Host: 127.0.0.1:6379 }   # for Kind token / period, shared by replicas
//!   OnStoreError: open                # or closed: 503 while Redis fails
//!   Routes:
//!     - Path: /api/v1/orders
//!       Method: POST
//!       Kind: local                   # local | token | period
//!       Rate: 100                     # tokens a second (local, token)
//!       Burst: 200
//!       KeyHeader: X-Api-Key          # a bucket per value; none: one per route
//!     - Path: /api/v1/orders/:order_id
//!       Kind: period
//!       Period: 60s
//!       Quota: 600
//! ```

use std::time::Duration;

use rzero_conf::RedisConf;
use serde::{Deserialize, Serialize};

/// The rate limits of a gateway; none by default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RateLimitConf {
    /// The Redis that keeps `token` and `period` limits, shared by every replica.
    #[serde(default)]
    pub redis: Option<RedisConf>,
    /// Prefix of every key the limits write to Redis (default `rzero:limit:`).
    #[serde(default = "default_prefix")]
    pub key_prefix: String,
    /// Bound on one Redis round trip of a limit, connecting included (default 100 ms):
    /// a slow Redis costs a request at most this, then `OnStoreError` decides.
    #[serde(default = "default_store_timeout", with = "rzero_conf::duration")]
    pub store_timeout: Duration,
    /// What a request gets when Redis fails: `open` lets it through (default: the limit
    /// protects, Redis must not become the outage), `closed` answers 503.
    #[serde(default)]
    pub on_store_error: FailMode,
    /// One rule per route (and method).
    #[serde(default)]
    pub routes: Vec<RouteLimitConf>,
}

impl Default for RateLimitConf {
    fn default() -> Self {
        RateLimitConf {
            redis: None,
            key_prefix: default_prefix(),
            store_timeout: default_store_timeout(),
            on_store_error: FailMode::Open,
            routes: Vec::new(),
        }
    }
}

/// What to do when the shared store fails.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailMode {
    /// Let the request through.
    #[default]
    Open,
    /// Answer 503.
    Closed,
}

/// Which limiter a rule uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LimitKind {
    /// A token bucket in this process: each replica allows `Rate` on its own.
    #[default]
    Local,
    /// go-zero's `TokenLimiter`: one bucket in Redis for every replica.
    Token,
    /// go-zero's `PeriodLimit`: `Quota` per `Period` in Redis for every replica.
    Period,
}

/// The limit of one route.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RouteLimitConf {
    /// The route's full path as declared, prefix included (`/api/v1/orders/:order_id`).
    pub path: String,
    /// Only this method (default: every method served at `Path`).
    #[serde(default)]
    pub method: Option<String>,
    /// The limiter (default `local`).
    #[serde(default)]
    pub kind: LimitKind,
    /// Tokens a second (`local`, `token`).
    #[serde(default)]
    pub rate: u32,
    /// Tokens saved up at most (`local`, `token`; default `Rate`).
    #[serde(default)]
    pub burst: u32,
    /// The window of a `period` limit (whole seconds).
    #[serde(default, with = "rzero_conf::duration")]
    pub period: Duration,
    /// Requests per window of a `period` limit.
    #[serde(default)]
    pub quota: u64,
    /// A limit per value of this request header (an API key, a user id); requests
    /// without it share the route's one bucket.
    #[serde(default)]
    pub key_header: Option<String>,
    /// Keys with a bucket of their own at most, for a `local` keyed limit (default
    /// 10000); more keys share one bucket.
    #[serde(default = "default_max_keys")]
    pub max_keys: usize,
}

impl RouteLimitConf {
    /// Checks the keys `kind` needs; the error names the rule and what to set.
    pub(crate) fn validate(&self, at: usize) -> Result<(), String> {
        let rule = format!("RateLimit.Routes[{at}] ({})", self.path);
        match self.kind {
            LimitKind::Local | LimitKind::Token if self.rate == 0 => {
                Err(format!("{rule}: Rate must be above 0 (tokens a second)"))
            }
            LimitKind::Period if self.quota == 0 || self.period.as_secs() == 0 => Err(format!(
                "{rule}: Kind period needs Quota above 0 and a Period of at least 1s"
            )),
            _ => Ok(()),
        }
    }

    /// `Burst`, or `Rate` when unset.
    pub(crate) fn burst(&self) -> u32 {
        if self.burst == 0 {
            self.rate
        } else {
            self.burst
        }
    }
}

fn default_prefix() -> String {
    "rzero:limit:".into()
}
fn default_store_timeout() -> Duration {
    Duration::from_millis(100)
}
fn default_max_keys() -> usize {
    10_000
}
