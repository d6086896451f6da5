use std::collections::HashMap;

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, Tracer,
    TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracerProvider;

use super::*;

const TRACE: &str = "12345678901234567890123456789012";
const PARENT: &str = "00-12345678901234567890123456789012-1234567890123456-01";

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            HeaderName::from_bytes(k.as_bytes()).expect("name"),
            HeaderValue::from_str(v).expect("value"),
        );
    }
    h
}

fn extract(p: &dyn TextMapPropagator, pairs: &[(&str, &str)]) -> Context {
    p.extract_with_context(&Context::new(), &HeaderExtractor(&headers(pairs)))
}

fn inject(p: &dyn TextMapPropagator, cx: &Context) -> HashMap<String, String> {
    let mut h = HeaderMap::new();
    p.inject_context(cx, &mut HeaderInjector(&mut h));
    h.iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().expect("ascii").to_owned()))
        .collect()
}

/// A child span of `parent`, as rzero's layers make one, with the SDK tracer.
fn child(parent: &Context) -> Context {
    let provider = SdkTracerProvider::builder().build();
    let tracer = provider.tracer("test");
    let span = tracer.build_with_context(tracer.span_builder("child"), parent);
    parent.with_span(span)
}

fn trace_id(cx: &Context) -> String {
    cx.span().span_context().trace_id().to_string()
}

// === traceparent ===

#[test]
fn traceparent_of_exact_form_is_continued() {
    let p = TraceContextPropagator::new();
    for ok in [
        PARENT,
        " \t00-12345678901234567890123456789012-1234567890123456-01\t ",
        "cc-12345678901234567890123456789012-1234567890123456-01",
        "cc-12345678901234567890123456789012-1234567890123456-01-what-the-future-will-be-like",
    ] {
        let cx = extract(&p, &[("traceparent", ok)]);
        assert_eq!(trace_id(&cx), TRACE, "{ok:?}");
        assert!(cx.span().span_context().is_remote());
    }
}

#[test]
fn malformed_traceparent_is_ignored() {
    let p = TraceContextPropagator::new();
    let t = "12345678901234567890123456789012";
    let s = "1234567890123456";
    for bad in [
        format!("0-{t}-{s}-01"),
        format!("000-{t}-{s}-01"),
        format!("ff-{t}-{s}-01"),
        format!(".0-{t}-{s}-01"),
        format!("00-{t}-{s}-01."),
        format!("00-{t}-{s}-01-what-the-future-will-be-like"),
        format!("cc-{t}-{s}-01.what-the-future-will-be-like"),
        format!("00-{t}3-{s}-01"),
        format!("00-{}-{s}-01", &t[1..]),
        format!("00-{}-{s}-01", t.to_uppercase().replace('1', "A")),
        format!("00-00000000000000000000000000000000-{s}-01"),
        format!("00-{t}-{}-01", &s[1..]),
        format!("00-{t}-{s}7-01"),
        format!("00-{t}-0000000000000000-01"),
        format!("00-{t}-{s}-1"),
        format!("00-{t}-{s}-001"),
        format!("00-{t}-{s}-.0"),
        "00-1-1-01".to_owned(),
        String::new(),
    ] {
        let cx = extract(&p, &[("traceparent", &bad)]);
        assert!(!cx.span().span_context().is_valid(), "{bad:?} was accepted");
    }
    let mut h = HeaderMap::new();
    let raw = format!("{PARENT}\u{e9}");
    h.insert(
        "traceparent",
        HeaderValue::from_bytes(raw.as_bytes()).expect("obs-text"),
    );
    assert!(
        !p.extract(&HeaderExtractor(&h))
            .span()
            .span_context()
            .is_valid()
    );
}

#[test]
fn two_traceparent_fields_restart_the_trace() {
    let p = TraceContextPropagator::new();
    let cx = extract(
        &p,
        &[
            (
                "traceparent",
                "00-12345678901234567890123456789011-1234567890123456-01",
            ),
            ("traceparent", PARENT),
        ],
    );
    assert!(!cx.span().span_context().is_valid());
}

