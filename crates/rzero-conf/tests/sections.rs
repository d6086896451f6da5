//! The shared sections, read from go-zero's key names.

use std::time::Duration;

mod common;

use common::ServiceConf;
use rzero_conf::{EtcdConf, Loader, Mode, RedisConf, RedisType, SqlConf};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

fn load<T: DeserializeOwned + Serialize>(text: &str) -> T {
    Loader::new()
        .env(|_| None)
        .load_str("s.yaml", text)
        .expect("valid")
}

#[test]
fn etcd_takes_all_of_go_zeros_keys() {
    let etcd: EtcdConf = load(
        "Hosts: [a:2379, b:2379]\nKey: user.rpc\nID: 7\nUser: root\nPass: pw\nCertFile: c.pem\n\
         CertKeyFile: k.pem\nCACertFile: ca.pem\nInsecureSkipVerify: true\n",
    );
    assert_eq!(etcd.hosts, ["a:2379", "b:2379"]);
    assert_eq!((etcd.id, etcd.user.as_str()), (Some(7), "root"));
    assert_eq!(etcd.pass.expose(), "pw");
    assert_eq!(
        (
            &etcd.cert_file[..],
            &etcd.cert_key_file[..],
            &etcd.ca_cert_file[..]
        ),
        ("c.pem", "k.pem", "ca.pem")
    );
    assert!(etcd.insecure_skip_verify);
    assert_eq!(etcd.validate(), Ok(()));
    assert!(!format!("{etcd:?}").contains("pw\""), "{etcd:?}");

    assert_eq!(
        etcd.request_timeout,
        Duration::from_secs(3),
        "go-zero's RequestTimeout"
    );
    let etcd: EtcdConf =
        load("Hosts: [a:2379]\nKey: k\nDialTimeout: 500ms\nRequestTimeout: 1s\nLeaseTTL: 3s\n");
    assert_eq!(
        (etcd.dial_timeout, etcd.request_timeout, etcd.lease_ttl),
        (
            Duration::from_millis(500),
            Duration::from_secs(1),
            Duration::from_secs(3)
        )
    );
    let etcd: EtcdConf = load("Hosts: [a:2379]\nKey: k\nLeaseTTL: 2500ms\n");
    assert!(etcd.validate().unwrap_err().starts_with("Etcd.LeaseTTL"));

    let etcd: EtcdConf = load("Hosts: []\nKey: user.rpc\n");
    assert_eq!(etcd.id, None);
    assert_eq!(
        etcd.validate(),
        Err("Etcd.Hosts: expected at least one `host:port`, found none".into())
    );
    let etcd: EtcdConf = load("Hosts: [a:2379]\nKey: ''\n");
    assert!(
        etcd.validate()
            .unwrap_err()
            .starts_with("Etcd.Key: expected")
    );
}

#[test]
fn redis_defaults_to_a_node_without_tls() {
    let redis: RedisConf = load("Host: localhost:6379\n");
    assert_eq!(redis.kind, RedisType::Node);
    assert!(!redis.tls);
    assert!(redis.non_block, "go-zero's NonBlock defaults to true");
    assert_eq!(redis.ping_timeout, Duration::from_secs(1));
    assert_eq!(
        redis,
        RedisConf {
            host: "localhost:6379".into(),
            ..RedisConf::default()
        }
    );

    let redis: RedisConf = load(
        "Host: a:7000,b:7000\nType: cluster\nPass: hunter2\nTls: true\nNonBlock: false\n\
         PingTimeout: 250ms\n",
    );
    assert_eq!(redis.kind, RedisType::Cluster);
    assert!(redis.tls && !redis.non_block);
    assert_eq!(redis.ping_timeout, Duration::from_millis(250));
    assert_eq!(redis.pass.expose(), "hunter2");
    assert!(!format!("{redis:?}").contains("hunter2"), "{redis:?}");
}

#[test]
fn sql_keeps_the_password_out_of_debug() {
    let sql: SqlConf = load("DataSource: root:hunter2@tcp(localhost:3306)/order_db\n");
    assert_eq!(sql.data_source, "root:hunter2@tcp(localhost:3306)/order_db");
    assert_eq!(
        format!("{sql:?}"),
        "SqlConf { data_source: \"root:***@tcp(localhost:3306)/order_db\" }"
    );
}

#[test]
fn service_mode_defaults_to_pro() {
    let s: ServiceConf = load("Name: order-api\n");
    assert_eq!((s.name.as_str(), s.mode), ("order-api", Mode::Pro));
    for (text, mode) in [
        ("dev", Mode::Dev),
        ("test", Mode::Test),
        ("rt", Mode::Rt),
        ("pre", Mode::Pre),
    ] {
        let s: ServiceConf = load(&format!("Name: a\nMode: {text}\n"));
        assert_eq!(s.mode, mode);
    }
}

#[test]
fn sections_compose_under_any_name() {
    // go-zero clients name their sections freely: `UserRpc: {Etcd: ...}`, `CacheRedis`.
    #[derive(Debug, Deserialize, Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct RpcClientConf {
        etcd: EtcdConf,
    }
    #[derive(Debug, Deserialize, Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Config {
        #[serde(flatten)]
        service: ServiceConf,
        user_rpc: RpcClientConf,
        cache_redis: Vec<RedisConf>,
    }
    let c: Config = load(
        "Name: order-api\nUserRpc:\n  Etcd:\n    Hosts: [e:2379]\n    Key: user.rpc\n\
         CacheRedis:\n  - Host: r:6379\n",
    );
    assert_eq!(c.user_rpc.etcd.key, "user.rpc");
    assert_eq!(c.cache_redis[0].host, "r:6379");
    let e = Loader::new()
        .load_str::<Config>(
            "s.yaml",
            "Name: a\nUserRpc:\n  Etcd: {Hosts: [e], Key: k}\nCacheRedis:\n  - Host: r\n    Tsl: true\n",
        )
        .expect_err("typo");
    assert!(
        e.to_string()
            .starts_with("s.yaml:6:5: CacheRedis[0].Tsl: unknown key: did you mean `Tls`?"),
        "{e}"
    );
}
