//! Rate limits on real servers: a local bucket, go-zero's Redis limits shared by two
//! servers on one real Redis (127.0.0.1:6379), and Redis down, open and closed.

mod common;

use std::net::TcpListener;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{send, send_from, start, test_conf};
use rzero_rest::jwt::{Claims, JwtConf};
use rzero_rest::ratelimit::{FailMode, LimitKind, MissingKey, RouteLimitConf};
use rzero_rest::{Group, RestConf, Route, Server};

fn rule(kind: LimitKind) -> RouteLimitConf {
    RouteLimitConf {
        path: "/limited".into(),
        method: None,
        kind,
        rate: 1,
        burst: 3,
        period: Duration::from_secs(60),
        quota: 4,
        max_keys: 100,
        ..Default::default()
    }
}

fn unique_prefix(name: &str) -> String {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("rzero-rest-test:{name}:{}:{t}:", std::process::id())
}

fn conf_with(rules: Vec<RouteLimitConf>, redis_host: &str, prefix: &str) -> RestConf {
    let mut conf = test_conf();
    conf.rate_limit.routes = rules;
    conf.rate_limit.key_prefix = prefix.into();
    conf.rate_limit.redis = Some(rzero_conf::RedisConf {
        host: redis_host.into(),
        ping_timeout: Duration::from_millis(200),
        ..Default::default()
    });
    conf
}

fn server(conf: RestConf) -> Server {
    Server::new(conf)
        .route(Route::get("/limited", || async { "ok" }))
        .route(Route::get("/free", || async { "free" }))
}

fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    port
}

#[tokio::test]
async fn a_local_bucket_answers_429_with_retry_after_past_its_burst() {
    let mut conf = test_conf();
    conf.rate_limit.routes = vec![rule(LimitKind::Local)];
    let (addr, stop, _task) = start(server(conf)).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(send(addr, "GET", "/limited", "", "").await.status);
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
    let refused = send(addr, "GET", "/limited", "", "").await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("retry-after").as_deref(), Some("1"));
    assert_eq!(refused.json()["code"], 429);
    assert!(
        refused.json()["msg"]
            .as_str()
            .unwrap_or("")
            .contains("GET /limited"),
        "{}",
        refused.body
    );
    // Other routes are not limited.
    for _ in 0..5 {
        assert_eq!(send(addr, "GET", "/free", "", "").await.status, 200);
    }
    let _ = stop.send(());
}

#[tokio::test]
async fn a_keyed_local_limit_gives_each_header_value_its_own_bucket() {
    let mut conf = test_conf();
    let mut r = rule(LimitKind::Local);
    r.burst = 1;
    r.key_header = Some("X-Api-Key".into());
    conf.rate_limit.routes = vec![r];
    let (addr, stop, _task) = start(server(conf)).await;
    let a = "x-api-key: a\r\n";
    let b = "x-api-key: b\r\n";
    assert_eq!(send(addr, "GET", "/limited", a, "").await.status, 200);
    assert_eq!(send(addr, "GET", "/limited", a, "").await.status, 429);
    assert_eq!(send(addr, "GET", "/limited", b, "").await.status, 200);
    let _ = stop.send(());
}

/// Two servers, one Redis: the quota is one, whichever server a request reaches.
async fn shared_between_two_servers(kind: LimitKind, allowed: usize) {
    let prefix = unique_prefix(&format!("{kind:?}"));
    let conf = conf_with(vec![rule(kind)], "127.0.0.1:6379", &prefix);
    let (a, stop_a, _ta) = start(server(conf.clone())).await;
    let (b, stop_b, _tb) = start(server(conf)).await;
    let mut ok = 0;
    let mut limited = Vec::new();
    for i in 0..10 {
        let addr = if i % 2 == 0 { a } else { b };
        let answer = send(addr, "GET", "/limited", "", "").await;
        match answer.status {
            200 => ok += 1,
            429 => limited.push(answer),
            other => panic!("unexpected {other}: {}", answer.body),
        }
    }
    // A token limit refills one token a second: a second boundary may add one.
    assert!(
        ok == allowed || (kind == LimitKind::Token && ok == allowed + 1),
        "{ok} passed"
    );
    assert!(limited.iter().all(|l| l.header("retry-after").is_some()));
    let _ = stop_a.send(());
    let _ = stop_b.send(());
}

#[tokio::test]
async fn a_redis_period_limit_is_one_quota_across_two_servers() {
    shared_between_two_servers(LimitKind::Period, 4).await;
}

#[tokio::test]
async fn a_redis_token_limit_is_one_bucket_across_two_servers() {
    shared_between_two_servers(LimitKind::Token, 3).await;
}