#[test]
fn the_random_flag_is_kept_through_a_child_span_and_unknown_flags_are_not() {
    let p = TraceContextPropagator::new();
    let cx = extract(
        &p,
        &[(
            "traceparent",
            "00-12345678901234567890123456789012-1234567890123456-ff",
        )],
    );
    assert_eq!(
        cx.span().span_context().trace_flags(),
        TraceFlags::new(0x03)
    );
    let out = inject(&p, &child(&cx));
    let tp = &out["traceparent"];
    assert!(
        tp.starts_with("00-12345678901234567890123456789012-"),
        "{tp}"
    );
    assert!(tp.ends_with("-03"), "{tp}");
    assert!(!tp.contains("1234567890123456-"), "a new parent id: {tp}");
    // A span the sampler drops gets flags 00 from the SDK; the random flag still goes out.
    let cx = extract(
        &p,
        &[(
            "traceparent",
            "00-12345678901234567890123456789012-1234567890123456-02",
        )],
    );
    let dropped = {
        let provider = SdkTracerProvider::builder()
            .with_sampler(opentelemetry_sdk::trace::Sampler::AlwaysOff)
            .build();
        let tracer = provider.tracer("test");
        cx.with_span(tracer.build_with_context(tracer.span_builder("dropped"), &cx))
    };
    assert!(inject(&p, &dropped)["traceparent"].ends_with("-02"));
    // Not for another trace in the same context.
    let other = SpanContext::new(
        TraceId::from(9),
        SpanId::from(9),
        TraceFlags::SAMPLED,
        false,
        TraceState::NONE,
    );
    assert!(inject(&p, &cx.with_remote_span_context(other))["traceparent"].ends_with("-01"));
}

// === tracestate ===

fn state_out(pairs: &[(&str, &str)]) -> Option<String> {
    let p = TraceContextPropagator::new();
    let mut all = vec![("traceparent", PARENT)];
    all.extend_from_slice(pairs);
    let cx = extract(&p, &all);
    assert_eq!(trace_id(&cx), TRACE);
    inject(&p, &child(&cx)).remove("tracestate")
}

#[test]
fn tracestate_fields_are_combined_in_order() {
    assert_eq!(
        state_out(&[
            ("tracestate", "foo=1,bar=2"),
            ("tracestate", "rojo=1,congo=2"),
            ("tracestate", ""),
            ("tracestate", " \t,baz=3 \t"),
        ])
        .as_deref(),
        Some("foo=1,bar=2,rojo=1,congo=2,baz=3")
    );
    assert_eq!(state_out(&[("tracestate", "")]), None);
    assert_eq!(
        state_out(&[("tracestate", "foo=1,foo=2")]).as_deref(),
        Some("foo=1")
    );
}

#[test]
fn thirty_two_members_pass_and_thirty_three_drop_the_list() {
    let members = |n: usize| {
        (1..=n)
            .map(|i| format!("bar{i:02}={i:02}"))
            .collect::<Vec<_>>()
    };
    let m32 = members(32);
    let (a, b) = m32.split_at(20);
    let out = state_out(&[("tracestate", &a.join(",")), ("tracestate", &b.join(","))]);
    assert_eq!(out.as_deref(), Some(m32.join(",").as_str()));
    assert_eq!(state_out(&[("tracestate", &members(33).join(","))]), None);
}

#[test]
fn level_2_keys_leave_as_they_came() {
    for key in [
        "foo@@bar".to_owned(),
        "foo@bar@baz".to_owned(),
        "foo@".to_owned(),
        format!("{}@{}", "t".repeat(241), "v".repeat(14)),
        format!("t@{}", "v".repeat(15)),
        "z".repeat(256),
    ] {
        let list = format!("a=1,{key}=1,bar=2");
        assert_eq!(
            state_out(&[("tracestate", &list)]).as_deref(),
            Some(list.as_str()),
            "{key}"
        );
    }
}

