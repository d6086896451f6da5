//! `Parsed<T>` over a request made of the input: path segment, query string, a header
//! value and the body, split on 0xFF bytes. Whatever they hold, the answer is a status,
//! never a panic, and a 2xx only for a request that validates.
#![no_main]

use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use http::Request;
use libfuzzer_sys::fuzz_target;
use rzero_rest::parse::{FieldError, Parse, check};
use rzero_rest::{Json, MiddlewaresConf, Parsed, RestConf, Route, Server};
use serde::{Deserialize, Serialize};
use tower::ServiceExt;

#[derive(Debug, Deserialize, Serialize)]
struct Req {
    shop: String,
    user_id: u64,
    amount: f64,
    #[serde(default)]
    page: u32,
    note: Option<String>,
    tags: Option<Vec<String>>,
    #[serde(default)]
    token: String,
    nested: Option<Inner>,
}

#[derive(Debug, Deserialize, Serialize)]
struct Inner {
    a: Option<i64>,
    b: Option<bool>,
}

impl Parse for Req {
    const PATH: &'static [&'static str] = &["shop"];
    const FORM: &'static [&'static str] = &["page"];
    const HEADER: &'static [(&'static str, &'static str)] = &[("token", "x-token")];

    fn validate(&self) -> Result<(), FieldError> {
        check::range("amount", self.amount, "(0:1000000]")?;
        check::range("page", self.page, "[0:1000]")?;
        Ok(())
    }
}

fn router() -> &'static Router {
    static R: OnceLock<Router> = OnceLock::new();
    R.get_or_init(|| {
        let mut conf = RestConf::default();
        conf.middlewares = MiddlewaresConf::none();
        conf.middlewares.max_bytes = true;
        conf.max_bytes = 64 * 1024;
        Server::new(conf)
            .route(Route::post("/shops/:shop/orders", |Parsed(r): Parsed<Req>| async move {
                Json(r)
            }))
            .into_router()
            .expect("router")
    })
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
    })
}

fn percent(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (*b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(4, |b| *b == 0xFF);
    let (shop, query, header, body) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    // The query goes in as sent (it is the client's text); invalid URI bytes are escaped.
    let query: String = String::from_utf8_lossy(query)
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '#' { c.to_string() } else { percent(c.to_string().as_bytes()) })
        .collect();
    let uri = format!("/shops/{}/orders?{query}", percent(shop));
    let mut req = Request::post(uri).header("content-type", "application/json");
    if let Ok(v) = http::HeaderValue::from_bytes(header) {
        req = req.header("x-token", v);
    }
    let Ok(req) = req.body(Body::from(body.to_vec())) else {
        return;
    };
    let resp = runtime()
        .block_on(router().clone().oneshot(req))
        .expect("infallible");
    let status = resp.status().as_u16();
    assert!(
        matches!(status, 200 | 400 | 404 | 408 | 413 | 415),
        "unexpected status {status}"
    );
});
