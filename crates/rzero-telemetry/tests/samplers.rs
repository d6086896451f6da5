//! Samplers decide within statistical bounds over many trace ids, and parent-based ones
//! follow the parent's flag.

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, TraceContextExt, TraceFlags, TraceState,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator, SamplingDecision, ShouldSample};
use rzero_telemetry::SampleRule;
use rzero_telemetry::sampler::{RuleSampler, build};
use rzero_telemetry::settings::SamplerSpec;

const N: usize = 20_000;

fn sampled_count(
    sampler: &dyn ShouldSample,
    parent: Option<&Context>,
    attrs: &[KeyValue],
) -> usize {
    let ids = RandomIdGenerator::default();
    (0..N)
        .filter(|_| {
            let r = sampler.should_sample(
                parent,
                ids.new_trace_id(),
                "op",
                &SpanKind::Server,
                attrs,
                &[],
            );
            r.decision == SamplingDecision::RecordAndSample
        })
        .count()
}

/// Within five standard deviations of the binomial mean: fails by chance about once in
/// 1.7 million runs.
fn assert_ratio(count: usize, ratio: f64) {
    let mean = N as f64 * ratio;
    let sd = (N as f64 * ratio * (1.0 - ratio)).sqrt();
    let diff = (count as f64 - mean).abs();
    assert!(
        diff <= 5.0 * sd + 1.0,
        "sampled {count} of {N}, expected about {mean} (sd {sd:.1})"
    );
}

fn parent(sampled: bool) -> Context {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    let ids = RandomIdGenerator::default();
    Context::new().with_remote_span_context(SpanContext::new(
        ids.new_trace_id(),
        SpanId::from(7u64),
        flags,
        true,
        TraceState::default(),
    ))
}

#[test]
fn ratio_samples_its_fraction() {
    for ratio in [0.01, 0.1, 0.5, 0.9] {
        assert_ratio(
            sampled_count(build(&SamplerSpec::Ratio(ratio)).as_ref(), None, &[]),
            ratio,
        );
    }
    assert_eq!(
        sampled_count(build(&SamplerSpec::Ratio(0.0)).as_ref(), None, &[]),
        0
    );
    assert_eq!(
        sampled_count(build(&SamplerSpec::Ratio(1.0)).as_ref(), None, &[]),
        N
    );
}

#[test]
fn parent_based_follows_the_parents_flag() {
    let never_for_roots = build(&SamplerSpec::ParentBased(Box::new(SamplerSpec::Ratio(0.0))));
    assert_eq!(
        sampled_count(never_for_roots.as_ref(), Some(&parent(true)), &[]),
        N
    );
    let always_for_roots = build(&SamplerSpec::ParentBased(Box::new(SamplerSpec::AlwaysOn)));
    assert_eq!(
        sampled_count(always_for_roots.as_ref(), Some(&parent(false)), &[]),
        0
    );
    assert_eq!(sampled_count(always_for_roots.as_ref(), None, &[]), N);
}

fn priority_rules() -> Vec<SampleRule> {
    vec![
        SampleRule {
            attribute: "http.request.header.x-priority".into(),
            values: vec!["high".into(), "critical".into()],
            ratio: 1.0,
        },
        SampleRule {
            attribute: "http.route".into(),
            values: vec!["/api/v1/orders".into()],
            ratio: 0.5,
        },
    ]
}

#[test]
fn rule_sampler_keeps_high_priority_and_samples_the_rest() {
    let sampler = RuleSampler::new(&priority_rules(), 0.1);
    let high = [KeyValue::new("http.request.header.x-priority", "high")];
    assert_eq!(sampled_count(&sampler, None, &high), N);
    let critical_on_route = [
        KeyValue::new("http.route", "/api/v1/orders"),
        KeyValue::new("http.request.header.x-priority", "critical"),
    ];
    assert_eq!(
        sampled_count(&sampler, None, &critical_on_route),
        N,
        "first rule wins"
    );
    let route = [KeyValue::new("http.route", "/api/v1/orders")];
    assert_ratio(sampled_count(&sampler, None, &route), 0.5);
    let low = [KeyValue::new("http.request.header.x-priority", "low")];
    assert_ratio(sampled_count(&sampler, None, &low), 0.1);
    assert_ratio(sampled_count(&sampler, None, &[]), 0.1);
}

#[test]
fn rule_without_values_matches_any_value() {
    let rules = [SampleRule {
        attribute: "user.vip".into(),
        values: vec![],
        ratio: 1.0,
    }];
    let sampler = RuleSampler::new(&rules, 0.0);
    assert_eq!(
        sampled_count(&sampler, None, &[KeyValue::new("user.vip", true)]),
        N
    );
    assert_eq!(
        sampled_count(&sampler, None, &[KeyValue::new("user.other", 1)]),
        0
    );
}