#[test]
fn a_list_with_any_bad_member_is_dropped_whole() {
    for bad in [
        "foo=1,@foo=1".to_owned(),
        "foo=1,FOO=1".to_owned(),
        "foo =1".to_owned(),
        "foo.bar=1".to_owned(),
        "foo=bar=baz".to_owned(),
        "foo=,bar=3".to_owned(),
        "foo=1,bar".to_owned(),
        "foo=a\tb".to_owned(),
        format!("foo=1,{}=1", "z".repeat(257)),
        format!("foo={}", "v".repeat(257)),
    ] {
        assert_eq!(state_out(&[("tracestate", &bad)]), None, "{bad:?}");
    }
    // A stray byte in one field breaks the combined list.
    let mut h = headers(&[("traceparent", PARENT), ("tracestate", "foo=1")]);
    h.append(
        "tracestate",
        HeaderValue::from_bytes(b"bar=\xff").expect("value"),
    );
    let cx = TraceContextPropagator::new().extract(&HeaderExtractor(&h));
    assert_eq!(cx.span().span_context().trace_state().header(), "");
}

#[test]
fn values_keep_leading_spaces_and_every_allowed_character() {
    let value: String = (0x20u8..=0x7e)
        .filter(|c| *c != b',' && *c != b'=')
        .map(char::from)
        .collect();
    let list = format!("abcdefghijklmnopqrstuvwxyz0123456789_-*/@a-z0-9_-*/={value}");
    assert_eq!(
        state_out(&[("tracestate", &list)]).as_deref(),
        Some(list.as_str())
    );
}

#[test]
fn a_changed_tracestate_is_merged_with_the_level_2_members() {
    let p = TraceContextPropagator::new();
    let cx = extract(
        &p,
        &[
            ("traceparent", PARENT),
            ("tracestate", "a=1,foo@@bar=2,b=3"),
        ],
    );
    let sc = cx.span().span_context().clone();
    assert_eq!(
        sc.trace_state().header(),
        "a=1,b=3",
        "what TraceState can hold"
    );
    // A span that sets its own member and deletes `b`, as a sampler may.
    let state = sc
        .trace_state()
        .insert("rzero", "x")
        .and_then(|s| s.delete("b"))
        .expect("valid");
    let changed = SpanContext::new(
        sc.trace_id(),
        SpanId::from(7),
        sc.trace_flags(),
        false,
        state,
    );
    let cx = cx.with_remote_span_context(changed);
    assert_eq!(inject(&p, &cx)["tracestate"], "rzero=x,a=1,foo@@bar=2");
    // Another trace in the same context does not get the received list.
    let other = SpanContext::new(
        TraceId::from(9),
        SpanId::from(9),
        TraceFlags::SAMPLED,
        false,
        TraceState::NONE,
    );
    assert!(!inject(&p, &cx.with_remote_span_context(other)).contains_key("tracestate"));
}

// === baggage ===

fn baggage_of(fields: &[&str]) -> Vec<(String, String)> {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|f| ("baggage", *f)).collect();
    let cx = extract(&BaggagePropagator::new(), &pairs);
    let mut out: Vec<(String, String)> = cx
        .baggage()
        .iter()
        .map(|(k, (v, _))| (k.to_string(), v.to_string()))
        .collect();
    out.sort();
    out
}

#[test]
fn baggage_fields_are_combined_and_values_decoded() {
    assert_eq!(
        baggage_of(&["k1=v1;p1;p2=x, k2 = a=b ", "k3=%E4%BD%A0,k4=%FF,bad key=1"]),
        vec![
            ("k1".to_owned(), "v1".to_owned()),
            ("k2".to_owned(), "a=b".to_owned()),
            ("k3".to_owned(), "你".to_owned()),
            ("k4".to_owned(), "\u{fffd}".to_owned()),
        ]
    );
}

