use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::IntoResponse;
use http_body_util::BodyExt;
use tower::{ServiceBuilder, ServiceExt};

use super::*;

const S: Duration = Duration::from_secs(1);

/// A route answering `text/event-stream` with the frames `rx` yields.
async fn serve_frames(
    layer: SseLayer,
    rx: tokio::sync::mpsc::Receiver<&'static str>,
) -> Response<Body> {
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let frame = rx.recv().await?;
        Some((
            Ok::<_, Infallible>(Bytes::from_static(frame.as_bytes())),
            rx,
        ))
    });
    let body = std::sync::Mutex::new(Some(Body::from_stream(stream)));
    let svc = ServiceBuilder::new()
        .layer(layer)
        .service_fn(move |_req: Request<Body>| {
            let body = body.lock().expect("lock").take().expect("one call");
            async move {
                Ok::<_, Infallible>(
                    ([(http::header::CONTENT_TYPE, "text/event-stream")], body).into_response(),
                )
            }
        });
    svc.oneshot(Request::new(Body::empty()))
        .await
        .expect("infallible")
}

async fn next(body: &mut Body) -> Option<String> {
    let frame = body.frame().await?.expect("no error");
    let data = frame.into_data().expect("a data frame");
    Some(String::from_utf8(data.to_vec()).expect("utf-8"))
}

#[tokio::test(start_paused = true)]
async fn a_quiet_stream_gets_keep_alive_comments() {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let resp = serve_frames(SseLayer::new().keep_alive(15 * S), rx).await;
    assert_eq!(resp.headers()["cache-control"], "no-cache");
    assert_eq!(resp.headers()["x-accel-buffering"], "no");
    let mut body = resp.into_body();
    tx.send("data: 1\n\n").await.expect("open");
    assert_eq!(next(&mut body).await.as_deref(), Some("data: 1\n\n"));
    let start = tokio::time::Instant::now();
    assert_eq!(next(&mut body).await.as_deref(), Some(":\n\n"));
    assert_eq!(start.elapsed(), 15 * S);
    tx.send("data: 2\n\n").await.expect("open");
    assert_eq!(next(&mut body).await.as_deref(), Some("data: 2\n\n"));
    drop(tx);
    assert_eq!(next(&mut body).await, None);
}

#[tokio::test(start_paused = true)]
async fn no_keep_alive_inside_an_event() {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut body = serve_frames(SseLayer::new().keep_alive(S), rx)
        .await
        .into_body();
    tx.send("data: half").await.expect("open");
    assert_eq!(next(&mut body).await.as_deref(), Some("data: half"));
    // Ten intervals pass inside the event: a comment there would corrupt it.
    let quiet = tokio::time::timeout(10 * S, next(&mut body)).await;
    assert!(quiet.is_err(), "{quiet:?}");
    tx.send("\n\n").await.expect("open");
    assert_eq!(next(&mut body).await.as_deref(), Some("\n\n"));
    assert_eq!(next(&mut body).await.as_deref(), Some(":\n\n"));
}

#[tokio::test(start_paused = true)]
async fn a_drain_ends_open_streams_and_new_ones() {
    let layer = SseLayer::new();
    let drain = layer.drain_handle();
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut body = serve_frames(layer.clone(), rx).await.into_body();
    tx.send("data: 1\n\n").await.expect("open");
    assert_eq!(next(&mut body).await.as_deref(), Some("data: 1\n\n"));
    drain.drain();
    assert_eq!(next(&mut body).await, None);
    assert!(http_body::Body::is_end_stream(&body));
    let (_tx2, rx2) = tokio::sync::mpsc::channel(4);
    let mut late = serve_frames(layer, rx2).await.into_body();
    assert_eq!(next(&mut late).await, None);
}

#[tokio::test]
async fn other_answers_pass_untouched() {
    let svc =
        ServiceBuilder::new()
            .layer(SseLayer::new())
            .service_fn(|_req: Request<Body>| async {
                Ok::<_, Infallible>(crate::Error::bad_request("no").into_response())
            });
    let resp = svc
        .oneshot(Request::new(Body::empty()))
        .await
        .expect("infallible");
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("x-accel-buffering").is_none());
    assert!(resp.extensions().get::<SpanHandoff>().is_none());
}

#[tokio::test]
async fn a_panicking_stream_ends_with_an_error_event() {
    let svc =
        ServiceBuilder::new()
            .layer(SseLayer::new())
            .service_fn(|_req: Request<Body>| async {
                let stream = futures_util::stream::iter([0, 1]).map(|n| {
                    assert!(n == 0, "the second event panics");
                    Ok::<_, Infallible>(axum::response::sse::Event::default().data("ok"))
                });
                Ok::<_, Infallible>(axum::response::Sse::new(stream).into_response())
            });
    let mut body = svc
        .oneshot(Request::new(Body::empty()))
        .await
        .expect("infallible")
        .into_body();
    assert_eq!(next(&mut body).await.as_deref(), Some("data: ok\n\n"));
    let err = next(&mut body).await.expect("an error event");
    assert!(
        err.starts_with("event: error\ndata: {\"code\":500"),
        "{err}"
    );
    assert_eq!(next(&mut body).await, None);
}

#[tokio::test]
async fn logic_errors_are_sent_as_an_error_event_after_its_events() {
    let resp = events(|client| async move {
        client.send(serde_json::json!({"n": 1})).await?;
        Err(crate::Error::not_implemented("fill in the logic"))
    })
    .into_response();
    let mut body = resp.into_body();
    assert_eq!(
        next(&mut body).await.as_deref(),
        Some("data: {\"n\":1}\n\n")
    );
    assert_eq!(
        next(&mut body).await.as_deref(),
        Some("event: error\ndata: {\"code\":501,\"msg\":\"fill in the logic\"}\n\n")
    );
    assert_eq!(next(&mut body).await, None);
}

use futures_util::StreamExt as _;
