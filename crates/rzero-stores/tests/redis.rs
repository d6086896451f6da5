//! The Redis client against a real Redis: commands, spans, and Redis being down.

mod common;

use std::time::Duration;

use common::{GUARD, Recorded, attr, closed_port, prefix, redis_conf};
use opentelemetry::trace::{SpanKind, Status};
use rzero_conf::{RedisConf, Secret};
use rzero_stores::redis::RedisStore;

#[tokio::test]
async fn commands_are_client_spans_named_by_the_command_without_values() {
    let rec = Recorded::new();
    let redis = RedisStore::connect_with(&redis_conf(), rec.telemetry.clone())
        .await
        .expect("client");
    let key = format!("{}k", prefix("spans"));
    redis
        .set_ex(&key, "secret-value-42", Duration::from_secs(30))
        .await
        .expect("set");
    assert_eq!(
        redis.get(&key).await.expect("get").as_deref(),
        Some("secret-value-42")
    );
    assert_eq!(redis.del(&[&key]).await.expect("del"), 1);
    assert_eq!(redis.get(&key).await.expect("get"), None);

    let spans = rec.spans();
    let names: Vec<_> = spans.iter().map(|s| s.name.to_string()).collect();
    assert_eq!(names, ["SET", "GET", "DEL", "GET"]);
    for s in &spans {
        assert_eq!(s.span_kind, SpanKind::Client);
        assert_eq!(attr(s, "db.system.name").as_deref(), Some("redis"));
        assert_eq!(attr(s, "db.operation.name").as_deref(), Some(&*s.name));
        assert_eq!(attr(s, "server.port").as_deref(), Some("6379"));
    }
    let everything = format!("{spans:?}");
    assert!(!everything.contains("secret-value-42"));
    assert!(!everything.contains(&key), "keys stay out of spans");
    assert!(
        rec.durations()
            .iter()
            .any(|(a, _)| a.iter().any(|kv| kv.value.as_str() == "redis"))
    );
}

#[tokio::test]
async fn redis_down_answers_unavailable_fast_and_records_it() {
    let rec = Recorded::new();
    let conf = RedisConf {
        host: format!("127.0.0.1:{}", closed_port()),
        pass: Secret("redis-pass-xyz".into()),
        ..RedisConf::default()
    };
    // NonBlock (the default): the client starts although Redis is down.
    let redis = RedisStore::connect_with(&conf, rec.telemetry.clone())
        .await
        .expect("starts");
    let err = tokio::time::timeout(GUARD, redis.get("k"))
        .await
        .expect("answers within the guard")
        .expect_err("down");
    assert!(err.is_unavailable(), "{err:?}");
    assert!(!err.to_string().contains("redis-pass-xyz"));
    let span = rec.spans().pop().expect("span");
    assert!(matches!(span.status, Status::Error { .. }));
    assert_eq!(attr(&span, "error.type").as_deref(), Some("unavailable"));

    // Blocking start-up reports the outage instead.
    let blocking = RedisConf {
        non_block: false,
        ping_timeout: Duration::from_millis(300),
        ..conf
    };
    let err = tokio::time::timeout(
        GUARD,
        RedisStore::connect_with(&blocking, rec.telemetry.clone()),
    )
    .await
    .expect("answers within the guard")
    .expect_err("down at start");
    assert!(err.is_unavailable(), "{err:?}");
}

#[tokio::test]
async fn an_unreadable_tls_ca_file_is_a_config_error_that_names_it() {
    let conf = RedisConf {
        tls: true,
        tls_ca_file: "/nonexistent/ca.pem".into(),
        ..redis_conf()
    };
    let err = RedisStore::connect(&conf).await.expect_err("no CA file");
    assert!(err.to_string().contains("Redis.TlsCaFile"), "{err}");
}

#[tokio::test]
async fn cluster_type_against_a_plain_node_fails_cleanly() {
    let conf = RedisConf {
        kind: rzero_conf::RedisType::Cluster,
        ..redis_conf()
    };
    let redis = RedisStore::connect(&conf).await.expect("NonBlock: starts");
    let err = tokio::time::timeout(GUARD, redis.get("k"))
        .await
        .expect("answers within the guard")
        .expect_err("not a cluster");
    assert!(err.to_string().contains("cluster"), "{err}");
}

/// Redis down: once commands have failed, the breaker fails the next ones without trying
/// (no wait for a connection or a timeout); Redis back: a probe gets through and the
/// commands work again, with no restart.
#[tokio::test]
async fn a_breaker_skips_redis_while_down_and_closes_when_it_is_back() {
    let port = closed_port();
    let conf = RedisConf {
        host: format!("127.0.0.1:{port}"),
        ..RedisConf::default()
    };
    let redis = RedisStore::connect(&conf).await.expect("starts");
    let mut skipped = 0;
    for _ in 0..60 {
        let err = tokio::time::timeout(GUARD, redis.get("k"))
            .await
            .expect("answers within the guard")
            .expect_err("down");
        assert!(err.is_unavailable(), "{err:?}");
        if err.to_string().contains("not tried") {
            skipped += 1;
        }
    }
    eprintln!("[redis] Redis down: 60 GETs, {skipped} skipped by the breaker");
    assert!(skipped > 0, "the breaker opened after the failures");

    // Redis comes back at the same address (a forwarder to the real one).
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("the port is free again");
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Ok(mut up) = tokio::net::TcpStream::connect("127.0.0.1:6379").await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut up).await;
                }
            });
        }
    });
    let mut back = false;
    for _ in 0..200 {
        if redis.ping().await.is_ok() {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        back,
        "the breaker let a probe through and closed within 20 s"
    );
}