#[tokio::test]
async fn redis_down_fails_open_by_default_and_closed_when_configured() {
    let host = format!("127.0.0.1:{}", closed_port());
    let open = conf_with(vec![rule(LimitKind::Period)], &host, "p:");
    let (addr, stop, _task) = start(server(open)).await;
    for _ in 0..6 {
        // Over the quota of 4, yet let through: the limit cannot be checked.
        assert_eq!(send(addr, "GET", "/limited", "", "").await.status, 200);
    }
    let _ = stop.send(());

    let mut closed = conf_with(vec![rule(LimitKind::Token)], &host, "p:");
    closed.rate_limit.on_store_error = FailMode::Closed;
    let (addr, stop, _task) = start(server(closed)).await;
    let answer = send(addr, "GET", "/limited", "", "").await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert!(
        answer.json()["msg"]
            .as_str()
            .unwrap_or("")
            .contains("OnStoreError")
    );
    assert_eq!(send(addr, "GET", "/free", "", "").await.status, 200);
    let _ = stop.send(());
}

#[tokio::test]
async fn a_rule_for_no_route_fails_the_build() {
    let mut conf = test_conf();
    let mut r = rule(LimitKind::Local);
    r.path = "/limted".into();
    conf.rate_limit.routes = vec![r];
    let err = server(conf).into_router().expect_err("typo");
    assert!(err.to_string().contains("/limted"), "{err}");
}

#[tokio::test]
async fn a_shared_rule_without_redis_fails_the_build() {
    let mut conf = test_conf();
    conf.rate_limit.routes = vec![rule(LimitKind::Token)];
    let err = server(conf).into_router().expect_err("no redis");
    assert!(err.to_string().contains("RateLimit.Redis"), "{err}");
}

#[test]
fn the_section_loads_from_yaml() {
    let yaml = "Name: a\nRateLimit:\n  OnStoreError: closed\n  Routes:\n    - Path: /x\n      \
                Kind: period\n      Period: 60s\n      Quota: 10\n      Key: claim:userId\n      \
                MissingKey: ip\n";
    let c: RestConf = rzero_conf::Loader::new()
        .env(|_| None)
        .load_str("a.yaml", yaml)
        .expect("loads");
    assert_eq!(c.rate_limit.on_store_error, FailMode::Closed);
    assert_eq!(c.rate_limit.routes[0].kind, LimitKind::Period);
    assert_eq!(c.rate_limit.routes[0].quota, 10);
    assert_eq!(c.rate_limit.routes[0].key.as_deref(), Some("claim:userId"));
    assert_eq!(c.rate_limit.routes[0].missing_key, MissingKey::Ip);
    let err = rzero_conf::Loader::new()
        .env(|_| None)
        .load_str::<RestConf>("a.yaml", "Name: a\nRateLimit:\n  Rutes: []\n")
        .expect_err("typo");
    assert!(err.to_string().contains("Rutes"), "{err}");
}

/// `GET path` from the loopback address `from`: its status.
async fn get_from(from: &str, addr: std::net::SocketAddr, path: &str, headers: &str) -> u16 {
    send_from(from, addr, "GET", path, headers, "").await.status
}

#[tokio::test]
async fn a_limit_keyed_by_ip_gives_each_client_address_its_own_bucket() {
    let mut conf = test_conf();
    let mut r = rule(LimitKind::Local);
    r.burst = 1;
    r.key = Some("ip".into());
    conf.rate_limit.routes = vec![r];
    let (addr, stop, _task) = start(server(conf)).await;
    assert_eq!(get_from("127.0.0.2", addr, "/limited", "").await, 200);
    assert_eq!(get_from("127.0.0.2", addr, "/limited", "").await, 429);
    // Another address, its own bucket; a header does not change an IP key.
    assert_eq!(get_from("127.0.0.3", addr, "/limited", "").await, 200);
    let spoof = "x-forwarded-for: 10.9.9.9\r\n";
    assert_eq!(get_from("127.0.0.3", addr, "/limited", spoof).await, 429);
    let _ = stop.send(());
}

#[tokio::test]
async fn requests_without_the_key_share_one_bucket_or_fall_back_to_their_ip() {
    for (missing, second_client) in [(MissingKey::Shared, 429), (MissingKey::Ip, 200)] {
        let mut conf = test_conf();
        let mut r = rule(LimitKind::Local);
        r.burst = 1;
        r.key = Some("header:X-Api-Key".into());
        r.missing_key = missing;
        conf.rate_limit.routes = vec![r];
        let (addr, stop, _task) = start(server(conf)).await;
        assert_eq!(get_from("127.0.0.4", addr, "/limited", "").await, 200);
        assert_eq!(get_from("127.0.0.4", addr, "/limited", "").await, 429);
        assert_eq!(
            get_from("127.0.0.5", addr, "/limited", "").await,
            second_client,
            "{missing:?}"
        );
        // A request with the key is not in the keyless bucket.
        let keyed = "x-api-key: k1\r\n";
        assert_eq!(get_from("127.0.0.4", addr, "/limited", keyed).await, 200);
        let _ = stop.send(());
    }
}

fn auth() -> JwtConf {
    JwtConf {
        access_secret: rzero_conf::Secret("a-secret-of-thirty-two-bytes-or-more!".into()),
        access_expire: 3600,
        ..Default::default()
    }
}

