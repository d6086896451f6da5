//! The propagator names of the SDK environment spec (`OTEL_PROPAGATORS`) and of the
//! `Propagators:` config key.

use serde::{Deserialize, Serialize};

/// One propagation format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PropagatorName {
    /// W3C Trace Context: `traceparent`, `tracestate`.
    #[serde(rename = "tracecontext")]
    TraceContext,
    /// W3C Baggage: `baggage`.
    #[serde(rename = "baggage")]
    Baggage,
    /// B3 single header: `b3` (extraction also reads the `x-b3-*` headers).
    #[serde(rename = "b3")]
    B3,
    /// B3 multiple headers: `x-b3-traceid`, `x-b3-spanid`, `x-b3-sampled`, `x-b3-flags`.
    #[serde(rename = "b3multi")]
    B3Multi,
    /// Jaeger: `uber-trace-id`, `uberctx-*`.
    #[serde(rename = "jaeger")]
    Jaeger,
    /// Nothing is read or written.
    #[serde(rename = "none")]
    None,
}

/// What runs when neither the environment nor the config names any: the spec's default.
pub const DEFAULT_PROPAGATORS: [PropagatorName; 2] =
    [PropagatorName::TraceContext, PropagatorName::Baggage];

impl PropagatorName {
    /// The name as `OTEL_PROPAGATORS` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            PropagatorName::TraceContext => "tracecontext",
            PropagatorName::Baggage => "baggage",
            PropagatorName::B3 => "b3",
            PropagatorName::B3Multi => "b3multi",
            PropagatorName::Jaeger => "jaeger",
            PropagatorName::None => "none",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [
            PropagatorName::TraceContext,
            PropagatorName::Baggage,
            PropagatorName::B3,
            PropagatorName::B3Multi,
            PropagatorName::Jaeger,
            PropagatorName::None,
        ]
        .into_iter()
        .find(|p| p.as_str().eq_ignore_ascii_case(name))
    }
}

/// Parses a comma-separated `OTEL_PROPAGATORS` value: names are deduplicated (first
/// place kept), unknown ones are skipped with a warning, as the spec asks; `none` with
/// other names keeps only `none`, with a warning.
pub fn parse_propagators(raw: &str, warnings: &mut Vec<String>) -> Vec<PropagatorName> {
    let mut out = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match PropagatorName::from_name(name) {
            Some(p) if !out.contains(&p) => out.push(p),
            Some(_) => {}
            None => warnings.push(format!(
                "OTEL_PROPAGATORS: `{name}` ignored: expected tracecontext, baggage, b3, \
                 b3multi, jaeger or none"
            )),
        }
    }
    if out.contains(&PropagatorName::None) && out.len() > 1 {
        warnings.push(format!(
            "OTEL_PROPAGATORS={raw:?}: `none` with other names propagates nothing"
        ));
        out = vec![PropagatorName::None];
    }
    out
}

/// `OTEL_PROPAGATORS` (`env`), else the `configured` list, else the spec's default; an
/// environment value that names nothing known is ignored (the warnings say why).
pub(crate) fn resolve(
    configured: &[PropagatorName],
    env: Option<String>,
    warnings: &mut Vec<String>,
) -> Vec<PropagatorName> {
    if let Some(raw) = env {
        let names = parse_propagators(&raw, warnings);
        if !names.is_empty() {
            return names;
        }
    }
    if configured.is_empty() {
        DEFAULT_PROPAGATORS.to_vec()
    } else {
        configured.to_vec()
    }
}
