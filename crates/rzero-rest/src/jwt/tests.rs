use serde_json::json;

use super::*;
use rzero_conf::Secret;

fn conf(secret: &str) -> JwtConf {
    JwtConf {
        access_secret: Secret(secret.into()),
        access_expire: 3600,
        ..JwtConf::default()
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

#[test]
fn a_token_without_exp_is_refused_unless_allowed() {
    let c = conf("right-secret");
    let forever = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"userId": 7}),
        &jsonwebtoken::EncodingKey::from_secret(b"right-secret"),
    )
    .expect("signs");
    let e = JwtLayer::new(&c)
        .expect("layer")
        .verify(&forever)
        .expect_err("no exp");
    assert!(e.msg().contains("no `exp`"), "{}", e.msg());
    let lax = JwtConf {
        require_exp: false,
        ..c.clone()
    };
    assert!(JwtLayer::new(&lax).expect("layer").verify(&forever).is_ok());
}

#[test]
fn issued_tokens_carry_exp() {
    let c = conf("right-secret");
    let token = c.issue(Map::new()).expect("signs");
    let claims = JwtLayer::new(&c)
        .expect("layer")
        .verify(&token)
        .expect("verifies");
    let (iat, exp) = (claims.get("iat"), claims.get("exp"));
    let (iat, exp) = (iat.and_then(Value::as_u64), exp.and_then(Value::as_u64));
    assert_eq!(exp.zip(iat).map(|(e, i)| e - i), Some(3600));
    let never = JwtConf {
        access_expire: 0,
        ..c
    };
    assert!(never.issue(Map::new()).is_err());
}

#[test]
fn a_secret_shorter_than_8_bytes_is_refused_at_load_and_at_start() {
    assert!(JwtLayer::new(&conf("short")).is_err());
    #[derive(Debug, serde::Deserialize, serde::Serialize)]
    struct C {
        #[serde(rename = "Auth")]
        auth: JwtConf,
    }
    let err = rzero_conf::Loader::new()
        .load_str::<C>("a.yaml", "Auth:\n  AccessSecret: short\n")
        .expect_err("too short")
        .to_string();
    assert!(err.contains("at least 8 bytes"), "{err}");
    assert!(err.contains("a.yaml:2"), "{err}");
    let ok: C = rzero_conf::Loader::new()
        .load_str("a.yaml", "Auth:\n  AccessSecret: eight-by\n")
        .expect("8 bytes");
    assert_eq!(ok.auth.access_expire, 86_400);
    assert!(ok.auth.require_exp);
}