fn jwt_server(conf: RestConf) -> Server {
    Server::new(conf).group(
        Group::new()
            .jwt(&auth())
            .route(Route::get("/limited", |c: Claims| async move {
                format!("{:?}", c.get("userId"))
            })),
    )
}

fn bearer(user: i64) -> String {
    let claims = serde_json::json!({ "userId": user });
    let token = auth()
        .issue(claims.as_object().cloned().unwrap_or_default())
        .expect("sign");
    format!("authorization: Bearer {token}\r\n")
}

#[tokio::test]
async fn a_limit_keyed_by_a_jwt_claim_is_one_bucket_per_user() {
    let mut conf = test_conf();
    let mut r = rule(LimitKind::Local);
    r.burst = 1;
    r.key = Some("claim:userId".into());
    conf.rate_limit.routes = vec![r.clone()];
    let (addr, stop, _task) = start(jwt_server(conf)).await;
    assert_eq!(
        send(addr, "GET", "/limited", &bearer(7), "").await.status,
        200
    );
    let refused = send(addr, "GET", "/limited", &bearer(7), "").await;
    assert_eq!(refused.status, 429);
    // The answer names the source, never the value.
    assert!(
        refused.body.contains("per JWT claim userId"),
        "{}",
        refused.body
    );
    assert_eq!(
        send(addr, "GET", "/limited", &bearer(8), "").await.status,
        200
    );
    // The token is checked first: without one, 401, not a bucket.
    assert_eq!(send(addr, "GET", "/limited", "", "").await.status, 401);
    let _ = stop.send(());

    // A claim key on a route without JWT cannot work: the build says so.
    let mut conf = test_conf();
    conf.rate_limit.routes = vec![r];
    let err = server(conf).into_router().expect_err("no jwt");
    assert!(err.to_string().contains("no jwt"), "{err}");
}

#[tokio::test]
async fn a_keyed_redis_limit_is_one_quota_per_key_across_two_servers_and_hashes_long_keys() {
    let prefix = unique_prefix("keyed");
    let mut r = rule(LimitKind::Period);
    r.key = Some("header:X-Api-Key".into());
    let conf = conf_with(vec![r], "127.0.0.1:6379", &prefix);
    let (a, stop_a, _ta) = start(server(conf.clone())).await;
    let (b, stop_b, _tb) = start(server(conf)).await;
    let long = "k".repeat(4000);
    for key in ["alice", "bob", long.as_str()] {
        let h = format!("x-api-key: {key}\r\n");
        let mut ok = 0;
        for i in 0..6 {
            let addr = if i % 2 == 0 { a } else { b };
            match send(addr, "GET", "/limited", &h, "").await.status {
                200 => ok += 1,
                429 => {}
                other => panic!("unexpected {other}"),
            }
        }
        // Quota 4 per key, counted once across both servers.
        assert_eq!(ok, 4, "key {}", &key[..key.len().min(8)]);
    }
    let client = redis::Client::open("redis://127.0.0.1:6379/").expect("redis url");
    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut con)
        .await
        .expect("KEYS");
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(keys.iter().all(|k| k.contains("GET /limited")), "{keys:?}");
    assert!(keys.iter().any(|k| k.contains("alice")), "{keys:?}");
    // The 4000-byte key is stored as its hash: Redis holds bounded keys only.
    assert!(keys.iter().all(|k| k.len() < prefix.len() + 80), "{keys:?}");
    let _ = stop_a.send(());
    let _ = stop_b.send(());
}

/// The `rzero.http.server.refused` series with `reason` (Prometheus' rendering), if any.
fn refused_count(text: &str, reason: &str) -> Option<u64> {
    text.lines()
        .find(|l| {
            l.starts_with("rzero_http_server_refused")
                && l.contains(&format!("reason=\"{reason}\""))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
}

#[tokio::test]
async fn refusals_are_counted_by_reason() {
    let guard = rzero_telemetry::Telemetry::new("rest-ratelimit-metrics", "1.0.0")
        .env([])
        .without_subscriber()
        .init()
        .expect("telemetry");
    let prometheus = guard.prometheus();

    let mut conf = test_conf();
    conf.rate_limit.routes = vec![rule(LimitKind::Local)];
    let (addr, stop, _task) = start(server(conf).meter(guard.meter())).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(send(addr, "GET", "/limited", "", "").await.status);
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    let _ = stop.send(());

    // Redis down with OnStoreError: closed is a refusal of its own reason.
    let mut closed = conf_with(
        vec![rule(LimitKind::Token)],
        &format!("127.0.0.1:{}", closed_port()),
        "p:",
    );
    closed.rate_limit.on_store_error = FailMode::Closed;
    let (addr, stop, _task) = start(server(closed).meter(guard.meter())).await;
    assert_eq!(send(addr, "GET", "/limited", "", "").await.status, 503);
    let _ = stop.send(());

    let text = prometheus.render();
    assert_eq!(refused_count(&text, "rate_limit"), Some(2), "{text}");
    assert_eq!(refused_count(&text, "rate_limit_store"), Some(1), "{text}");
    guard.shutdown().await.expect("shutdown");
}
