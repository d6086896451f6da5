//! Tail-sampling policies: what `--tail-sampling FILE` reads, and how a finished trace is
//! judged. Policies are tried in order; the first that keeps the trace names the
//! decision; a trace no policy keeps is dropped.
//!
//! ```yaml
//! decision_wait: 5s        # how long a trace is held after its first span
//! max_traces: 50000        # traces held at once (the oldest is decided early beyond)
//! max_bytes: 67108864      # bytes held at once (likewise)
//! decision_cache: 100000   # decided trace ids remembered, so late spans follow
//! policies:
//!   - { name: errors, type: errors }
//!   - { name: slow, type: latency, threshold: 500ms, operations: { "GET /api/v1/orders/:order_id": 100ms } }
//!   - { name: checkout, type: attribute, key: http.route, values: [/api/v1/orders] }
//!   - { name: capped, type: rate_limit, traces_per_second: 100 }
//!   - { name: rest, type: ratio, ratio: 0.1 }
//! ```

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use serde::Deserialize;

use super::Held;
use crate::jaeger::go_duration;

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    decision_wait: Option<String>,
    #[serde(default)]
    max_traces: Option<usize>,
    #[serde(default)]
    max_bytes: Option<usize>,
    #[serde(default)]
    decision_cache: Option<usize>,
    policies: Vec<PolicyFile>,
}

#[derive(Debug, Deserialize)]
struct PolicyFile {
    #[serde(default)]
    name: Option<String>,
    #[serde(flatten)]
    kind: KindFile,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum KindFile {
    Errors,
    Latency {
        threshold: String,
        #[serde(default)]
        operations: BTreeMap<String, String>,
    },
    Attribute {
        key: String,
        values: Vec<String>,
    },
    Ratio {
        ratio: f64,
    },
    RateLimit {
        traces_per_second: u32,
    },
}

/// Tail sampling, configured.
#[derive(Clone, Debug)]
pub struct TailConfig {
    /// How long a trace is held after its first span arrived before it is judged.
    pub decision_wait: Duration,
    /// Traces held at once; beyond, the oldest is judged early.
    pub max_traces: usize,
    /// Estimated bytes held at once; beyond, the oldest trace is judged early.
    pub max_bytes: usize,
    /// Decided trace ids remembered, so that a late span follows its trace's decision.
    pub decision_cache: usize,
    /// The policies, in order.
    pub policies: Vec<Policy>,
}

/// One policy.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Its name in the decision metrics.
    pub name: String,
    /// What it keeps.
    pub rule: Rule,
}

/// What a policy keeps.
#[derive(Clone, Debug)]
pub enum Rule {
    /// Every trace with a span whose status is Error.
    Errors,
    /// Every trace longer than `threshold`, or with a span of a listed operation longer
    /// than that operation's threshold.
    Latency {
        /// For the whole trace (first start to last end).
        threshold: Duration,
        /// Per operation (span name).
        operations: BTreeMap<String, Duration>,
    },
    /// Every trace with a span (or its resource) carrying `key` with one of `values`.
    Attribute {
        /// Attribute key.
        key: String,
        /// Accepted values, as text.
        values: Vec<String>,
    },
    /// A fixed share of traces, chosen by trace id (the same id always gets the same
    /// answer, here and in any other collector with the same ratio).
    Ratio(f64),
    /// At most this many traces per second (of those reaching this policy).
    RateLimit(u32),
}

impl TailConfig {
    /// The default: keep errors, traces over 500 ms, and 10% of the rest; hold a trace
    /// 5 s.
    pub fn default_policies() -> Self {
        TailConfig {
            decision_wait: Duration::from_secs(5),
            max_traces: 50_000,
            max_bytes: 64 << 20,
            decision_cache: 100_000,
            policies: vec![
                Policy {
                    name: "errors".into(),
                    rule: Rule::Errors,
                },
                Policy {
                    name: "latency".into(),
                    rule: Rule::Latency {
                        threshold: Duration::from_millis(500),
                        operations: BTreeMap::new(),
                    },
                },
                Policy {
                    name: "ratio".into(),
                    rule: Rule::Ratio(0.1),
                },
            ],
        }
    }

