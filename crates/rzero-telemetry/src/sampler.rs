//! Samplers: the SDK's standard ones, plus [`RuleSampler`], the guide's DynamicSampler made
//! configurable.
//!
//! The guide keeps high-priority traffic at 100% and samples the rest at 10%. Here the
//! "high priority" test is data, not code: a list of rules on the attributes a span starts
//! with (the rest and rpc layers put the route, the method and selected headers there), the
//! first matching rule's ratio wins, and everything else gets the default ratio. Ratio
//! decisions are the SDK's `TraceIdRatioBased`, so every service of a trace that uses the
//! same ratio agrees without talking to each other.

use std::sync::Arc;

use opentelemetry::trace::{Link, SpanKind, TraceId};
use opentelemetry::{Context, Key, KeyValue};
use opentelemetry_sdk::trace::{Sampler, SamplingResult, ShouldSample};

use crate::config::SampleRule;
use crate::settings::SamplerSpec;

/// Samples spans matching a rule at the rule's ratio and the rest at a default ratio.
#[derive(Clone, Debug)]
pub struct RuleSampler {
    rules: Arc<[CompiledRule]>,
    default: Sampler,
}

#[derive(Debug)]
struct CompiledRule {
    key: Key,
    values: Vec<String>,
    sampler: Sampler,
}

// === impl RuleSampler ===

impl RuleSampler {
    /// Rules are tried in order; spans that match none are sampled at `default_ratio`.
    pub fn new(rules: &[SampleRule], default_ratio: f64) -> Self {
        let rules = rules
            .iter()
            .map(|r| CompiledRule {
                key: Key::new(r.attribute.trim().to_owned()),
                values: r.values.clone(),
                sampler: Sampler::TraceIdRatioBased(r.ratio),
            })
            .collect();
        RuleSampler {
            rules,
            default: Sampler::TraceIdRatioBased(default_ratio),
        }
    }

    fn matching(&self, attributes: &[KeyValue]) -> &Sampler {
        for rule in self.rules.iter() {
            let hit = attributes.iter().any(|kv| {
                kv.key == rule.key
                    && (rule.values.is_empty()
                        || rule.values.iter().any(|v| *v == kv.value.as_str()))
            });
            if hit {
                return &rule.sampler;
            }
        }
        &self.default
    }
}

impl ShouldSample for RuleSampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        self.matching(attributes).should_sample(
            parent_context,
            trace_id,
            name,
            span_kind,
            attributes,
            links,
        )
    }
}

/// Builds the sampler a [`SamplerSpec`] describes.
pub fn build(spec: &SamplerSpec) -> Box<dyn ShouldSample> {
    match spec {
        SamplerSpec::AlwaysOn => Box::new(Sampler::AlwaysOn),
        SamplerSpec::AlwaysOff => Box::new(Sampler::AlwaysOff),
        SamplerSpec::Ratio(r) => Box::new(Sampler::TraceIdRatioBased(*r)),
        SamplerSpec::Rules {
            rules,
            default_ratio,
        } => Box::new(RuleSampler::new(rules, *default_ratio)),
        SamplerSpec::ParentBased(inner) => Box::new(Sampler::ParentBased(build(inner))),
    }
}