#[test]
fn baggage_over_a_limit_is_dropped_and_not_forwarded() {
    let members = |n: usize| {
        (0..n)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join(",")
    };
    // 180 members are accepted (the SDK's Baggage keeps 64 of them); 181 drop it all.
    assert_eq!(baggage_of(&[&members(180)]).len(), 64);
    assert!(baggage_of(&[&members(181)]).is_empty());
    // A member over 4096 bytes goes alone.
    let big = format!("big={}", "v".repeat(4093));
    assert_eq!(big.len(), 4097);
    assert_eq!(
        baggage_of(&[&big, "small=1"]),
        vec![("small".into(), "1".into())]
    );
    let fits = format!("big={}", "v".repeat(4092));
    assert_eq!(baggage_of(&[&fits]).len(), 1);
    // All fields together over 8192 bytes: none of it.
    let half = format!("a={}", "v".repeat(4094));
    let rest = format!("b={}", "v".repeat(4094));
    assert_eq!(half.len() + 1 + rest.len(), 8193);
    assert!(baggage_of(&[&half, &rest]).is_empty());
    let rest = format!("b={}", "v".repeat(4093));
    assert_eq!(
        baggage_of(&[&half, &rest]).len(),
        2,
        "8192 bytes in all fit"
    );

    // Injection sends whole members only, within 8192 bytes.
    let cx = Context::new()
        .with_baggage((0..3).map(|i| KeyValue::new(format!("k{i}"), "v".repeat(3000))));
    let out = inject(&BaggagePropagator::new(), &cx);
    assert!(out["baggage"].len() <= MAX_BAGGAGE_BYTES);
    assert_eq!(out["baggage"].split(',').count(), 2);
    let cx = Context::new().with_baggage([KeyValue::new("k", "v".repeat(4095))]);
    assert!(
        inject(&BaggagePropagator::new(), &cx).is_empty(),
        "a member over 4096 bytes is not sent"
    );
}

#[test]
fn baggage_values_are_percent_encoded_on_the_way_out() {
    let cx = Context::new().with_baggage([KeyValue::new("user", "a b,c;d%你")]);
    let out = inject(&BaggagePropagator::new(), &cx);
    assert_eq!(out["baggage"], "user=a%20b%2Cc%3Bd%25%E4%BD%A0");
    assert_eq!(
        baggage_of(&[&out["baggage"]]),
        vec![("user".into(), "a b,c;d%你".into())]
    );
}

// === OTEL_PROPAGATORS and the other formats ===

#[test]
fn propagator_names_parse_as_the_spec_says() {
    let mut w = Vec::new();
    assert_eq!(
        parse_propagators(" tracecontext, B3 ,b3,xray,jaeger", &mut w),
        vec![
            PropagatorName::TraceContext,
            PropagatorName::B3,
            PropagatorName::Jaeger
        ]
    );
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(
        parse_propagators("none,baggage", &mut w),
        vec![PropagatorName::None]
    );
    assert_eq!(w.len(), 2, "{w:?}");
}

#[test]
fn none_propagates_nothing() {
    let p = composite(&[PropagatorName::None, PropagatorName::TraceContext]);
    let cx = extract(&p, &[("traceparent", PARENT), ("baggage", "k=v")]);
    assert!(!cx.span().span_context().is_valid());
    assert!(cx.baggage().is_empty());
    let inbound = extract(&TraceContextPropagator::new(), &[("traceparent", PARENT)]);
    assert!(inject(&p, &child(&inbound)).is_empty());
}

#[test]
fn b3_and_jaeger_in_give_the_same_trace_out_in_every_format() {
    let all = composite(&[
        PropagatorName::TraceContext,
        PropagatorName::Baggage,
        PropagatorName::B3,
        PropagatorName::B3Multi,
        PropagatorName::Jaeger,
    ]);
    for inbound in [
        vec![("b3", "12345678901234567890123456789012-1234567890123456-1")],
        vec![
            ("x-b3-traceid", TRACE),
            ("x-b3-spanid", "1234567890123456"),
            ("x-b3-sampled", "1"),
        ],
        vec![(
            "uber-trace-id",
            "12345678901234567890123456789012:1234567890123456:0:1",
        )],
        vec![(
            "uber-trace-id",
            "12345678901234567890123456789012%3A1234567890123456%3A0%3A3",
        )],
    ] {
        let cx = extract(&all, &inbound);
        assert_eq!(trace_id(&cx), TRACE, "{inbound:?}");
        assert!(cx.span().span_context().is_sampled(), "{inbound:?}");
        let out = inject(&all, &child(&cx));
        assert!(out["traceparent"].contains(TRACE) && out["traceparent"].ends_with("-01"));
        assert!(
            out["b3"].starts_with(TRACE) && out["b3"].ends_with("-1"),
            "{out:?}"
        );
        assert_eq!(out["x-b3-traceid"], TRACE);
        assert_eq!(out["x-b3-sampled"], "1");
        assert!(out["uber-trace-id"].starts_with(TRACE) && out["uber-trace-id"].ends_with(":1"));
    }
}

