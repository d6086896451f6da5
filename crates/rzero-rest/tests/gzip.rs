//! Gzip through a real server on loopback: `Content-Encoding: gzip` request bodies are
//! decoded (go-zero's `Gunzip`), `MaxBytes` counts decoded bytes so an endless bomb gets
//! 413, a bad gzip body is a 400 JSON answer, and answers are compressed for clients
//! that accept gzip (`Compress`), tiny ones excepted.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use axum::body::{Body, Bytes};
use common::{start, test_conf};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use http::{Request, StatusCode, header};
use rzero_rest::httpc::Client;
use rzero_rest::{Json, Parse, Parsed, RestConf, Route, Server};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, Serialize)]
struct Note {
    user_id: u64,
    note: String,
}

impl Parse for Note {}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(data).expect("compress");
    enc.finish().expect("compress")
}

const BIG: usize = 8 * 1024;
const LIMIT: u64 = 64 * 1024;

async fn server(conf: RestConf) -> (String, tokio::sync::oneshot::Sender<()>) {
    let server = Server::new(conf)
        .route(Route::post(
            "/notes",
            |Parsed(n): Parsed<Note>| async move { Json(serde_json::json!({"len": n.note.len()})) },
        ))
        .route(Route::post("/len", |b: Bytes| async move {
            b.len().to_string()
        }))
        .route(Route::get("/big", || async { "x".repeat(BIG) }))
        .route(Route::get("/tiny", || async { "ok" }));
    let (addr, stop, _task) = start(server).await;
    (format!("http://{addr}"), stop)
}

fn conf() -> RestConf {
    let mut conf = test_conf();
    conf.max_bytes = LIMIT;
    conf.compress.enabled = true;
    conf
}

fn client() -> Client {
    Client::new(Duration::from_secs(30))
}

fn note(len: usize) -> Vec<u8> {
    serde_json::to_vec(&Note {
        user_id: 1,
        note: "a".repeat(len),
    })
    .expect("JSON")
}

async fn post_gzip(url: &str, body: Body) -> (StatusCode, serde_json::Value) {
    let req = Request::post(url)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_ENCODING, "gzip")
        .body(body)
        .expect("request");
    let resp = client().send(req).await.expect("an answer");
    let json = serde_json::from_slice(resp.body()).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(resp.body()));
    });
    (resp.status(), json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_json_body_is_parsed() {
    let (base, _stop) = server(conf()).await;
    let (status, json) = post_gzip(&format!("{base}/notes"), Body::from(gzip(&note(1000)))).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(json["len"], 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_gzip_body_is_a_400_that_says_so() {
    let (base, _stop) = server(conf()).await;
    let url = format!("{base}/notes");
    let mut cut = gzip(&note(1000));
    cut.truncate(cut.len() / 2);
    for body in [b"{\"user_id\": 1}".to_vec(), cut] {
        let (status, json) = post_gzip(&url, Body::from(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
        assert_eq!(json["code"], 400);
        let msg = json["msg"].as_str().expect("msg");
        assert!(msg.contains("not valid gzip"), "{msg}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_bytes_counts_the_decoded_bytes() {
    let (base, _stop) = server(conf()).await;
    let url = format!("{base}/notes");
    let over = gzip(&note(2 * LIMIT as usize));
    assert!(
        (over.len() as u64) < LIMIT,
        "small on the wire: {}",
        over.len()
    );
    let (status, json) = post_gzip(&url, Body::from(over)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{json}");
    assert_eq!(json["code"], 413);
    let (status, json) = post_gzip(&url, Body::from(gzip(&note(LIMIT as usize / 2)))).await;
    assert_eq!(status, StatusCode::OK, "{json}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_gzip_bomb_gets_413() {
    // Gzip members of 1 MiB of zeros each, one after another without end: a server that
    // inflated the whole body would never answer. Over HTTP/2 (prior knowledge), where
    // the answer can arrive while the request body is still being sent; an HTTP/1.1
    // client gives up on the request when the server closes the socket under its write.
    let (base, _stop) = server(conf()).await;
    let member = Bytes::from(gzip(&vec![0u8; 1 << 20]));
    let endless = futures_util::stream::repeat_with(move || {
        Ok::<_, std::io::Error>(http_body::Frame::data(member.clone()))
    });
    let req = Request::post(format!("{base}/notes"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_ENCODING, "gzip")
        .body(http_body_util::StreamBody::new(endless))
        .expect("request");
    let h2 = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let resp = tokio::time::timeout(Duration::from_secs(60), h2.request(req))
        .await
        .expect("an answer before the body ends")
        .expect("an answer");
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .expect("body")
        .to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(json["code"], 413);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_compressed_for_clients_that_accept_gzip() {
    let (base, _stop) = server(conf()).await;
    let http = client();
    let get = |path: &str, accept: Option<&str>| {
        let mut req = Request::get(format!("{base}{path}"));
        if let Some(a) = accept {
            req = req.header(header::ACCEPT_ENCODING, a);
        }
        http.send(req.body(Body::empty()).expect("request"))
    };
    let resp = get("/big", Some("gzip")).await.expect("answer");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()[header::CONTENT_ENCODING], "gzip");
    assert!(resp.body().len() < BIG / 10, "{}", resp.body().len());
    let mut text = String::new();
    GzDecoder::new(resp.body().as_ref())
        .read_to_string(&mut text)
        .expect("valid gzip");
    assert_eq!(text, "x".repeat(BIG));

    for (path, accept) in [
        ("/tiny", Some("gzip")),
        ("/big", None),
        ("/big", Some("br")),
    ] {
        let resp = get(path, accept).await.expect("answer");
        assert!(
            resp.headers().get(header::CONTENT_ENCODING).is_none(),
            "{path} {accept:?}"
        );
    }

    // Off by default.
    let (base, _stop) = server(test_conf()).await;
    let req = Request::get(format!("{base}/big"))
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .expect("request");
    let resp = client().send(req).await.expect("answer");
    assert!(resp.headers().get(header::CONTENT_ENCODING).is_none());
    assert_eq!(resp.body().len(), BIG);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gunzip_can_be_switched_off() {
    let mut conf = conf();
    conf.middlewares.gunzip = false;
    let (base, _stop) = server(conf).await;
    let wire = gzip(&note(1000));
    let req = Request::post(format!("{base}/len"))
        .header(header::CONTENT_ENCODING, "gzip")
        .body(Body::from(wire.clone()))
        .expect("request");
    let resp = client().send(req).await.expect("answer");
    assert_eq!(resp.body().as_ref(), wire.len().to_string().as_bytes());
}
