//! A bad file fails with the file, the line, the key and what was expected.

mod common;

use std::collections::HashMap;

use common::{GUIDE, err};
use rzero_conf::{ConfError, ErrorKind, Loader};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Server {
    host: String,
    port: u16,
    #[serde(default)]
    headers: HashMap<String, String>,
}

fn server(text: &str) -> ConfError {
    Loader::new()
        .env(|_| None)
        .load_str::<Server>("etc/order.yaml", text)
        .expect_err("must fail")
}

#[test]
fn a_wrong_type_points_at_the_value_and_says_what_fits() {
    let e = server("Host: a\nPort: abc\n");
    assert_eq!(
        e.to_string(),
        "etc/order.yaml:2:7: Port: invalid type: string \"abc\", expected u16 (a whole number \
         from 0 to 65535)"
    );
    assert_eq!(
        (e.line, e.column, e.key.as_str()),
        (Some(2), Some(7), "Port")
    );
    assert!(matches!(e.kind, ErrorKind::Invalid(_)));
    assert_eq!(
        server("Host: a\nPort: 70000\n").to_string(),
        "etc/order.yaml:2:7: Port: invalid value: integer `70000`, expected u16 (a whole number \
         from 0 to 65535)"
    );
    let e = err(&GUIDE.replace("Sampler: 1.0", "Sampler: lots"));
    assert_eq!(
        e,
        "etc/order.yaml:12:12: OpenTelemetry.Sampler: invalid type: string \"lots\", expected \
         f64 (a number, e.g. 0.5)"
    );
    let e = err(&GUIDE.replace("Type: node", "Type: ring"));
    assert_eq!(
        e,
        "etc/order.yaml:21:9: Redis.Type: unknown variant `ring`, expected `node` or `cluster`"
    );
    let e = err(&GUIDE.replace("  Type: node", "  Type: node\n  Tls: [1, 2]"));
    assert_eq!(
        e,
        "etc/order.yaml:22:8: Redis.Tls: invalid type: sequence, expected a boolean (true or \
         false)"
    );
    let e = server("Host: a\nPort: 1\nHeaders:\n  x-a: [1]\n");
    assert_eq!(
        e.to_string(),
        "etc/order.yaml:4:8: Headers.x-a: invalid type: sequence, expected a string (quote the \
         value if it starts with `[`, `{`, `*` or `&`, or has `: ` in it)"
    );
}

#[test]
fn a_wrong_type_inside_flatten_is_found_again() {
    // serde forgets the key inside a flattened part; the quoted value finds it.
    let e = err(&GUIDE.replace("Hosts:\n    - localhost:2379", "Hosts: localhost:2379"));
    assert_eq!(
        e,
        "etc/order.yaml:5:10: Etcd.Hosts: invalid type: string \"localhost:2379\", expected a \
         sequence (a list: `[a, b]`, or one `- item` per line)"
    );
    // A value that quotes nothing is found when only one place fits ...
    let text = GUIDE.replace(
        "Etcd:\n  Hosts:\n    - localhost:2379\n  Key: order.rpc\n",
        "",
    );
    let e = err(&text.replace("ListenOn: 0.0.0.0:8080", "ListenOn: [a]"));
    assert!(
        e.starts_with("etc/order.yaml:2:11: ListenOn: invalid type: sequence"),
        "{e}"
    );
    // ... and is not guessed when several could (here the list of Etcd.Hosts).
    let e = err(&GUIDE.replace("ListenOn: 0.0.0.0:8080", "ListenOn: [a]"));
    assert_eq!(
        e,
        "etc/order.yaml: invalid type: sequence, expected a string (quote the value if it \
         starts with `[`, `{`, `*` or `&`, or has `: ` in it)"
    );
    let e = err(&GUIDE.replace("Name: order.rpc", "Name: order.rpc\nMode: prod"));
    assert_eq!(
        e,
        "etc/order.yaml:2:7: Mode: unknown variant `prod`, expected one of `dev`, `test`, `rt`, \
         `pre`, `pro`"
    );
}

#[test]
fn an_unknown_top_level_key_through_flatten() {
    let e = err(&GUIDE.replace("ListenOn:", "ListenOn: 0.0.0.0:8080\nListenOnn:"));
    assert_eq!(
        e,
        "etc/order.yaml:3:1: ListenOnn: unknown key (check its spelling and case): expected \
         one of Etcd, KeepaliveTime, ListenOn, Mode, Mysql, Name, OpenTelemetry, Redis, Timeout"
    );
    let e = err(&GUIDE.replace("Name: order.rpc", "Name: order.rpc\nTimeOut: 5s"));
    assert!(
        e.starts_with("etc/order.yaml:2:1: TimeOut: unknown key: did you mean `Timeout`?"),
        "{e}"
    );
    let e = err(&format!("{GUIDE}Prometheus:\n  Port: 9101\n"));
    assert_eq!(
        e,
        "etc/order.yaml:22:1: Prometheus: unknown key (check its spelling and case): expected \
         one of Etcd, KeepaliveTime, ListenOn, Mode, Mysql, Name, OpenTelemetry, Redis, Timeout"
    );
}

#[test]
fn an_unknown_nested_key_names_its_path() {
    let e = err(&GUIDE.replace("  Key: order.rpc", "  Key: order.rpc\n  Usr: me"));
    assert_eq!(
        e,
        "etc/order.yaml:8:3: Etcd.Usr: unknown key: did you mean `User`? (keys are \
         case-sensitive; expected one of CACertFile, CertFile, CertKeyFile, DialTimeout, \
         Hosts, ID, InsecureSkipVerify, Key, LeaseTTL, Pass, RequestTimeout, User)"
    );
    let e = err(&GUIDE.replace("  Type: node", "  Type: node\n  tls: true"));
    assert!(
        e.starts_with("etc/order.yaml:22:3: Redis.tls: unknown key: did you mean `Tls`?"),
        "{e}"
    );
    let e = server("Host: a\nPort: 1\nHeaders: {a: b}\nPorts: [1]\n");
    assert_eq!(
        e.key, "Ports",
        "map keys are data: only the real typo is reported"
    );
    assert!(matches!(e.kind, ErrorKind::UnknownKey { .. }));
}

