use std::collections::HashMap;
use std::time::Duration;

use super::*;

fn resolve_with(conf: &TelemetryConf, vars: &[(&str, &str)]) -> Settings {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Settings::resolve(conf, "svc", |k| map.get(k).cloned()).expect("valid settings")
}

fn conf_with_endpoint(endpoint: &str) -> TelemetryConf {
    TelemetryConf {
        endpoint: endpoint.to_owned(),
        ..Default::default()
    }
}

#[test]
fn no_endpoint_exports_nothing() {
    let s = resolve_with(&TelemetryConf::default(), &[]);
    assert!(s.traces.is_none() && s.metrics.is_none() && s.logs.is_none());
    assert!(!s.disabled);
    assert_eq!(s.service_name, "svc");
}

#[test]
fn guide_endpoint_without_scheme_is_grpc() {
    let s = resolve_with(&conf_with_endpoint("localhost:4317"), &[]);
    let t = s.traces.expect("traces target");
    assert_eq!(t.endpoint, "http://localhost:4317");
    assert_eq!(t.protocol, Protocol::Grpc);
}

#[test]
fn port_4318_means_http_with_signal_paths() {
    let s = resolve_with(&conf_with_endpoint("collector:4318"), &[]);
    assert_eq!(
        s.traces.expect("t").endpoint,
        "http://collector:4318/v1/traces"
    );
    assert_eq!(
        s.metrics.expect("m").endpoint,
        "http://collector:4318/v1/metrics"
    );
    assert_eq!(s.logs.expect("l").endpoint, "http://collector:4318/v1/logs");
}

#[test]
fn env_endpoint_and_protocol_win_over_file() {
    let s = resolve_with(
        &conf_with_endpoint("localhost:4317"),
        &[
            (OTEL_EXPORTER_OTLP_ENDPOINT, "https://otel.example:4443"),
            (OTEL_EXPORTER_OTLP_PROTOCOL, "http/protobuf"),
        ],
    );
    let t = s.traces.expect("t");
    assert_eq!(t.endpoint, "https://otel.example:4443/v1/traces");
    assert_eq!(t.protocol, Protocol::HttpProtobuf);
}

#[test]
fn signal_endpoint_is_used_as_is() {
    let s = resolve_with(
        &TelemetryConf::default(),
        &[
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://a:4318/custom"),
            (OTEL_EXPORTER_OTLP_PROTOCOL, "http/protobuf"),
        ],
    );
    assert_eq!(s.traces.expect("t").endpoint, "http://a:4318/custom");
    assert!(s.metrics.is_none(), "no generic endpoint: metrics stay off");
}

#[test]
fn go_zero_batcher_and_http_path() {
    let conf = TelemetryConf {
        endpoint: "collector:9999".into(),
        batcher: Some("otlphttp".into()),
        otlp_http_path: "/otlp/v1/traces".into(),
        otlp_http_secure: true,
        ..Default::default()
    };
    let s = resolve_with(&conf, &[]);
    let t = s.traces.expect("t");
    assert_eq!(t.protocol, Protocol::HttpProtobuf);
    assert_eq!(t.endpoint, "https://collector:9999/otlp/v1/traces");
    assert_eq!(
        s.metrics.expect("m").endpoint,
        "https://collector:9999/v1/metrics"
    );
}

#[test]
fn sdk_disabled_by_env() {
    let s = resolve_with(
        &conf_with_endpoint("x:4317"),
        &[(OTEL_SDK_DISABLED, "TRUE")],
    );
    assert!(s.disabled);
    let s = resolve_with(&conf_with_endpoint("x:4317"), &[(OTEL_SDK_DISABLED, "yes")]);
    assert!(!s.disabled, "an unparsable value is ignored");
    assert!(
        s.warnings[0].contains("OTEL_SDK_DISABLED"),
        "{:?}",
        s.warnings
    );
}

#[test]
fn service_name_precedence() {
    let conf = TelemetryConf {
        name: "from-file".into(),
        ..Default::default()
    };
    assert_eq!(resolve_with(&conf, &[]).service_name, "from-file");
    let attrs = [(
        OTEL_RESOURCE_ATTRIBUTES,
        "service.name=from-attrs,team=pay%20ments",
    )];
    let s = resolve_with(&conf, &attrs);
    assert_eq!(s.service_name, "from-attrs");
    assert!(
        s.resource_attributes
            .iter()
            .any(|kv| kv.key.as_str() == "team" && kv.value.as_str() == "pay ments")
    );
    let both = [attrs[0], (OTEL_SERVICE_NAME, "from-env")];
    assert_eq!(resolve_with(&conf, &both).service_name, "from-env");
}

#[test]
fn malformed_resource_attributes_keep_the_good_ones() {
    let s = resolve_with(
        &TelemetryConf::default(),
        &[(OTEL_RESOURCE_ATTRIBUTES, "a=1,broken,=x,b=%zz,c=3")],
    );
    let keys: Vec<_> = s
        .resource_attributes
        .iter()
        .map(|kv| kv.key.to_string())
        .collect();
    assert_eq!(keys, ["a", "c"]);
    assert_eq!(s.warnings.len(), 3, "{:?}", s.warnings);
}

