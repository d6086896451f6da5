//! What the gateway takes from callers outside: `TrustIncoming:` in [`crate::RestConf`].

use serde::{Deserialize, Serialize};

/// `TrustIncoming: {TraceContext, Baggage}`: whether the gateway continues a caller's
/// trace and accepts its baggage. A gateway faces callers it does not control: a forged
/// `traceparent` can join a request to someone else's trace or force sampling, and
/// baggage from outside would be forwarded to every internal service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct TrustConf {
    /// Continue the caller's trace (`traceparent`/`tracestate`, or B3/Jaeger when
    /// configured). Default true. When false each request starts a new trace, and a valid
    /// caller context is kept as a link on the server span (the W3C "restart trace").
    #[serde(default = "default_true")]
    pub trace_context: bool,
    /// Accept the caller's baggage. Default false: baggage from outside is dropped, and
    /// only what the gateway itself adds travels on.
    #[serde(default)]
    pub baggage: bool,
}

impl Default for TrustConf {
    fn default() -> Self {
        TrustConf {
            trace_context: true,
            baggage: false,
        }
    }
}

fn default_true() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use crate::RestConf;

    fn load(yaml: &str) -> Result<RestConf, String> {
        rzero_conf::Loader::new()
            .load_str("gateway.yaml", yaml)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn trust_defaults_to_the_trace_and_not_the_baggage() {
        let c = load("Name: gw\n").expect("valid");
        assert!(c.trust_incoming.trace_context && !c.trust_incoming.baggage);
        let c = load("Name: gw\nTrustIncoming:\n  TraceContext: false\n  Baggage: true\n")
            .expect("valid");
        assert!(!c.trust_incoming.trace_context && c.trust_incoming.baggage);
        let err = load("Name: gw\nTrustIncoming:\n  Trace: false\n").expect_err("unknown key");
        assert!(err.contains("Trace"), "{err}");
    }
}
