//! [`RateLimitLayer`]: one rule made into a limiter, and [`Limits`], every rule of a
//! `RateLimit:` section matched to the routes as the server builds them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http::Method;
use rzero_resilience::clock::SystemClock;
use rzero_stores::limit::{PeriodLimit, TokenLimit};
use rzero_stores::redis::RedisStore;
use tower::Layer;

use super::RateLimit;
use super::bucket::{KeyedBuckets, TokenBucket};
use super::config::{FailMode, LimitKind, RateLimitConf, RouteLimitConf};
use super::key::{KeyRule, KeySource};
use crate::respond::Refusals;

/// The limiter behind one route.
#[derive(Debug)]
pub(crate) enum Limiter {
    Local(TokenBucket<SystemClock>),
    Keyed(KeyedBuckets<SystemClock>),
    Token(TokenLimit),
    Period(PeriodLimit),
}

/// Limits requests to the services it wraps; clones share the limit.
#[derive(Clone, Debug)]
pub struct RateLimitLayer {
    pub(crate) shared: Arc<Shared>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) limiter: Limiter,
    /// `METHOD /path`: the Redis key and what the answer names.
    pub(crate) route: String,
    pub(crate) key_prefix: String,
    /// A bucket per key, or one for the route.
    pub(crate) key: Option<KeyRule>,
    pub(crate) fail: FailMode,
    pub(crate) store_timeout: Duration,
    pub(crate) refusals: Refusals,
    pub(crate) errors: LogThrottle,
    /// What the 429 says the limit is.
    pub(crate) describe: String,
}

impl RateLimitLayer {
    /// A local token bucket for `route`: `rate` a second, `burst` at most.
    pub fn local(route: &str, rate: u32, burst: u32, refusals: Refusals) -> Self {
        let conf = RouteLimitConf {
            path: route.into(),
            rate: rate.max(1),
            burst,
            ..Default::default()
        };
        Self::from_rule(&conf, route, &RateLimitConf::default(), None, refusals)
            .expect("a local limit without a key needs no store and cannot fail")
    }

    /// A `local` rule (keyed or not) for `route`, as the server builds it from config;
    /// the error names what to fix.
    pub fn local_rule(
        rule: &RouteLimitConf,
        route: &str,
        refusals: Refusals,
    ) -> Result<Self, String> {
        if rule.kind != LimitKind::Local {
            return Err(format!(
                "RateLimit rule for {route}: Kind {:?} needs the server's Redis; use Limits",
                rule.kind
            ));
        }
        rule.validate(0)?;
        Self::from_rule(rule, route, &RateLimitConf::default(), None, refusals)
    }

    /// Whether the limit reads the JWT's claims, and so runs after the token is checked.
    pub(crate) fn after_auth(&self) -> bool {
        matches!(
            self.shared.key,
            Some(KeyRule {
                source: KeySource::Claim(_),
                ..
            })
        )
    }

