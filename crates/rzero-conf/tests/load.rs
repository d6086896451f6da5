//! Loading: the guide's file, files on disk, `${VAR}` expansion, durations and defaults.

mod common;

use std::io::Write;
use std::time::Duration;

use common::{GUIDE, OrderConfig, err, load};
use rzero_conf::{Loader, Mode, RedisType};

#[test]
fn the_guides_file_parses_into_a_composed_struct() {
    let c = load(GUIDE).expect("valid");
    assert_eq!(c.rpc.service.name, "order.rpc");
    assert_eq!(c.rpc.service.mode, Mode::Pro, "go-zero's default mode");
    assert_eq!(c.rpc.listen_on, "0.0.0.0:8080");
    let etcd = c.rpc.etcd.as_ref().expect("etcd");
    assert_eq!(
        (&etcd.hosts[..], &etcd.key[..]),
        (&["localhost:2379".to_owned()][..], "order.rpc")
    );
    let otel = c.open_telemetry.as_ref().expect("otel");
    assert_eq!(
        (otel.endpoint.as_str(), otel.sampler),
        ("localhost:4317", 1.0)
    );
    assert_eq!(
        otel.headers["X-Anything"], "goes",
        "map keys are data, not unknown keys"
    );
    assert_eq!(
        c.mysql.data_source,
        "root:s3cret@tcp(localhost:3306)/order_db?charset=utf8mb4&parseTime=true"
    );
    assert_eq!(c.redis.kind, RedisType::Node);
    assert!(!format!("{c:?}").contains("s3cret"), "no password in Debug");
}

#[test]
fn loads_a_real_file_from_disk() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("order.yaml");
    std::fs::write(&path, GUIDE).expect("write");
    let c: OrderConfig = Loader::new()
        .env(|k| (k == "MYSQL_PASS").then(|| "pw".to_owned()))
        .load(&path)
        .expect("valid");
    assert!(c.mysql.data_source.starts_with("root:pw@tcp("));
    // `load` reads the process environment; the guide's `${MYSQL_PASS:-}` has a default.
    let c: OrderConfig = rzero_conf::load(&path).expect("valid");
    assert_eq!(c.rpc.service.name, "order.rpc");
}

#[test]
fn env_variables_are_expanded_with_defaults_and_escapes() {
    let text = GUIDE
        .replace("localhost:6379", "${REDIS_HOST:-127.0.0.1:6379}")
        .replace("Key: order.rpc", "Key: ${NAME}")
        .replace("Endpoint: localhost:4317", "Endpoint: \"$$HOME/${NAME}\"");
    let c: OrderConfig = Loader::new()
        .env(|k| (k == "NAME").then(|| "order.rpc.v2".to_owned()))
        .load_str("etc/order.yaml", &text)
        .expect("valid");
    assert_eq!(c.redis.host, "127.0.0.1:6379", "default");
    assert_eq!(c.rpc.etcd.expect("etcd").key, "order.rpc.v2", "set");
    assert_eq!(
        c.open_telemetry.expect("otel").endpoint,
        "$HOME/order.rpc.v2",
        "`$$` is a `$`"
    );
    assert_eq!(c.mysql.data_source.split('@').next(), Some("root:"));
}

#[test]
fn an_unset_variable_is_an_error_naming_it_and_its_line() {
    let text = GUIDE.replace("localhost:6379", "${REDIS_HOST}");
    assert_eq!(
        err(&text),
        "etc/order.yaml:20:9: environment variable `REDIS_HOST` is not set (set it, or write \
         `${REDIS_HOST:-default}` to give a default)"
    );
    // Commented out, it is not config.
    let text = GUIDE.replace("# OpenTelemetry", "# Pass: ${REDIS_PASS}");
    assert!(load(&text).is_ok());
}

#[test]
fn a_malformed_reference_is_an_error_at_its_column() {
    let e = err(&GUIDE.replace("Type: node", "Type: ${TYPE"));
    assert_eq!(
        e,
        "etc/order.yaml:21:9: `${` is not closed by `}` on the same line"
    );
    let e = err(&GUIDE.replace("Type: node", "Type: ${}"));
    assert!(
        e.starts_with("etc/order.yaml:21:9: `${}`: expected a variable name"),
        "{e}"
    );
    let e = err(&GUIDE.replace("Type: node", "Type: ${REDIS-TYPE}"));
    assert!(
        e.starts_with("etc/order.yaml:21:9: `${REDIS-TYPE}`: expected a variable name"),
        "{e}"
    );
}