    /// Reads a policy file's text; errors name the field at fault.
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        let f: File = serde_yaml_ng::from_str(text).map_err(|e| format!("tail sampling: {e}"))?;
        let d = Self::default_policies();
        let dur = |field: &str, v: &str| {
            go_duration(v)
                .map(Duration::from_nanos)
                .map_err(|e| format!("tail sampling: {field}: {e}"))
        };
        let mut policies = Vec::new();
        for (i, p) in f.policies.into_iter().enumerate() {
            let (default_name, rule) = match p.kind {
                KindFile::Errors => ("errors", Rule::Errors),
                KindFile::Latency {
                    threshold,
                    operations,
                } => {
                    let mut ops = BTreeMap::new();
                    for (op, t) in operations {
                        ops.insert(
                            op.clone(),
                            dur(&format!("policies[{i}].operations.{op}"), &t)?,
                        );
                    }
                    let threshold = dur(&format!("policies[{i}].threshold"), &threshold)?;
                    (
                        "latency",
                        Rule::Latency {
                            threshold,
                            operations: ops,
                        },
                    )
                }
                KindFile::Attribute { key, values } => {
                    ("attribute", Rule::Attribute { key, values })
                }
                KindFile::Ratio { ratio } if (0.0..=1.0).contains(&ratio) => {
                    ("ratio", Rule::Ratio(ratio))
                }
                KindFile::Ratio { ratio } => {
                    return Err(format!(
                        "tail sampling: policies[{i}].ratio: {ratio} is not between 0 and 1"
                    ));
                }
                KindFile::RateLimit { traces_per_second } => {
                    ("rate_limit", Rule::RateLimit(traces_per_second))
                }
            };
            policies.push(Policy {
                name: p.name.unwrap_or_else(|| default_name.to_owned()),
                rule,
            });
        }
        if policies.is_empty() {
            return Err("tail sampling: `policies` is empty: every trace would be dropped".into());
        }
        Ok(TailConfig {
            decision_wait: match f.decision_wait {
                Some(w) => dur("decision_wait", &w)?,
                None => d.decision_wait,
            },
            max_traces: f.max_traces.unwrap_or(d.max_traces).max(1),
            max_bytes: f.max_bytes.unwrap_or(d.max_bytes).max(1),
            decision_cache: f.decision_cache.unwrap_or(d.decision_cache).max(1),
            policies,
        })
    }
}

/// Whether the trace id falls in the kept share `ratio`: its last 8 bytes (the random
/// part of a W3C trace id) as a number, against `ratio` of the range.
pub fn ratio_keeps(trace_id: &[u8], ratio: f64) -> bool {
    let mut low = [0u8; 8];
    let n = trace_id.len().min(8);
    low[..n].copy_from_slice(&trace_id[trace_id.len() - n..]);
    let x = u64::from_be_bytes(low);
    (x as f64) < ratio * (u64::MAX as f64)
}

fn text(v: &AnyValue) -> Option<String> {
    match v.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s.clone()),
        any_value::Value::BoolValue(b) => Some(b.to_string()),
        any_value::Value::IntValue(i) => Some(i.to_string()),
        any_value::Value::DoubleValue(d) => Some(d.to_string()),
        _ => None,
    }
}

fn carries(kvs: &[KeyValue], key: &str, values: &[String]) -> bool {
    kvs.iter().any(|kv| {
        kv.key == key
            && kv
                .value
                .as_ref()
                .and_then(text)
                .is_some_and(|t| values.contains(&t))
    })
}

/// Per-policy state (the rate limiter's window).
#[derive(Debug)]
pub(crate) struct Judge {
    policies: Vec<Policy>,
    windows: Vec<(Instant, u32)>,
}