    fn from_rule(
        rule: &RouteLimitConf,
        route: &str,
        conf: &RateLimitConf,
        store: Option<&RedisStore>,
        refusals: Refusals,
    ) -> Result<Self, String> {
        let key = rule.key_rule(route)?;
        let per = key
            .as_ref()
            .map(|k| format!(", per {}", k.source.describe()))
            .unwrap_or_default();
        let need_store = || {
            store.cloned().ok_or_else(|| {
                format!(
                    "RateLimit rule for {route}: Kind {:?} keeps its limit in Redis; \
                     add RateLimit.Redis (Host) or use Kind local",
                    rule.kind
                )
            })
        };
        let (limiter, describe) = match rule.kind {
            LimitKind::Local if key.is_some() => (
                Limiter::Keyed(KeyedBuckets::new(
                    rule.rate,
                    rule.burst(),
                    rule.max_keys,
                    SystemClock::default(),
                )),
                format!("{}/s, burst {}{per}", rule.rate, rule.burst()),
            ),
            LimitKind::Local => (
                Limiter::Local(TokenBucket::new(
                    rule.rate,
                    rule.burst(),
                    SystemClock::default(),
                )),
                format!("{}/s, burst {}", rule.rate, rule.burst()),
            ),
            LimitKind::Token => (
                Limiter::Token(TokenLimit::new(rule.rate, rule.burst(), need_store()?)),
                format!(
                    "{}/s, burst {}{per}, across replicas",
                    rule.rate,
                    rule.burst()
                ),
            ),
            LimitKind::Period => (
                Limiter::Period(PeriodLimit::new(
                    rule.period,
                    rule.quota,
                    need_store()?,
                    // The call composes the whole key, KeyPrefix included (mod.rs).
                    "",
                )),
                format!("{} per {:?}{per}, across replicas", rule.quota, rule.period),
            ),
        };
        Ok(RateLimitLayer {
            shared: Arc::new(Shared {
                limiter,
                route: route.to_owned(),
                key_prefix: conf.key_prefix.clone(),
                key,
                fail: conf.on_store_error,
                store_timeout: conf.store_timeout,
                refusals,
                errors: LogThrottle::default(),
                describe,
            }),
        })
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimit {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// Every rule of a `RateLimit:` section, handed out to routes as the server builds them.
#[derive(Debug)]
pub(crate) struct Limits {
    conf: RateLimitConf,
    store: Option<RedisStore>,
    refusals: Refusals,
    used: Vec<bool>,
}

impl Limits {
    /// The rules of `conf`, with `store` for the shared ones (else one from
    /// `RateLimit.Redis`). Fails on a rule that cannot work.
    pub(crate) fn new(
        conf: &RateLimitConf,
        store: Option<RedisStore>,
        refusals: Refusals,
    ) -> Result<Self, String> {
        for (i, rule) in conf.routes.iter().enumerate() {
            rule.validate(i)?;
        }
        let store = match (store, &conf.redis) {
            (Some(s), _) => Some(s),
            (None, Some(redis)) => Some(
                RedisStore::lazy_with(redis, rzero_stores::Telemetry::global())
                    .map_err(|e| format!("RateLimit.Redis: {e}"))?,
            ),
            (None, None) => None,
        };
        let store = store.map(|s| s.with_timeout(conf.store_timeout));
        Ok(Limits {
            conf: conf.clone(),
            store,
            refusals,
            used: vec![false; conf.routes.len()],
        })
    }

    /// The limit of `method path` (`path` as axum writes it), if a rule names it.
    pub(crate) fn for_route(
        &mut self,
        method: &Method,
        path: &str,
        has_jwt: bool,
    ) -> Result<Option<RateLimitLayer>, String> {
        for (i, rule) in self.conf.routes.iter().enumerate() {
            let rule_path = crate::server::axum_path(&rule.path)?;
            let method_ok = rule
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()));
            if rule_path == path && method_ok {
                self.used[i] = true;
                let route = format!("{method} {path}");
                let layer = RateLimitLayer::from_rule(
                    rule,
                    &route,
                    &self.conf,
                    self.store.as_ref(),
                    self.refusals.clone(),
                )?;
                if layer.after_auth() && !has_jwt {
                    return Err(format!(
                        "RateLimit.Routes[{i}] ({route}) keys by a JWT claim, but the route's \
                         group has no jwt; add @server(jwt: Auth) or key by header or ip"
                    ));
                }
                return Ok(Some(layer));
            }
        }
        Ok(None)
    }

    /// Fails on a rule no route matched: a typo would otherwise leave a route unlimited.
    pub(crate) fn check_all_used(&self) -> Result<(), String> {
        match self.used.iter().position(|u| !u) {
            Some(i) => Err(format!(
                "RateLimit.Routes[{i}]: no route is served at {} {}; write the path as the \
                 route is declared, prefix included",
                self.conf.routes[i]
                    .method
                    .as_deref()
                    .unwrap_or("(any method)"),
                self.conf.routes[i].path
            )),
            None => Ok(()),
        }
    }
}

/// Logs a store error at most once every [`LOG_EVERY`], with how many it kept quiet.
#[derive(Debug, Default)]
pub(crate) struct LogThrottle {
    last: std::sync::Mutex<Option<Instant>>,
    quiet: AtomicU64,
}

/// The shortest time between two logs of a failing store.
pub(crate) const LOG_EVERY: Duration = Duration::from_secs(10);

impl LogThrottle {
    pub(crate) fn error(&self, route: &str, fail: FailMode, err: &dyn std::fmt::Display) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if last.is_some_and(|t| now.duration_since(t) < LOG_EVERY) {
            self.quiet.fetch_add(1, Ordering::Relaxed);
            return;
        }
        *last = Some(now);
        let quiet = self.quiet.swap(0, Ordering::Relaxed);
        let action = match fail {
            FailMode::Open => "requests pass unlimited (OnStoreError: open)",
            FailMode::Closed => "requests are refused with 503 (OnStoreError: closed)",
        };
        tracing::error!(
            route,
            errors_not_logged = quiet,
            "rate limit store failed: {err}; {action}"
        );
    }
}
