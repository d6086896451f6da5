//! `Balancer:` in a client's section: which algorithm spreads calls over endpoints.

use serde::{Deserialize, Serialize};

use super::ring::DEFAULT_REPLICAS;

/// `Balancer: {Kind, HashKey, Replicas}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct BalancerConf {
    /// `p2c_ewma` (default, go-zero's default: the less loaded of two random endpoints)
    /// or `consistent_hash` (the same request key always goes to the same endpoint,
    /// for caches local to a server).
    #[serde(default)]
    pub kind: BalancerKind,
    /// `consistent_hash`: the request metadata key whose value is hashed, e.g.
    /// `x-user-id`. A call may give its own key instead (a
    /// [`HashKey`](super::HashKey) in the request's extensions), which wins; a call
    /// with neither is balanced by P2C.
    #[serde(default)]
    pub hash_key: String,
    /// `consistent_hash`: virtual nodes per endpoint (default 100, go-zero's); more
    /// spread keys more evenly and cost more memory.
    #[serde(default = "default_replicas")]
    pub replicas: usize,
}

/// The balancing algorithm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BalancerKind {
    /// Power of two choices with EWMA latency.
    #[default]
    P2cEwma,
    /// Consistent hashing on a request key, with virtual nodes.
    ConsistentHash,
}

fn default_replicas() -> usize {
    DEFAULT_REPLICAS
}

impl Default for BalancerConf {
    fn default() -> Self {
        BalancerConf {
            kind: BalancerKind::default(),
            hash_key: String::new(),
            replicas: DEFAULT_REPLICAS,
        }
    }
}

impl BalancerConf {
    /// Checks the values together: a metadata key must be a valid header name, and the
    /// replica count stays bounded.
    pub fn validate(&self) -> Result<(), String> {
        if !self.hash_key.is_empty()
            && http::HeaderName::from_bytes(self.hash_key.as_bytes()).is_err()
        {
            return Err(format!(
                "Balancer.HashKey `{}` is not a valid metadata key (lowercase letters, digits, `-`, `_`, `.`)",
                self.hash_key
            ));
        }
        if !(1..=10_000).contains(&self.replicas) {
            return Err(format!(
                "Balancer.Replicas {} is out of range: expected 1 to 10000 (default 100)",
                self.replicas
            ));
        }
        Ok(())
    }
}