#[test]
fn a_typo_of_a_required_key_is_named() {
    let e = err(&GUIDE.replace("    - localhost:2379", "    - localhost:2379\n  Hostz: [x]"));
    assert!(
        e.starts_with("etc/order.yaml:7:3: Etcd.Hostz: unknown key (check its spelling"),
        "Hosts is there: no suggestion; {e}"
    );
    let e = err(&GUIDE.replace("Hosts:", "Hostz:"));
    assert_eq!(
        e,
        "etc/order.yaml:5:3: Etcd.Hosts: this key is required but missing; found `Hostz`: did \
         you mean `Hosts`? (keys are case-sensitive)"
    );
    let e = err(&GUIDE.replace("Redis:\n  Host", "Redis:\n  host"));
    assert_eq!(
        e,
        "etc/order.yaml:20:3: Redis.Host: this key is required but missing; found `host`: did \
         you mean `Host`? (keys are case-sensitive)"
    );
    // Inside a flattened part too: the near miss finds the section serde forgot.
    let e = err(&GUIDE.replace("  Key: order.rpc", "  Kye: order.rpc"));
    assert_eq!(
        e,
        "etc/order.yaml:7:3: Etcd.Key: this key is required but missing; found `Kye`: did you \
         mean `Key`? (keys are case-sensitive)"
    );
}

#[test]
fn a_missing_required_key_is_named() {
    let e = server("Host: a\n");
    assert_eq!(
        e.to_string(),
        "etc/order.yaml: Port: this key is required but missing"
    );
    assert_eq!(e.kind, ErrorKind::MissingKey);
    let e = err(&GUIDE.replace("  Host: localhost:6379\n", ""));
    assert_eq!(
        e,
        "etc/order.yaml:19:1: Redis.Host: this key is required but missing"
    );
    let e = err(&GUIDE.replace("ListenOn: 0.0.0.0:8080\n", ""));
    assert_eq!(
        e,
        "etc/order.yaml: ListenOn: this key is required but missing"
    );
    // Inside a flattened part serde does not say which section: the loader finds it.
    let e = err(&GUIDE.replace("  Key: order.rpc\n", ""));
    assert_eq!(
        e,
        "etc/order.yaml:4:1: Etcd.Key: this key is required but missing"
    );
    let flow = "Etcd: {Key: order.rpc}\n";
    let e = err(&GUIDE.replace(
        "Etcd:\n  Hosts:\n    - localhost:2379\n  Key: order.rpc\n",
        flow,
    ));
    assert_eq!(
        e,
        "etc/order.yaml:4:1: Etcd.Hosts: this key is required but missing"
    );
    let e = err(&GUIDE.replace("Mysql:\n", "MySql:\n"));
    assert_eq!(
        e,
        "etc/order.yaml:16:1: Mysql: this key is required but missing; found `MySql`: did you \
         mean `Mysql`? (keys are case-sensitive)"
    );
}

#[test]
fn unparsable_yaml_points_at_the_line() {
    let e = err("Name: a\n  ListenOn: b\n");
    assert!(e.starts_with("etc/order.yaml:2:11: invalid YAML: "), "{e}");
    assert!(matches!(
        server("Host: a\n  Port: b\n").kind,
        ErrorKind::Syntax(_)
    ));
    let e = err("Name: \"unclosed\nListenOn: x\n");
    assert!(e.starts_with("etc/order.yaml:"), "{e}");
    assert!(e.contains("quoted scalar"), "{e}");
    let e = err("Name: a\nEtcd:\n\tHosts: [b]\n");
    assert!(e.starts_with("etc/order.yaml:3:1: invalid YAML: "), "{e}");
    assert!(
        e.ends_with("(indent with spaces: YAML does not allow tabs there)"),
        "{e}"
    );
    let e = err("Name: a\nEtcd: [a, b\n");
    assert!(e.starts_with("etc/order.yaml:"), "{e}");
    let e = err("Name: a\n---\nName: b\n");
    assert!(
        e.starts_with("etc/order.yaml:2:1: a second YAML document (after `---`)"),
        "{e}"
    );
    let e = err("- just\n- a list\n");
    assert!(e.starts_with("etc/order.yaml:"), "{e}");
    assert!(e.contains("expected struct OrderConfig"), "{e}");
    let e = err(&GUIDE.replace("  Type: node", "  Type: node\n  Host: other:6379"));
    assert_eq!(
        e,
        "etc/order.yaml:22:3: duplicate key `Host` (first at line 20): keep one"
    );
}

#[test]
fn a_users_deny_unknown_fields_reports_the_same_way() {
    #[derive(Debug, Deserialize, Serialize)]
    #[serde(deny_unknown_fields, rename_all = "PascalCase")]
    struct Strict {
        inner: Inner,
    }
    #[derive(Debug, Deserialize, Serialize)]
    #[serde(deny_unknown_fields, rename_all = "PascalCase")]
    struct Inner {
        port: u16,
    }
    let e = Loader::new()
        .load_str::<Strict>("s.yaml", "Inner:\n  Port: 1\n  Bogus: 2\n")
        .expect_err("unknown");
    assert_eq!(
        e.to_string(),
        "s.yaml:3:3: Inner.Bogus: unknown key (check its spelling and case): expected one of Port"
    );
}