/// The items of `OTEL_EXPORTER_OTLP_HEADERS` are API keys: a malformed one is reported
/// by position (and key), never echoed; `Debug` of the config and targets hides values.
#[test]
fn header_secrets_never_reach_warnings_or_debug() {
    let mut conf = conf_with_endpoint("x:4317");
    conf.otlp_headers
        .insert("api-key".into(), "file-SECRET-1".into());
    let raw = "Bearer SECRET-2,x-key=SECRET-3%zz,=SECRET-4,ok=fine";
    let s = resolve_with(&conf, &[(OTEL_EXPORTER_OTLP_HEADERS, raw)]);
    assert_eq!(s.warnings.len(), 3, "{:?}", s.warnings);
    let all = format!("{:?} {:?} {:?}", s.warnings, conf, s.traces);
    assert!(!all.contains("SECRET"), "{all}");
    assert!(s.warnings[0].contains("item 1"), "{:?}", s.warnings);
    assert!(s.warnings[1].contains("x-key"), "{:?}", s.warnings);
    assert!(all.contains("api-key") && all.contains("***"), "{all}");
    assert!(
        s.traces
            .is_some_and(|t| t.headers.iter().any(|(k, _)| k == "ok"))
    );
}

#[test]
fn headers_from_file_and_env_merge() {
    let mut conf = conf_with_endpoint("x:4317");
    conf.otlp_headers.insert("api-key".into(), "file".into());
    conf.otlp_headers.insert("tenant".into(), "t1".into());
    let s = resolve_with(&conf, &[(OTEL_EXPORTER_OTLP_HEADERS, "Api-Key=env%3D1")]);
    let mut h = s.traces.expect("t").headers;
    h.sort();
    assert_eq!(
        h,
        [
            ("Api-Key".to_owned(), "env=1".to_owned()),
            ("tenant".to_owned(), "t1".to_owned())
        ]
    );
}

#[test]
fn sampler_defaults_to_parent_based_ratio() {
    let conf = TelemetryConf {
        sampler: 0.25,
        ..Default::default()
    };
    let s = resolve_with(&conf, &[]);
    assert_eq!(
        s.sampler,
        SamplerSpec::ParentBased(Box::new(SamplerSpec::Ratio(0.25)))
    );
}

#[test]
fn sampler_env_wins_and_bad_values_warn() {
    let s = resolve_with(
        &TelemetryConf::default(),
        &[
            (OTEL_TRACES_SAMPLER, "traceidratio"),
            (OTEL_TRACES_SAMPLER_ARG, "0.1"),
        ],
    );
    assert_eq!(s.sampler, SamplerSpec::Ratio(0.1));
    let s = resolve_with(
        &TelemetryConf::default(),
        &[
            (OTEL_TRACES_SAMPLER, "sometimes"),
            (OTEL_TRACES_SAMPLER_ARG, "2"),
        ],
    );
    assert_eq!(
        s.sampler,
        SamplerSpec::ParentBased(Box::new(SamplerSpec::Ratio(1.0)))
    );
    assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
}

#[test]
fn rules_keep_parent_basedness() {
    let conf = TelemetryConf {
        sampler: 0.1,
        rules: vec![SampleRule {
            attribute: "http.route".into(),
            values: vec!["/pay".into()],
            ratio: 1.0,
        }],
        ..Default::default()
    };
    match resolve_with(&conf, &[]).sampler {
        SamplerSpec::ParentBased(inner) => match *inner {
            SamplerSpec::Rules { default_ratio, .. } => assert_eq!(default_ratio, 0.1),
            other => panic!("expected rules, got {other:?}"),
        },
        other => panic!("expected parent based, got {other:?}"),
    }
}

#[test]
fn batch_defaults_are_the_guides_and_env_overrides() {
    let s = resolve_with(&TelemetryConf::default(), &[]);
    assert_eq!(s.batch.max_export_batch_size, 512);
    assert_eq!(s.batch.max_queue_size, 2048);
    assert_eq!(s.batch.schedule_delay, 5000);
    assert_eq!(s.batch.export_timeout, 30000);
    let s = resolve_with(
        &TelemetryConf::default(),
        &[
            (OTEL_BSP_MAX_QUEUE_SIZE, "100"),
            (OTEL_BSP_MAX_EXPORT_BATCH_SIZE, "200"),
            (OTEL_BSP_SCHEDULE_DELAY, "soon"),
            (OTEL_METRIC_EXPORT_INTERVAL, "1500"),
        ],
    );
    assert_eq!(s.batch.max_queue_size, 100);
    assert_eq!(s.batch.max_export_batch_size, 100, "clamped to the queue");
    assert_eq!(s.batch.schedule_delay, 5000);
    assert_eq!(s.metric_interval, Duration::from_millis(1500));
    assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
}

