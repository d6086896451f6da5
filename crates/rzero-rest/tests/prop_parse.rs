//! Property tests of `Parsed<T>` (the fast pass beside the cargo-fuzz target in
//! `fuzz/`): any path segment, query, header and body give an answer in the table, never
//! a panic; a well-formed request round-trips its values.

use axum::Router;
use axum::body::Body;
use http::Request;
use proptest::prelude::*;
use rzero_rest::parse::{FieldError, Parse, check};
use rzero_rest::{Json, MiddlewaresConf, Parsed, RestConf, Route, Server};
use serde::{Deserialize, Serialize};
use tower::ServiceExt;

#[derive(Debug, PartialEq, Deserialize, Serialize)]
struct Req {
    shop: String,
    user_id: u64,
    amount: i32,
    #[serde(default)]
    page: u32,
    note: Option<String>,
}

impl Parse for Req {
    const PATH: &'static [&'static str] = &["shop"];
    const FORM: &'static [&'static str] = &["page"];

    fn validate(&self) -> Result<(), FieldError> {
        check::range("amount", self.amount, "(0:1000000]")
    }
}

fn router() -> Router {
    let conf = RestConf {
        middlewares: MiddlewaresConf::none(),
        ..RestConf::default()
    };
    Server::new(conf)
        .route(Route::post(
            "/shops/:shop/orders",
            |Parsed(r): Parsed<Req>| async move { Json(r) },
        ))
        .into_router()
        .expect("router")
}

fn call(router: &Router, uri: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let req = Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("request");
    rt.block_on(async {
        let resp = router.clone().oneshot(req).await.expect("infallible");
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("body");
        (status, bytes.to_vec())
    })
}

fn escape(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_input_gets_an_answer_from_the_table(
        shop in ".{0,12}",
        query in "[a-z=&%0-9]{0,24}",
        body in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let router = router();
        let uri = format!("/shops/{}/orders?{query}", escape(&shop));
        let (status, body) = call(&router, &uri, body);
        prop_assert!(matches!(status, 200 | 400 | 404 | 413 | 415), "{status}");
        if status != 200 {
            let v: serde_json::Value = serde_json::from_slice(&body).expect("JSON error body");
            prop_assert_eq!(v["code"].as_u64(), Some(u64::from(status)));
        }
    }

    #[test]
    fn a_well_formed_request_round_trips(
        shop in "[a-z0-9]{1,8}",
        user_id in any::<u64>(),
        amount in 1i32..=1_000_000,
        page in any::<u32>(),
        note in proptest::option::of(".{0,16}"),
    ) {
        let router = router();
        let want = Req { shop: shop.clone(), user_id, amount, page, note };
        let body = serde_json::json!({"user_id": user_id, "amount": amount, "note": want.note});
        let uri = format!("/shops/{shop}/orders?page={page}");
        let (status, got) = call(&router, &uri, body.to_string().into_bytes());
        prop_assert_eq!(status, 200);
        let got: Req = serde_json::from_slice(&got).expect("echo");
        prop_assert_eq!(got, want);
    }

    #[test]
    fn a_repeated_key_is_always_a_400_naming_it(key in "[a-z]{1,8}") {
        let router = router();
        let body = format!(r#"{{"user_id":1,"amount":1,"{key}":1,"{key}":2}}"#);
        let (status, got) = call(&router, "/shops/s/orders", body.into_bytes());
        prop_assert_eq!(status, 400);
        let msg = String::from_utf8_lossy(&got).into_owned();
        prop_assert!(msg.contains(&format!("duplicate key `{key}`")), "{}", msg);
    }
}
