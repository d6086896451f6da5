//! Every rule of the loader, with the error text a person would read.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use rzero_conf::{ConfError, EtcdConf, Loader, RedisConf, RedisType, ServiceConf, SqlConf};
use serde::{Deserialize, Serialize};

/// A go-zero style RPC server config, composed with flatten like go-zero's embedding.
#[derive(Debug, Deserialize, Serialize)]
struct RpcServerConf {
    #[serde(flatten)]
    service: ServiceConf,
    #[serde(rename = "ListenOn")]
    listen_on: String,
    #[serde(rename = "Etcd", default)]
    etcd: Option<EtcdConf>,
    #[serde(
        rename = "Timeout",
        with = "rzero_conf::duration",
        default = "default_timeout"
    )]
    timeout: Duration,
}

fn default_timeout() -> Duration {
    Duration::from_secs(2)
}

#[derive(Debug, Deserialize, Serialize)]
struct OpenTelemetry {
    #[serde(rename = "Endpoint", default)]
    endpoint: String,
    #[serde(rename = "Sampler", default = "one")]
    sampler: f64,
    #[serde(rename = "Headers", default)]
    headers: BTreeMap<String, String>,
}

fn one() -> f64 {
    1.0
}

#[derive(Debug, Deserialize, Serialize)]
struct OrderConfig {
    #[serde(flatten)]
    rpc: RpcServerConf,
    #[serde(rename = "OpenTelemetry", default)]
    open_telemetry: Option<OpenTelemetry>,
    #[serde(rename = "Mysql")]
    mysql: SqlConf,
    #[serde(rename = "Redis")]
    redis: RedisConf,
}

const GUIDE: &str = r#"Name: order.rpc
ListenOn: 0.0.0.0:8080

Etcd:
  Hosts:
    - localhost:2379
  Key: order.rpc

# OpenTelemetry
OpenTelemetry:
  Endpoint: localhost:4317
  Sampler: 1.0
  Headers:
    X-Anything: goes

Mysql:
  DataSource: root:${MYSQL_PASS:-}@tcp(localhost:3306)/order_db?charset=utf8mb4&parseTime=true

Redis:
  Host: localhost:6379
  Type: node
"#;

fn load(text: &str) -> Result<OrderConfig, ConfError> {
    Loader::new()
        .env(|k| (k == "MYSQL_PASS").then(|| "s3cret".to_owned()))
        .load_str("etc/order.yaml", text)
}

fn err(text: &str) -> String {
    load(text).expect_err("must fail").to_string()
}

#[test]
fn the_guides_file_parses_into_a_composed_struct() {
    let c = load(GUIDE).expect("valid");
    assert_eq!(c.rpc.service.name, "order.rpc");
    assert_eq!(c.rpc.listen_on, "0.0.0.0:8080");
    let etcd = c.rpc.etcd.expect("etcd");
    assert_eq!(
        (etcd.hosts, etcd.key),
        (vec!["localhost:2379".to_owned()], "order.rpc".to_owned())
    );
    assert_eq!(c.rpc.timeout, Duration::from_secs(2), "default");
    let otel = c.open_telemetry.expect("otel");
    assert_eq!(
        (otel.endpoint.as_str(), otel.sampler),
        ("localhost:4317", 1.0)
    );
    assert_eq!(
        otel.headers["X-Anything"], "goes",
        "map keys are data, not unknown keys"
    );
    assert!(c.mysql.data_source.starts_with("root:s3cret@tcp("));
    assert_eq!(c.redis.kind, RedisType::Node);
    assert!(!format!("{:?}", c.mysql).contains("s3cret"));
}

#[test]
fn durations_as_milliseconds_or_with_units() {
    let c = load(&format!("{GUIDE}Timeout: 5000\n")).expect("ms");
    assert_eq!(c.rpc.timeout, Duration::from_secs(5));
    let c = load(&format!("{GUIDE}Timeout: 1.5s\n")).expect("unit");
    assert_eq!(c.rpc.timeout, Duration::from_millis(1500));
    assert_eq!(
        err(&format!("{GUIDE}Timeout: soon\n")),
        "etc/order.yaml:22:10: Timeout: expected a duration such as 3000 (ms), 500ms, 5s, 1m or \
         2h, found \"soon\""
    );
}

#[test]
fn unknown_top_level_key_through_flatten() {
    let e = err(&GUIDE.replace("ListenOn:", "ListenOn: 0.0.0.0:8080\nListenOnn:"));
    assert!(e.starts_with("etc/order.yaml:3:1: ListenOnn: unknown key (check its spelling and case): expected one of Etcd, ListenOn, Mode, Mysql, Name, OpenTelemetry, Redis, Timeout"), "{e}");
}

#[test]
fn unknown_nested_key_names_its_path() {
    let e = err(&GUIDE.replace("  Key: order.rpc", "  Key: order.rpc\n  Hostz: [x]"));
    assert!(
        e.starts_with("etc/order.yaml:8:3: Etcd.Hostz: unknown key"),
        "{e}"
    );
    assert!(e.contains("expected one of CACertFile, CertFile, CertKeyFile, Hosts, ID, InsecureSkipVerify, Key, Pass, User"), "{e}");
}

#[test]
fn wrong_case_is_an_unknown_key() {
    let e = err(&GUIDE.replace("Redis:\n  Host", "Redis:\n  host"));
    assert_eq!(
        e,
        "etc/order.yaml:19:1: Redis.Host: this key is required but missing; found `host`: did \
         you mean `Host`? (keys are case-sensitive)"
    );
    let e = err(&GUIDE.replace("  Type: node", "  Type: node\n  tls: true"));
    assert!(
        e.starts_with("etc/order.yaml:22:3: Redis.tls: unknown key"),
        "{e}"
    );
}