#[test]
fn exporter_none_turns_a_signal_off() {
    let s = resolve_with(
        &conf_with_endpoint("x:4317"),
        &[
            (OTEL_METRICS_EXPORTER, "none"),
            (OTEL_LOGS_EXPORTER, "none"),
        ],
    );
    assert!(s.traces.is_some() && s.metrics.is_none() && s.logs.is_none());
}

#[test]
fn bad_file_values_fail_with_the_key() {
    let cases: Vec<(TelemetryConf, &str)> = vec![
        (
            TelemetryConf {
                sampler: 1.5,
                ..Default::default()
            },
            "telemetry config: Sampler: expected a ratio between 0.0 and 1.0, found 1.5",
        ),
        (
            TelemetryConf {
                batcher: Some("jaeger".into()),
                ..Default::default()
            },
            "telemetry config: Batcher: expected `otlpgrpc` or `otlphttp`, found `jaeger`",
        ),
        (
            TelemetryConf {
                sampler_type: Some("often".into()),
                ..Default::default()
            },
            "telemetry config: SamplerType: expected one of always_on",
        ),
        (
            TelemetryConf {
                rules: vec![SampleRule {
                    attribute: "x".into(),
                    values: vec![],
                    ratio: -1.0,
                }],
                ..Default::default()
            },
            "telemetry config: Rules[0].Ratio: expected a ratio between 0.0 and 1.0",
        ),
    ];
    for (conf, want) in cases {
        let err = Settings::resolve(&conf, "svc", |_| None).expect_err("must fail");
        assert!(err.to_string().starts_with(want), "{err}");
    }
}

#[test]
fn propagators_come_from_env_then_file_then_the_default() {
    use crate::propagation::PropagatorName::*;
    let s = resolve_with(&TelemetryConf::default(), &[]);
    assert_eq!(s.propagators, [TraceContext, Baggage]);
    let conf = TelemetryConf {
        propagators: vec![B3, Jaeger],
        ..Default::default()
    };
    assert_eq!(resolve_with(&conf, &[]).propagators, [B3, Jaeger]);
    let s = resolve_with(&conf, &[("OTEL_PROPAGATORS", "b3multi,none")]);
    assert_eq!(s.propagators, [None]);
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    // A value that names nothing known is ignored, with a warning.
    let s = resolve_with(&conf, &[("OTEL_PROPAGATORS", "xray")]);
    assert_eq!(s.propagators, [B3, Jaeger]);
    assert!(s.warnings[0].contains("xray"), "{:?}", s.warnings);
}

#[test]
fn tls_files_come_from_signal_vars_then_generic_vars_then_the_file() {
    let conf = TelemetryConf {
        otlp_ca_cert_file: "/file/ca.pem".into(),
        otlp_cert_file: "/file/cert.pem".into(),
        otlp_key_file: "/file/key.pem".into(),
        ..conf_with_endpoint("https://collector:4317")
    };
    let s = resolve_with(
        &conf,
        &[
            (OTEL_EXPORTER_OTLP_CERTIFICATE, "/env/ca.pem"),
            ("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "/traces/ca.pem"),
            ("OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY", "/logs/key.pem"),
        ],
    );
    let (t, m, l) = (
        s.traces.expect("t").tls,
        s.metrics.expect("m").tls,
        s.logs.expect("l").tls,
    );
    assert_eq!(t.ca_cert_file, "/traces/ca.pem");
    assert_eq!(m.ca_cert_file, "/env/ca.pem");
    assert_eq!(
        (m.client_cert_file.as_str(), m.client_key_file.as_str()),
        ("/file/cert.pem", "/file/key.pem")
    );
    assert_eq!(l.client_key_file, "/logs/key.pem");
    let plain = resolve_with(&conf_with_endpoint("localhost:4317"), &[]);
    assert!(!plain.traces.expect("t").tls.is_set());
}

#[test]
fn attributes_are_deferred_only_for_samplers_that_ignore_them_and_drop_most() {
    use crate::config::SampleRule;
    assert!(SamplerSpec::AlwaysOff.defer_attributes());
    assert!(SamplerSpec::Ratio(0.1).defer_attributes());
    assert!(SamplerSpec::ParentBased(Box::new(SamplerSpec::Ratio(0.0))).defer_attributes());
    assert!(!SamplerSpec::AlwaysOn.defer_attributes());
    assert!(!SamplerSpec::ParentBased(Box::new(SamplerSpec::Ratio(1.0))).defer_attributes());
    let rule = SampleRule {
        attribute: "http.route".into(),
        values: vec![],
        ratio: 1.0,
    };
    assert!(
        !SamplerSpec::Rules {
            rules: vec![rule],
            default_ratio: 0.0
        }
        .defer_attributes(),
        "a rule reads the attributes at the start"
    );
}