impl Judge {
    pub(crate) fn new(policies: Vec<Policy>) -> Self {
        let now = Instant::now();
        let windows = vec![(now, 0); policies.len()];
        Judge { policies, windows }
    }

    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.policies.iter().map(|p| p.name.as_str())
    }

    /// The index of the policy that keeps the trace, or `None` to drop it.
    pub(crate) fn decide(&mut self, trace_id: &[u8], spans: &[Held]) -> Option<usize> {
        let start = spans
            .iter()
            .map(|h| h.span.start_time_unix_nano)
            .min()
            .unwrap_or(0);
        let end = spans
            .iter()
            .map(|h| h.span.end_time_unix_nano)
            .max()
            .unwrap_or(0);
        let trace_nanos = end.saturating_sub(start);
        for (i, p) in self.policies.iter().enumerate() {
            let keep = match &p.rule {
                Rule::Errors => spans
                    .iter()
                    .any(|h| h.span.status.as_ref().is_some_and(|s| s.code == 2)),
                Rule::Latency {
                    threshold,
                    operations,
                } => {
                    u128::from(trace_nanos) > threshold.as_nanos()
                        || spans.iter().any(|h| {
                            operations.get(&h.span.name).is_some_and(|t| {
                                u128::from(
                                    h.span
                                        .end_time_unix_nano
                                        .saturating_sub(h.span.start_time_unix_nano),
                                ) > t.as_nanos()
                            })
                        })
                }
                Rule::Attribute { key, values } => spans.iter().any(|h| {
                    carries(&h.span.attributes, key, values)
                        || h.resource
                            .as_ref()
                            .is_some_and(|r| carries(&r.attributes, key, values))
                }),
                Rule::Ratio(r) => ratio_keeps(trace_id, *r),
                Rule::RateLimit(per_second) => {
                    let (since, used) = &mut self.windows[i];
                    if since.elapsed() >= Duration::from_secs(1) {
                        *since = Instant::now();
                        *used = 0;
                    }
                    let room = *used < *per_second;
                    *used += u32::from(room);
                    room
                }
            };
            if keep {
                return Some(i);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_file_reads_and_errors_name_the_field() {
        let c = TailConfig::from_yaml(
            "decision_wait: 200ms\nmax_traces: 10\npolicies:\n  - { type: errors }\n  - { name: slow, type: latency, threshold: 1s, operations: { op: 5ms } }\n  - { type: attribute, key: k, values: [a, b] }\n  - { type: rate_limit, traces_per_second: 3 }\n  - { type: ratio, ratio: 0.25 }\n",
        )
        .expect("reads");
        assert_eq!(c.decision_wait, Duration::from_millis(200));
        assert_eq!(c.max_traces, 10);
        let names: Vec<&str> = c.policies.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            ["errors", "slow", "attribute", "rate_limit", "ratio"]
        );
        let e = TailConfig::from_yaml("policies:\n  - { type: latency, threshold: soon }\n")
            .expect_err("bad duration");
        assert!(e.contains("policies[0].threshold"), "{e}");
        let e =
            TailConfig::from_yaml("policies:\n  - { type: ratio, ratio: 2 }\n").expect_err("ratio");
        assert!(e.contains("between 0 and 1"), "{e}");
        assert!(TailConfig::from_yaml("policies: []\n").is_err());
        assert!(TailConfig::from_yaml("policies:\n  - { type: psychic }\n").is_err());
        assert!(
            TailConfig::from_yaml("polices: []\n").is_err(),
            "unknown field"
        );
    }

    #[test]
    fn the_ratio_is_a_function_of_the_trace_id() {
        let ids: Vec<[u8; 16]> = (0u64..10_000)
            .map(|i| {
                let mut id = [0u8; 16];
                // A fixed pseudo-random spread (SplitMix64), the same on every run.
                let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                id[8..].copy_from_slice(&(z ^ (z >> 31)).to_be_bytes());
                id
            })
            .collect();
        let kept = ids.iter().filter(|id| ratio_keeps(&id[..], 0.1)).count();
        assert!((900..1100).contains(&kept), "{kept} of 10000 at 10%");
        assert!(ids.iter().all(|id| ratio_keeps(id, 1.0)));
        assert!(!ids.iter().any(|id| ratio_keeps(id, 0.0)));
    }
}