#[test]
fn missing_required_key() {
    let e = err(&GUIDE.replace("ListenOn: 0.0.0.0:8080\n", ""));
    assert!(e.starts_with("etc/order.yaml"), "{e}");
    assert!(
        e.ends_with("ListenOn: this key is required but missing"),
        "{e}"
    );
    // Inside a flattened part serde does not say which section; the key is still named.
    let e = err(&GUIDE.replace("  Key: order.rpc\n", ""));
    assert!(e.ends_with("Key: this key is required but missing"), "{e}");
    let e = err(&GUIDE.replace("  Host: localhost:6379\n", ""));
    assert_eq!(
        e,
        "etc/order.yaml:19:1: Redis.Host: this key is required but missing"
    );
}

#[test]
fn wrong_type_says_what_was_expected() {
    let e = err(&GUIDE.replace("Sampler: 1.0", "Sampler: lots"));
    assert_eq!(
        e,
        "etc/order.yaml:12:3: OpenTelemetry.Sampler: invalid type: string \"lots\", expected f64"
    );
    let e = err(&GUIDE.replace("Type: node", "Type: ring"));
    assert!(
        e.starts_with(
            "etc/order.yaml:21:3: Redis.Type: unknown variant `ring`, expected `node` or `cluster`"
        ),
        "{e}"
    );
    let e = err(&GUIDE.replace("  Type: node", "  Type: node\n  Tls: [1, 2]"));
    assert!(
        e.starts_with("etc/order.yaml:22:3: Redis.Tls: invalid type: sequence"),
        "{e}"
    );
    // In a flattened part serde forgets the key; the value it quotes finds it again.
    let e = err(&GUIDE.replace(
        "ListenOn: 0.0.0.0:8080",
        "ListenOn: 0.0.0.0:8080\nTimeout: -5",
    ));
    assert_eq!(
        e,
        "etc/order.yaml:3:10: Timeout: expected a duration that is not negative, found -5"
    );
}

#[test]
fn unparsable_yaml_points_at_the_line() {
    let e = err("Name: a\n  ListenOn: b\n");
    assert!(e.starts_with("etc/order.yaml:2:"), "{e}");
    let e = err("Name: \"unclosed\nListenOn: x\n");
    assert!(e.starts_with("etc/order.yaml:"), "{e}");
    assert!(e.contains("quoted scalar"), "{e}");
    let e = err("Name: a\n\tListenOn: b\n");
    assert!(e.starts_with("etc/order.yaml:2:"), "{e}");
    let e = err("- just\n- a list\n");
    assert!(e.contains("expected struct"), "{e}");
}

#[test]
fn empty_files_are_refused() {
    for text in ["", "\n\n", "# only a comment\n"] {
        assert_eq!(
            err(text),
            "etc/order.yaml: the file is empty: expected keys such as `Name: my-service`"
        );
    }
}

#[test]
fn env_errors_carry_the_line() {
    let text = GUIDE.replace("localhost:6379", "${REDIS_HOST}");
    assert_eq!(
        err(&text),
        "etc/order.yaml:20:9: environment variable `REDIS_HOST` is not set (set it, or write \
         `${REDIS_HOST:-default}` to give a default)"
    );
}

#[test]
fn hostile_input_fails_cleanly() {
    let deep = format!("Name: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    assert!(err(&deep).starts_with("etc/order.yaml"));
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    assert!(err(bomb).starts_with("etc/order.yaml"));
    let big = "#".repeat(2 << 20);
    assert!(err(&big).contains("more than the 1048576 bytes"));
    assert!(err("Name: \u{0}\u{1}\u{2}").starts_with("etc/order.yaml"));
}

#[test]
fn files_missing_large_or_not_utf8() {
    let e = rzero_conf::load::<OrderConfig>("/definitely/not/here.yaml").expect_err("missing");
    assert_eq!(
        e.to_string(),
        "/definitely/not/here.yaml: no such file: pass the config file's path (e.g. `-f etc/service.yaml`)"
    );
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("big.yaml");
    std::fs::write(&path, vec![b'#'; (1 << 20) + 1]).expect("write");
    let e = rzero_conf::load::<OrderConfig>(&path)
        .expect_err("big")
        .to_string();
    assert!(
        e.ends_with("1048577 bytes is more than the 1048576 a config file may have"),
        "{e}"
    );
    let path = dir.path().join("latin1.yaml");
    let mut f = std::fs::File::create(&path).expect("create");
    f.write_all(b"Name: caf\xe9\n").expect("write");
    let e = rzero_conf::load::<OrderConfig>(&path)
        .expect_err("latin1")
        .to_string();
    assert!(
        e.ends_with("not UTF-8 text (invalid byte at offset 9): save the file as UTF-8"),
        "{e}"
    );
    let e = rzero_conf::load::<OrderConfig>(dir.path())
        .expect_err("dir")
        .to_string();
    assert!(
        e.ends_with("not a file: expected a YAML config file"),
        "{e}"
    );
}

#[test]
fn loads_a_real_file_from_disk() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("order.yaml");
    std::fs::write(&path, GUIDE.replace("${MYSQL_PASS:-}", "")).expect("write");
    let c: OrderConfig = rzero_conf::load(&path).expect("valid");
    assert_eq!(c.rpc.service.name, "order.rpc");
}
