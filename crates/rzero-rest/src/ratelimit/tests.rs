use axum::body::Body;
use http::{Request, Response, StatusCode};
use tower::{Layer, Service, ServiceExt};

use super::*;
use crate::respond::Refusals;

async fn ok(_req: Request<Body>) -> Result<Response<Body>, std::convert::Infallible> {
    Ok(Response::new(Body::from("ok")))
}

#[tokio::test]
async fn over_the_burst_is_429_with_retry_after() {
    let layer = RateLimitLayer::local("GET /x", 1, 2, Refusals::default());
    let mut svc = layer.layer(tower::service_fn(ok));
    let mut statuses = Vec::new();
    let mut retry = None;
    for _ in 0..3 {
        let resp = svc
            .ready()
            .await
            .expect("ready")
            .call(Request::new(Body::empty()))
            .await
            .expect("answer");
        statuses.push(resp.status());
        if let Some(v) = resp.headers().get(http::header::RETRY_AFTER) {
            retry = Some(v.to_str().expect("ascii").to_owned());
        }
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    assert_eq!(retry.as_deref(), Some("1"));
}

#[tokio::test]
async fn clones_of_a_layer_share_one_bucket() {
    let layer = RateLimitLayer::local("GET /x", 1, 1, Refusals::default());
    let mut a = layer.layer(tower::service_fn(ok));
    let mut b = layer.clone().layer(tower::service_fn(ok));
    let first = a
        .ready()
        .await
        .expect("ready")
        .call(Request::new(Body::empty()));
    assert_eq!(first.await.expect("answer").status(), StatusCode::OK);
    let second = b
        .ready()
        .await
        .expect("ready")
        .call(Request::new(Body::empty()));
    assert_eq!(
        second.await.expect("answer").status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[test]
fn a_rule_without_rate_is_named() {
    let rule = RouteLimitConf {
        path: "/a".into(),
        kind: LimitKind::Token,
        ..Default::default()
    };
    let err = rule.validate(0).expect_err("rate 0");
    assert!(
        err.contains("RateLimit.Routes[0]") && err.contains("Rate"),
        "{err}"
    );
}

#[test]
fn key_and_key_header_together_or_a_bad_source_are_named() {
    let both = RouteLimitConf {
        path: "/a".into(),
        rate: 1,
        key: Some("ip".into()),
        key_header: Some("X-Api-Key".into()),
        ..Default::default()
    };
    let err = both.validate(2).expect_err("both");
    assert!(
        err.contains("Routes[2]") && err.contains("not both"),
        "{err}"
    );
    let bad = RouteLimitConf {
        key: Some("cookie:sid".into()),
        key_header: None,
        ..both
    };
    let err = RateLimitLayer::local_rule(&bad, "GET /a", Refusals::default()).expect_err("bad");
    assert!(
        err.contains("GET /a") && err.contains("claim:<name>"),
        "{err}"
    );
}
