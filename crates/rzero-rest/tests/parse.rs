//! `Parsed<T>` through real HTTP: path, query, headers and JSON into one request; bad
//! input answers 400 naming the field, and nothing panics.

mod common;

use common::{send, start, test_conf};
use rzero_rest::parse::{FieldError, Parse, check};
use rzero_rest::{Json, Parsed, Route, Server};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
enum Currency {
    Usd,
    Eur,
}

#[derive(Debug, Deserialize, Serialize)]
struct CreateOrderReq {
    user_id: u64,
    product_id: u64,
    amount: f64,
    #[serde(default = "one")]
    quantity: u32,
    note: Option<String>,
    currency: Option<Currency>,
    shop: String,
    #[serde(default)]
    token: String,
}

fn one() -> u32 {
    1
}

impl Parse for CreateOrderReq {
    const PATH: &'static [&'static str] = &["shop"];
    const FORM: &'static [&'static str] = &["quantity", "currency"];
    const HEADER: &'static [(&'static str, &'static str)] = &[("token", "x-token")];

    fn validate(&self) -> Result<(), FieldError> {
        check::range("amount", self.amount, "(0:1000000]")?;
        check::range("quantity", self.quantity, "[1:100]")?;
        Ok(())
    }
}

/// The server's address; the server stops when the returned sender drops.
async fn server() -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let server = Server::new(test_conf()).route(Route::post(
        "/shops/:shop/orders",
        |Parsed(req): Parsed<CreateOrderReq>| async move { Json(req) },
    ));
    let (addr, stop, _task) = start(server).await;
    (addr, stop)
}

const JSON: &str = "content-type: application/json\r\n";

#[tokio::test]
async fn fills_every_source_and_converts_text() {
    let (addr, _stop) = server().await;
    let a = send(
        addr,
        "POST",
        "/shops/main/orders?quantity=3&currency=eur",
        &format!("{JSON}x-token: t0k\r\n"),
        r#"{"user_id": 1, "product_id": 2, "amount": 99.5, "shop": "body-cannot-override"}"#,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let v = a.json();
    assert_eq!(v["shop"], "main");
    assert_eq!(v["quantity"], 3);
    assert_eq!(v["currency"], "eur");
    assert_eq!(v["token"], "t0k");
    assert_eq!(v["amount"], 99.5);
    assert_eq!(v["note"], json!(null));
}

#[tokio::test]
async fn defaults_apply_when_optional_fields_are_absent() {
    let (addr, _stop) = server().await;
    let a = send(
        addr,
        "POST",
        "/shops/s/orders",
        JSON,
        r#"{"user_id":1,"product_id":2,"amount":1}"#,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["quantity"], 1);
}

async fn bad(addr: std::net::SocketAddr, path: &str, body: &str) -> String {
    let a = send(addr, "POST", path, JSON, body).await;
    assert_eq!(a.status, 400, "{path} {body}: {}", a.body);
    assert_eq!(a.json()["code"], 400);
    a.json()["msg"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn errors_name_the_field_at_fault() {
    let (addr, _stop) = server().await;
    let p = "/shops/s/orders";
    let msg = bad(addr, p, r#"{"product_id":2,"amount":1}"#).await;
    assert!(msg.contains("user_id"), "{msg}");
    let msg = bad(addr, p, r#"{"user_id":"one","product_id":2,"amount":1}"#).await;
    assert!(msg.contains("user_id"), "{msg}");
    let msg = bad(addr, p, r#"{"user_id":-1,"product_id":2,"amount":1}"#).await;
    assert!(msg.contains("user_id"), "{msg}");
    let msg = bad(addr, p, r#"{"user_id":1,"product_id":2,"amount":0}"#).await;
    assert_eq!(msg, "field `amount`: must be in (0:1000000], got 0");
    let msg = bad(
        addr,
        "/shops/s/orders?quantity=lots",
        r#"{"user_id":1,"product_id":2,"amount":1}"#,
    )
    .await;
    assert!(msg.contains("quantity") && msg.contains("lots"), "{msg}");
    let msg = bad(
        addr,
        "/shops/s/orders?quantity=500",
        r#"{"user_id":1,"product_id":2,"amount":1}"#,
    )
    .await;
    assert!(msg.contains("quantity"), "{msg}");
    let msg = bad(
        addr,
        "/shops/s/orders?currency=gold",
        r#"{"user_id":1,"product_id":2,"amount":1}"#,
    )
    .await;
    assert!(msg.contains("currency"), "{msg}");
}

#[tokio::test]
async fn hostile_bodies_get_400_not_a_panic() {
    let (addr, _stop) = server().await;
    let p = "/shops/s/orders";
    for body in [
        "{",
        "[1,2,3]",
        "\"just a string\"",
        "null",
        r#"{"user_id": 1e400}"#,
        &format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
        &format!(
            r#"{{"user_id":1,"product_id":2,"amount":1,"note":{}}}"#,
            "[".repeat(500)
        ),
        "\u{0}\u{1}garbage",
    ] {
        let msg = bad(addr, p, body).await;
        assert!(!msg.is_empty());
    }
    let a = send(addr, "POST", p, "content-type: text/xml\r\n", "<order/>").await;
    assert_eq!(a.status, 415);
    let a = send(
        addr,
        "POST",
        "/shops/%FF%FE/orders",
        JSON,
        r#"{"user_id":1,"product_id":2,"amount":1}"#,
    )
    .await;
    assert_eq!(a.status, 400, "{}", a.body);
}

#[tokio::test]
async fn json_sent_as_a_form_gets_a_hint() {
    let (addr, _stop) = server().await;
    let a = send(
        addr,
        "POST",
        "/shops/s/orders",
        "content-type: application/x-www-form-urlencoded\r\n",
        r#"{"user_id":1,"product_id":2,"amount":1}"#,
    )
    .await;
    assert_eq!(a.status, 400);
    assert!(
        a.body.contains("Content-Type: application/json"),
        "{}",
        a.body
    );
}

#[tokio::test]
async fn a_key_sent_twice_is_a_400_naming_it() {
    let (addr, _stop) = server().await;
    let a = send(
        addr,
        "POST",
        "/shops/s/orders",
        JSON,
        r#"{"user_id":1,"product_id":2,"amount":1,"amount":1000000}"#,
    )
    .await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("duplicate key `amount`"), "{}", a.body);
}
