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
//!       Key: header:X-Api-Key         # a bucket per value (or ip, claim:userId);
//!       MissingKey: ip                # none: one bucket per route
//!     - Path: /api/v1/orders/:order_id
//!       Kind: period
//!       Period: 60s
//!       Quota: 600
//! ```

use std::time::Duration;

use rzero_conf::RedisConf;
use serde::{Deserialize, Serialize};

use super::key::{KeyRule, KeySource};

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
    /// A limit per key instead of one per route: `header:<Name>` (an API key, a tenant),
    /// `ip` (the client's address; IPv6 by /64) or `claim:<name>` (a claim of the route's
    /// JWT; the limit then runs after the token is checked). Values longer than 64 bytes
    /// are hashed. The 429, the span and the metrics name the source, never a value.
    #[serde(default)]
    pub key: Option<String>,
    /// Shorthand for `Key: header:<Name>` (set one of the two).
    #[serde(default)]
    pub key_header: Option<String>,
    /// What a request without the key takes from: `shared` (one bucket for all of them,
    /// the default) or `ip` (a bucket per client address).
    #[serde(default)]
    pub missing_key: MissingKey,
    /// Keys with a bucket of their own at most, for a `local` keyed limit (default
    /// 10000); more keys share one bucket. (Redis keys of `token` and `period` limits
    /// expire by themselves.)
    #[serde(default = "default_max_keys")]
    pub max_keys: usize,
}

impl Default for RouteLimitConf {
    fn default() -> Self {
        RouteLimitConf {
            path: String::new(),
            method: None,
            kind: LimitKind::Local,
            rate: 0,
            burst: 0,
            period: Duration::ZERO,
            quota: 0,
            key: None,
            key_header: None,
            missing_key: MissingKey::Shared,
            max_keys: default_max_keys(),
        }
    }
}

/// What a request without a keyed rule's key takes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MissingKey {
    /// One bucket shared by every request without the key.
    #[default]
    Shared,
    /// A bucket per client address.
    Ip,
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
            _ if self.key.is_some() && self.key_header.is_some() => Err(format!(
                "{rule}: set Key or KeyHeader, not both (KeyHeader: X is Key: header:X)"
            )),
            _ => Ok(()),
        }
    }

    /// The rule's key, if it has one; the error names the rule.
    pub(crate) fn key_rule(&self, at: &str) -> Result<Option<KeyRule>, String> {
        let source = match (&self.key, &self.key_header) {
            (Some(k), _) => KeySource::parse(k),
            (None, Some(h)) => KeySource::parse(&format!("header:{h}")),
            (None, None) => return Ok(None),
        };
        source
            .map(|source| {
                Some(KeyRule {
                    source,
                    missing: self.missing_key,
                })
            })
            .map_err(|e| format!("RateLimit rule for {at}: {e}"))
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
