//! The telemetry sections as they appear in a service's YAML file: the guide's and
//! go-zero's spellings parse, and mistakes fail with the file, line and key.

use rzero_conf::Loader;
use rzero_telemetry::{LogConf, LogEncoding, PrometheusConf, Protocol, TelemetryConf};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Service {
    name: String,
    #[serde(default)]
    open_telemetry: Option<TelemetryConf>,
    #[serde(default)]
    telemetry: Option<TelemetryConf>,
    #[serde(default)]
    log: LogConf,
    #[serde(default)]
    prometheus: Option<PrometheusConf>,
}

fn load(text: &str) -> Result<Service, String> {
    Loader::new()
        .env(|k| (k == "OTLP_KEY").then(|| "k-123".to_owned()))
        .load_str("etc/svc.yaml", text)
        .map_err(|e| e.to_string())
}

#[test]
fn the_guides_section_parses_with_defaults() {
    let s = load("Name: order-api\nOpenTelemetry:\n  Endpoint: localhost:4317\n  Sampler: 1.0\n")
        .expect("valid");
    let t = s.open_telemetry.expect("section");
    assert_eq!(t.endpoint, "localhost:4317");
    assert_eq!(t.batch.max_export_batch_size, 512);
    assert_eq!(t.batch.schedule_delay, 5000);
    assert_eq!(s.log.encoding, LogEncoding::Json);
}

#[test]
fn go_zeros_section_parses() {
    let yaml = "Name: user-api
Telemetry:
  Name: user-api
  Endpoint: http://jaeger:4318
  Sampler: 0.5
  Batcher: otlphttp
  OtlpHeaders:
    api-key: ${OTLP_KEY}
  Rules:
    - Attribute: http.request.header.x-priority
      Values: [high]
      Ratio: 1.0
  Batch:
    MaxQueueSize: 4096
Log:
  Encoding: plain
  Level: debug
Prometheus:
  Port: 9101
";
    let s = load(yaml).expect("valid");
    let t = s.telemetry.expect("section");
    assert_eq!(t.batcher.as_deref(), Some("otlphttp"));
    assert_eq!(t.otlp_headers["api-key"], "k-123");
    assert_eq!(t.rules[0].values, ["high"]);
    assert_eq!(
        (t.batch.max_queue_size, t.batch.max_export_batch_size),
        (4096, 512)
    );
    assert_eq!(s.prometheus.expect("prometheus").port, 9101);
    assert_eq!(s.log.encoding, LogEncoding::Plain);
}

#[test]
fn mistakes_fail_with_line_and_key() {
    let e = load("Name: a\nOpenTelemetry:\n  Endpiont: x:4317\n").expect_err("typo");
    assert!(
        e.starts_with("etc/svc.yaml:3:3: OpenTelemetry.Endpiont: unknown key"),
        "{e}"
    );
    let e = load("Name: a\nOpenTelemetry:\n  Sampler: all\n").expect_err("type");
    assert!(e.starts_with("etc/svc.yaml:3:"), "{e}");
    assert!(
        e.contains("OpenTelemetry.Sampler: invalid type: string \"all\", expected f64"),
        "{e}"
    );
    let e = load("Name: a\nOpenTelemetry:\n  Protocol: http/json\n").expect_err("variant");
    assert!(
        e.contains("OpenTelemetry.Protocol: unknown variant `http/json`"),
        "{e}"
    );
    let e = load("Name: a\nTelemetry:\n  Batch:\n    MaxQueueSize: -1\n").expect_err("negative");
    assert!(e.starts_with("etc/svc.yaml:4:"), "{e}");
    assert!(e.contains("Telemetry.Batch.MaxQueueSize"), "{e}");
    let e = load("Name: a\nLog:\n  Encoding: xml\n").expect_err("encoding");
    assert!(
        e.contains("Log.Encoding: unknown variant `xml`, expected `json` or `plain`"),
        "{e}"
    );
    let e = load("OpenTelemetry:\n  Endpoint: x\n").expect_err("missing");
    assert!(e.ends_with("Name: this key is required but missing"), "{e}");
}

#[test]
fn protocol_names_are_the_otel_ones() {
    let s = load("Name: a\nOpenTelemetry:\n  Protocol: http/protobuf\n").expect("valid");
    assert_eq!(
        s.open_telemetry.expect("t").protocol,
        Some(Protocol::HttpProtobuf)
    );
}

#[tokio::test]
async fn headers_http_cannot_carry_fail_at_start() {
    for (protocol, name, value) in [
        (Protocol::Grpc, "bad header", "x"),
        (Protocol::HttpProtobuf, "bad header", "x"),
        (Protocol::HttpProtobuf, "api-key", "line\nbreak"),
    ] {
        let mut conf = TelemetryConf {
            endpoint: "127.0.0.1:9".into(),
            protocol: Some(protocol),
            ..TelemetryConf::default()
        };
        conf.otlp_headers.insert(name.into(), value.into());
        let err = rzero_telemetry::Telemetry::new("svc", "1")
            .conf(&conf)
            .env([])
            .without_subscriber()
            .init()
            .expect_err("a header HTTP cannot carry");
        assert!(
            err.to_string()
                .starts_with("telemetry config: OtlpHeaders:"),
            "{err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_over_otlp_http_starts_with_the_system_trust_store() {
    // OTLP/HTTP over TLS is built in (tests/otlp_tls.rs exports over it); with no CA file
    // the system's roots verify the collector.
    let conf = TelemetryConf {
        endpoint: "https://collector.invalid:4318".into(),
        protocol: Some(Protocol::HttpProtobuf),
        timeout: 500,
        ..TelemetryConf::default()
    };
    let guard = rzero_telemetry::Telemetry::new("svc", "1")
        .conf(&conf)
        .env([])
        .without_subscriber()
        .init()
        .expect("https OTLP/HTTP is accepted");
    // Nothing to flush reaches the unresolvable host; the shutdown stays bounded.
    let _ = guard.shutdown().await;
}

#[test]
fn propagators_are_a_list_of_the_specs_names() {
    use rzero_telemetry::propagation::PropagatorName;
    let s = load("Name: a\nTelemetry:\n  Propagators: [tracecontext, b3multi, jaeger]\n")
        .expect("valid");
    assert_eq!(
        s.telemetry.expect("section").propagators,
        [
            PropagatorName::TraceContext,
            PropagatorName::B3Multi,
            PropagatorName::Jaeger
        ]
    );
    let err = load("Name: a\nTelemetry:\n  Propagators: [tracecontext, xray]\n")
        .expect_err("xray is not supported");
    assert!(err.contains("Propagators") && err.contains("xray"), "{err}");
}
