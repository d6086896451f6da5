use serde_json::json;

use super::*;
use rzero_conf::Secret;

fn conf(secret: &str) -> JwtConf {
    JwtConf {
        access_secret: Secret(secret.into()),
        access_expire: 3600,
        prev_secret: Secret::default(),
    }
}

fn claims(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

#[test]
fn a_token_it_issued_verifies_with_its_claims() {
    let c = conf("s3cret-s3cret-s3cret-s3cret-s3cret");
    let token = c.issue(claims(json!({"userId": 7}))).expect("signs");
    let layer = JwtLayer::new(&c).expect("layer");
    let got = layer.verify(&token).expect("verifies");
    assert_eq!(got.get("userId"), Some(&json!(7)));
}

#[test]
fn forged_expired_and_garbage_tokens_are_401_with_reasons() {
    let layer = JwtLayer::new(&conf("right-secret")).expect("layer");
    let forged = conf("wrong-secret").issue(Map::new()).expect("signs");
    let e = layer.verify(&forged).expect_err("forged");
    assert_eq!(e.status(), http::StatusCode::UNAUTHORIZED);
    assert!(e.msg().contains("signature"), "{}", e.msg());

    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"exp": 1_000_000}),
        &jsonwebtoken::EncodingKey::from_secret(b"right-secret"),
    )
    .expect("signs");
    assert!(
        layer
            .verify(&expired)
            .expect_err("expired")
            .msg()
            .contains("expired")
    );
    for garbage in ["", "a.b.c", "not a token", "....", &"x".repeat(10_000)] {
        let e = layer.verify(garbage).expect_err("garbage");
        assert_eq!(e.status(), http::StatusCode::UNAUTHORIZED);
    }
}

#[test]
fn the_previous_secret_still_verifies_during_rotation() {
    let old = conf("old-secret");
    let token = old.issue(Map::new()).expect("signs");
    let mut rotated = conf("new-secret");
    rotated.prev_secret = Secret("old-secret".into());
    assert!(
        JwtLayer::new(&rotated)
            .expect("layer")
            .verify(&token)
            .is_ok()
    );
    assert!(
        JwtLayer::new(&conf("new-secret"))
            .expect("layer")
            .verify(&token)
            .is_err()
    );
}

#[test]
fn an_empty_secret_is_refused_at_start() {
    assert!(JwtLayer::new(&conf("")).is_err());
}