#[test]
fn a_deferred_b3_decision_is_not_a_w3c_random_flag() {
    let p = composite(&[PropagatorName::B3Multi, PropagatorName::TraceContext]);
    let cx = extract(
        &p,
        &[("x-b3-traceid", TRACE), ("x-b3-spanid", "1234567890123456")],
    );
    assert_eq!(trace_id(&cx), TRACE);
    let out = inject(&TraceContextPropagator::new(), &cx);
    assert!(out["traceparent"].ends_with("-00"), "{out:?}");
    // And a W3C random flag does not become B3's deferred (which drops x-b3-sampled).
    let cx = extract(
        &TraceContextPropagator::new(),
        &[(
            "traceparent",
            "00-12345678901234567890123456789012-1234567890123456-03",
        )],
    );
    assert_eq!(inject(&B3Propagator::multi(), &cx)["x-b3-sampled"], "1");
}

#[test]
fn jaeger_baggage_rides_in_uberctx_fields() {
    let j = JaegerPropagator::new();
    let cx = extract(
        &j,
        &[
            ("uber-trace-id", "4d0000000000000016:17c29:0:1"),
            ("uberctx-user", "a%20b"),
        ],
    );
    assert_eq!(trace_id(&cx), "000000000000004d0000000000000016");
    assert_eq!(
        cx.span().span_context().span_id().to_string(),
        "0000000000017c29"
    );
    assert_eq!(
        cx.baggage()
            .get("user")
            .map(|v| v.as_str().to_owned())
            .as_deref(),
        Some("a b")
    );
    let out = inject(&j, &cx);
    assert_eq!(out["uberctx-user"], "a%20b");
    for bad in [
        "1:2:3",
        "x:1:0:1",
        "0:1:0:1",
        "1:0:0:1",
        "1:2:0:1:5",
        &format!("{}1:1:0:1", "f".repeat(32)),
    ] {
        let cx = extract(&j, &[("uber-trace-id", bad)]);
        assert!(!cx.span().span_context().is_valid(), "{bad}");
    }
}

/// One test: the installed propagators are process-wide. The direct path of the default
/// pair reads and writes what the composite does; a set of other names, or a propagator
/// of the user's own, is what rzero's layers then use.
#[test]
fn the_layers_use_what_was_installed_and_the_default_pair_directly() {
    let h = headers(&[("traceparent", PARENT), ("baggage", "k=v")]);
    let composite_cx = extract(
        &composite(&DEFAULT_PROPAGATORS),
        &[("traceparent", PARENT), ("baggage", "k=v")],
    );
    install(&DEFAULT_PROPAGATORS);
    let cx = super::extract_with_context(&Context::new(), &HeaderExtractor(&h));
    assert_eq!(cx.span().span_context(), composite_cx.span().span_context());
    assert_eq!(
        cx.baggage()
            .get("k")
            .map(|v| v.as_str().to_owned())
            .as_deref(),
        Some("v")
    );
    let mut out = HeaderMap::new();
    super::inject(&cx, &mut HeaderInjector(&mut out));
    assert_eq!(
        inject(&composite(&DEFAULT_PROPAGATORS), &cx)
            .get("traceparent")
            .map(String::as_str),
        out.get("traceparent").and_then(|v| v.to_str().ok())
    );
    assert!(out.contains_key("baggage"));

    // b3 by name: the global path, and no traceparent is read any more.
    install(&[PropagatorName::B3]);
    let cx = super::extract_with_context(&Context::new(), &HeaderExtractor(&h));
    assert!(!cx.span().span_context().is_valid());
    let b3 = headers(&[("b3", &format!("{TRACE}-1234567890123456-1"))]);
    let cx = super::extract_with_context(&Context::new(), &HeaderExtractor(&b3));
    assert_eq!(cx.span().span_context().trace_id().to_string(), TRACE);

    // A propagator of the user's own, after the default pair was installed.
    install(&DEFAULT_PROPAGATORS);
    install_global(B3Propagator::single());
    let cx = super::extract_with_context(&Context::new(), &HeaderExtractor(&b3));
    assert_eq!(cx.span().span_context().trace_id().to_string(), TRACE);
    install(&DEFAULT_PROPAGATORS);
}

