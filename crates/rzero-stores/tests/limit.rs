//! go-zero's period and token limits against a real Redis.

mod common;

use std::time::Duration;

use common::{GUARD, Recorded, closed_port, prefix, redis_conf};
use rzero_conf::RedisConf;
use rzero_stores::StoreError;
use rzero_stores::limit::{PeriodLimit, Quota, TokenLimit};
use rzero_stores::redis::RedisStore;

async fn store() -> RedisStore {
    RedisStore::connect_with(&redis_conf(), Recorded::new().telemetry.clone())
        .await
        .expect("client")
}

#[tokio::test]
async fn period_limit_allows_the_quota_then_refuses_until_the_window_ends() {
    let limit = PeriodLimit::new(Duration::from_secs(60), 3, store().await, &prefix("period"));
    let mut quotas = Vec::new();
    for _ in 0..5 {
        let take = limit.take("user-1").await.expect("take");
        assert!(take.resets_in <= Duration::from_secs(60) && take.resets_in > Duration::ZERO);
        quotas.push(take.quota);
    }
    assert_eq!(
        quotas,
        [
            Quota::Allowed,
            Quota::Allowed,
            Quota::HitQuota,
            Quota::OverQuota,
            Quota::OverQuota
        ]
    );
    // Another key has its own window.
    assert_eq!(
        limit.take("user-2").await.expect("take").quota,
        Quota::Allowed
    );
}

#[tokio::test]
async fn aligned_period_limit_ends_its_window_on_the_period_boundary() {
    let limit = PeriodLimit::new(
        Duration::from_secs(3600),
        10,
        store().await,
        &prefix("align"),
    )
    .align();
    let take = limit.take("k").await.expect("take");
    assert!(take.allowed());
    assert!(take.resets_in <= Duration::from_secs(3600));
}

#[tokio::test]
async fn token_limit_spends_the_burst_and_refills_by_the_second() {
    let key = prefix("token");
    let limit = TokenLimit::new(2, 4, store().await);
    let now = 1_000_000;
    let mut allowed = Vec::new();
    for _ in 0..6 {
        allowed.push(limit.take_at(&key, 1, now).await.expect("take").allowed);
    }
    assert_eq!(allowed, [true, true, true, true, false, false]);
    let refused = limit.take_at(&key, 1, now).await.expect("take");
    assert_eq!(refused.retry_after, Duration::from_secs(1));
    // One second later: `rate` tokens more.
    let later: Vec<bool> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(limit.take_at(&key, 1, now + 1).await.expect("take").allowed);
        }
        v
    };
    assert_eq!(later, [true, true, false]);
}

#[tokio::test]
async fn a_flushed_script_is_loaded_again() {
    let redis = store().await;
    let limit = PeriodLimit::new(Duration::from_secs(60), 5, redis.clone(), &prefix("flush"));
    assert!(limit.take("k").await.expect("take").allowed());
    let _: String = redis
        .query(&rzero_stores::redis::cmd("SCRIPT").arg("FLUSH").clone())
        .await
        .expect("flush");
    assert!(limit.take("k").await.expect("take after a flush").allowed());
}

#[tokio::test]
async fn redis_down_is_an_unavailable_error_within_the_command_timeout() {
    let conf = RedisConf {
        host: format!("127.0.0.1:{}", closed_port()),
        ping_timeout: Duration::from_millis(200),
        ..RedisConf::default()
    };
    let redis = RedisStore::connect_with(&conf, Recorded::new().telemetry.clone())
        .await
        .expect("non-blocking client")
        .with_timeout(Duration::from_millis(300));
    let limit = TokenLimit::new(10, 10, redis);
    let err = tokio::time::timeout(GUARD, limit.take("k", 1))
        .await
        .expect("bounded")
        .expect_err("redis is down");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}