#[test]
fn positions_after_an_expansion_are_the_files() {
    // `${H:-x}` before it on the line became `x`: the column is the file's (30), not
    // the expanded text's (24).
    let text = GUIDE.replace(
        "Redis:\n  Host",
        "Redis: {Host: ${H:-x}, Type: ring}\nX:\n  Host",
    );
    let e = err(&text);
    assert!(
        e.starts_with("etc/order.yaml:19:30: Redis.Type: unknown variant `ring`"),
        "{e}"
    );
}

#[test]
fn durations_as_milliseconds_or_with_units() {
    let c = load(GUIDE).expect("valid");
    assert_eq!(c.rpc.timeout, Duration::from_secs(2), "default fn");
    assert_eq!(c.rpc.keepalive, None, "absent option");
    let c = load(&format!("{GUIDE}Timeout: 5000\nKeepaliveTime: 1m\n")).expect("ms");
    assert_eq!(c.rpc.timeout, Duration::from_secs(5));
    assert_eq!(c.rpc.keepalive, Some(Duration::from_secs(60)));
    let c = load(&format!("{GUIDE}Timeout: 1.5s\nKeepaliveTime: 250\n")).expect("unit");
    assert_eq!(c.rpc.timeout, Duration::from_millis(1500));
    assert_eq!(c.rpc.keepalive, Some(Duration::from_millis(250)));
    let c = load(&format!("{GUIDE}Timeout: 500ms\nKeepaliveTime: ~\n")).expect("null");
    assert_eq!(c.rpc.timeout, Duration::from_millis(500));
    assert_eq!(c.rpc.keepalive, None);
}

#[test]
fn a_bad_duration_says_what_is_accepted() {
    assert_eq!(
        err(&format!("{GUIDE}Timeout: soon\n")),
        "etc/order.yaml:22:10: Timeout: expected a duration such as 3000 (ms), 500ms, 5s, 1m or \
         2h, found \"soon\""
    );
    assert_eq!(
        err(&format!("{GUIDE}KeepaliveTime: 5 days\n")),
        "etc/order.yaml:22:16: KeepaliveTime: expected a duration such as 3000 (ms), 500ms, 5s, \
         1m or 2h, found \"5 days\""
    );
    assert_eq!(
        err(&GUIDE.replace(
            "ListenOn: 0.0.0.0:8080",
            "ListenOn: 0.0.0.0:8080\nTimeout: -5"
        )),
        "etc/order.yaml:3:10: Timeout: expected a duration that is not negative, found -5"
    );
}

#[test]
fn files_missing_large_or_not_utf8_fail_with_the_path() {
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
    assert_eq!(
        e,
        format!(
            "{}: 1048577 bytes is more than the 1048576 a config file may have (configs are \
             small: is this the right file?)",
            path.display()
        )
    );
    let path = dir.path().join("latin1.yaml");
    let mut f = std::fs::File::create(&path).expect("create");
    f.write_all(b"Name: caf\xe9\n").expect("write");
    let e = rzero_conf::load::<OrderConfig>(&path)
        .expect_err("latin1")
        .to_string();
    assert_eq!(
        e,
        format!(
            "{}:1:10: not UTF-8 text (invalid byte at offset 9): save the file as UTF-8",
            path.display()
        )
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
fn empty_files_are_refused() {
    for text in ["", "\n\n", "# only a comment\n", "---\n", "~\n"] {
        assert_eq!(
            err(text),
            "etc/order.yaml: the file is empty: expected keys such as `Name: my-service`",
            "{text:?}"
        );
    }
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("empty.yaml");
    std::fs::write(&path, "").expect("write");
    let e = rzero_conf::load::<OrderConfig>(&path).expect_err("empty");
    assert!(
        e.to_string()
            .ends_with(": the file is empty: expected keys such as `Name: my-service`")
    );
}

#[test]
fn hostile_input_fails_cleanly() {
    let deep = format!("Name: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    assert!(
        err(&deep).starts_with("etc/order.yaml:1:"),
        "a line, no stack overflow"
    );
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    assert!(err(bomb).starts_with("etc/order.yaml"));
    let big = "#".repeat(2 << 20);
    assert_eq!(
        err(&big),
        "etc/order.yaml: 2097152 bytes is more than the 1048576 a config file may have \
         (configs are small: is this the right file?)"
    );
    assert!(err("Name: \u{0}\u{1}\u{2}").starts_with("etc/order.yaml"));
    let huge = "x".repeat(1 << 20);
    let e = Loader::new()
        .env(move |_| Some(huge.clone()))
        .load_str::<OrderConfig>("etc/order.yaml", "Name: ${A}${A}${A}\n")
        .expect_err("huge");
    assert!(
        e.to_string()
            .starts_with("etc/order.yaml: the file grows to 3145735 bytes once its `${VAR}`s are expanded (at most 2097152)"),
        "{e}"
    );
}