// === extract_from_headers ===

/// What a server layer sees of `cx`: the span context (ids, flags, remote, every
/// tracestate member), the random flag as injected again, and the baggage.
fn seen(cx: &Context) -> String {
    let sc = cx.span().span_context().clone();
    let mut out = inject(&TraceContextPropagator::new(), cx)
        .into_iter()
        .collect::<Vec<_>>();
    out.sort();
    let mut bag: Vec<String> = cx
        .baggage()
        .iter()
        .map(|(k, (v, _))| format!("{k}={v}"))
        .collect();
    bag.sort();
    format!("{sc:?} {out:?} {bag:?}")
}

#[test]
fn headers_read_directly_give_what_the_extractor_gives() {
    install(&DEFAULT_PROPAGATORS);
    let t = TRACE;
    let s = "1234567890123456";
    let long = format!("{}=1", "k".repeat(300));
    let cases: Vec<Vec<(&str, String)>> = vec![
        vec![],
        vec![("traceparent", PARENT.to_owned())],
        vec![("traceparent", format!(" \t{PARENT}\t "))],
        vec![("traceparent", format!("00-{t}-{s}-03"))],
        vec![("traceparent", format!("01-{t}-{s}-01-future"))],
        vec![("traceparent", format!("00-{t}-{s}-1"))],
        vec![
            ("traceparent", PARENT.to_owned()),
            ("traceparent", PARENT.to_owned()),
        ],
        vec![("traceparent", format!("{PARENT},{PARENT}"))],
        vec![
            ("traceparent", PARENT.to_owned()),
            ("tracestate", "a=1,b=2".to_owned()),
        ],
        vec![
            ("traceparent", PARENT.to_owned()),
            ("tracestate", "a=1".to_owned()),
            ("tracestate", "foo@@bar=2,c=3".to_owned()),
        ],
        vec![
            ("traceparent", PARENT.to_owned()),
            ("tracestate", "bad key=1".to_owned()),
        ],
        vec![("traceparent", PARENT.to_owned()), ("tracestate", long)],
        vec![("tracestate", "a=1".to_owned())],
        vec![
            ("traceparent", PARENT.to_owned()),
            ("baggage", "user=1,tier=gold".to_owned()),
        ],
        vec![("baggage", "user=1".to_owned())],
    ];
    for case in &cases {
        let pairs: Vec<(&str, &str)> = case.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let h = headers(&pairs);
        let direct = extract_from_headers(&Context::new(), &h);
        let through = extract_with_context(&Context::new(), &HeaderExtractor(&h));
        assert_eq!(seen(&direct), seen(&through), "{case:?}");
        // The direct read itself, whatever another test installed meanwhile.
        let direct = trace_context::extract_headers(&Context::new(), &h);
        let through = TraceContextPropagator::new().extract(&HeaderExtractor(&h));
        assert_eq!(seen(&direct), seen(&through), "{case:?}");
    }
    // Bytes no `&str` can hold (obs-text) are refused the same way.
    let mut h = HeaderMap::new();
    let raw = format!("{PARENT}\u{e9}");
    h.insert(
        "traceparent",
        HeaderValue::from_bytes(raw.as_bytes()).expect("obs-text"),
    );
    h.insert(
        "tracestate",
        HeaderValue::from_bytes("a=\u{e9}".as_bytes()).expect("obs-text"),
    );
    let direct = extract_from_headers(&Context::new(), &h);
    assert!(!direct.span().span_context().is_valid());
    assert_eq!(
        seen(&direct),
        seen(&extract_with_context(&Context::new(), &HeaderExtractor(&h)))
    );
}
