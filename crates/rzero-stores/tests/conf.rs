//! The stores' config sections load from a go-zero YAML file through rzero-conf.

use std::time::Duration;

use rzero_conf::{Loader, RedisConf, RedisType};
use rzero_stores::cache::CacheConf;
use rzero_stores::sql::SqlPoolConf;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct Config {
    #[serde(rename = "Mysql")]
    mysql: SqlPoolConf,
    #[serde(rename = "Redis", default)]
    redis: Option<RedisConf>,
    #[serde(rename = "Cache", default)]
    cache: CacheConf,
}

#[test]
fn go_zero_sections_load_with_rzero_defaults() {
    let yaml = "Mysql:\n  DataSource: root:${DB_PASS}@tcp(127.0.0.1:3306)/orders?parseTime=true\n  \
                SlowThreshold: 200ms\n  Migrate: true\nRedis:\n  Host: 127.0.0.1:6379\n  Type: node\n  \
                Pass: ''\nCache:\n  NotFoundExpiry: 30s\n";
    let c: Config = Loader::new()
        .env(|k| (k == "DB_PASS").then(|| "hunter2".to_owned()))
        .load_str("order-rpc.yaml", yaml)
        .expect("loads");
    assert_eq!(
        c.mysql.data_source,
        "root:hunter2@tcp(127.0.0.1:3306)/orders?parseTime=true"
    );
    assert_eq!(c.mysql.slow_threshold, Duration::from_millis(200));
    assert_eq!(c.mysql.max_open_conns, 64);
    assert!(c.mysql.migrate);
    assert_eq!(c.redis.expect("redis").kind, RedisType::Node);
    assert_eq!(c.cache.not_found_expiry, Duration::from_secs(30));
    assert_eq!(c.cache.expiry, Duration::from_secs(7 * 24 * 3600));
    assert!(!format!("{:?}", c.mysql).contains("hunter2"));
}

#[test]
fn a_misspelt_key_is_reported_with_its_place() {
    let err = Loader::new()
        .load_str::<Config>(
            "order-rpc.yaml",
            "Mysql:\n  DataSource: 'sqlite::memory:'\n  SlowTreshold: 1s\n",
        )
        .expect_err("unknown key");
    let msg = err.to_string();
    assert!(msg.contains("SlowTreshold"), "{msg}");
}
