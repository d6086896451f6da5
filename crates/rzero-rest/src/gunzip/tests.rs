use std::io::Write;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::routing::post;
use flate2::Compression;
use flate2::write::GzEncoder;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::{ServiceBuilder, ServiceExt};

use super::*;
use crate::limit::MaxBytesLayer;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(data).expect("compress");
    enc.finish().expect("compress")
}

/// A route that echoes how many bytes it read, behind MaxBytes then Gunzip as the
/// server stacks them.
fn app(limit: u64) -> Router {
    Router::new().route(
        "/",
        post(|body: Bytes| async move { body.len().to_string() }).layer(
            ServiceBuilder::new()
                .layer(MaxBytesLayer::new(limit))
                .layer(GunzipLayer::new()),
        ),
    )
}

async fn send(app: Router, encoding: Option<&str>, body: Vec<u8>) -> (StatusCode, String) {
    let mut req = Request::post("/").header(header::CONTENT_LENGTH, body.len());
    if let Some(e) = encoding {
        req = req.header(header::CONTENT_ENCODING, e);
    }
    let resp = app
        .oneshot(req.body(Body::from(body)).expect("request"))
        .await
        .expect("answers");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn a_gzip_body_reaches_the_handler_decoded() {
    let data = b"{\"user_id\":1}".repeat(100);
    let (status, text) = send(app(1 << 20), Some("gzip"), gzip(&data)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text, data.len().to_string());
}

#[tokio::test]
async fn concatenated_members_are_one_body() {
    let mut body = gzip(b"hello ");
    body.extend(gzip(b"world"));
    let (status, text) = send(app(1 << 20), Some("x-gzip"), body).await;
    assert_eq!((status, text.as_str()), (StatusCode::OK, "11"));
}

#[tokio::test]
async fn the_limit_counts_decoded_bytes() {
    // 64 KiB of zeros compress to a few hundred bytes: under the limit on the wire,
    // over it decoded.
    let data = vec![0u8; 64 * 1024];
    let wire = gzip(&data);
    assert!(wire.len() < 1024, "{}", wire.len());
    let (status, _) = send(app(32 * 1024), Some("gzip"), wire.clone()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _) = send(app(64 * 1024), Some("gzip"), wire).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn bad_gzip_fails_to_read_with_bad_gzip() {
    let req = Request::post("/")
        .header(header::CONTENT_ENCODING, "gzip")
        .body(Body::from("this is not gzip"))
        .expect("request");
    let (parts, body) = req.into_parts();
    assert!(is_gzip(&parts.headers));
    let err = body::gunzip(body).collect().await.expect_err("not gzip");
    let text = format!("{err:?}");
    assert!(text.contains("BadGzip"), "{text}");
}

#[tokio::test]
async fn other_encodings_pass_through() {
    let (status, text) = send(app(1 << 20), Some("br"), b"raw".to_vec()).await;
    assert_eq!((status, text.as_str()), (StatusCode::OK, "3"));
    let (status, text) = send(app(1 << 20), None, b"plain".to_vec()).await;
    assert_eq!((status, text.as_str()), (StatusCode::OK, "5"));
}
