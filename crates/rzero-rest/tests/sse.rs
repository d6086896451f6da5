//! Server-sent events through the real server on loopback, read by a raw HTTP/1.1
//! client: events arrive one by one as chunks, the route timeout does not cut a stream,
//! a client that goes away ends the handler's stream, a drain ends open streams within
//! the deadline, and the server span lasts as long as the stream.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use common::{start, test_conf};
use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use rzero_rest::sse::{END_ATTRIBUTE, EVENTS_ATTRIBUTE, events};
use rzero_rest::{Error, Group, Route, Server};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// Generous: the machine is shared; no assertion is about how long anything took.
const PATIENCE: Duration = Duration::from_secs(30);

/// An HTTP/1.1 client reading an event stream chunk by chunk.
struct SseClient {
    io: BufReader<TcpStream>,
    head: String,
    /// Bytes of events not yet complete.
    pending: String,
}

impl SseClient {
    async fn get(addr: SocketAddr, path: &str) -> Self {
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        let req =
            format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\naccept: text/event-stream\r\n\r\n");
        tcp.write_all(req.as_bytes()).await.expect("write");
        let mut io = BufReader::new(tcp);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(PATIENCE, io.read_line(&mut line))
                .await
                .expect("a head in time")
                .expect("read");
            assert!(n > 0, "closed before the head ended: {head}");
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        SseClient {
            io,
            head,
            pending: String::new(),
        }
    }

    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }

    /// The next chunk of the body, `None` at its last (zero) chunk.
    async fn chunk(&mut self) -> Option<String> {
        let mut size = String::new();
        let n = tokio::time::timeout(PATIENCE, self.io.read_line(&mut size))
            .await
            .expect("a chunk in time")
            .expect("read");
        assert!(n > 0, "the connection closed without the last chunk");
        let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
        let mut data = vec![0; size + 2];
        self.io.read_exact(&mut data).await.expect("chunk data");
        assert_eq!(&data[size..], b"\r\n");
        data.truncate(size);
        (size > 0).then(|| String::from_utf8(data).expect("utf-8"))
    }

    /// The next event that is not a comment, `None` at the stream's clean end.
    async fn event(&mut self) -> Option<String> {
        loop {
            if let Some(i) = self.pending.find("\n\n") {
                let event: String = self.pending.drain(..i + 2).collect();
                if event.starts_with(':') {
                    continue;
                }
                return Some(event.trim_end().to_owned());
            }
            let chunk = self.chunk().await?;
            self.pending.push_str(&chunk);
        }
    }

    /// After the last chunk: the server closes the connection (it drained).
    async fn closed(mut self) {
        let mut rest = Vec::new();
        let n = tokio::time::timeout(PATIENCE, self.io.read_to_end(&mut rest))
            .await
            .expect("closed in time")
            .expect("read");
        assert_eq!(n, 0, "nothing after the last chunk");
    }
}

/// Fires when dropped: shows that the handler's stream (which owns it) is gone.
struct DropGuard(Option<oneshot::Sender<()>>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

fn tracing() -> (SdkTracerProvider, InMemorySpanExporter) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    (provider, exporter)
}

fn server_span(exporter: &InMemorySpanExporter, name: &str) -> Option<SpanData> {
    exporter
        .get_finished_spans()
        .expect("spans")
        .into_iter()
        .find(|s| s.name == name)
}

/// The span `name` once it has ended: the body that ends it is dropped by the
/// connection's task, a moment after the client saw the stream's end.
async fn ended_span(exporter: &InMemorySpanExporter, name: &str) -> SpanData {
    let wait = async {
        loop {
            if let Some(span) = server_span(exporter, name) {
                return span;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(PATIENCE, wait)
        .await
        .unwrap_or_else(|_| panic!("{name} never ended"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_arrive_one_by_one_as_an_event_stream() {
    let server = Server::new(test_conf()).group(Group::new().prefix("/api").sse().route(
        Route::get("/ticks", || async {
            events(|client| async move {
                for n in 1..=3 {
                    client.send(serde_json::json!({ "n": n })).await?;
                }
                Ok(())
            })
        }),
    ));
    let (addr, _stop, _task) = start(server).await;
    let mut c = SseClient::get(addr, "/api/ticks").await;
    assert!(c.head.starts_with("HTTP/1.1 200"), "{}", c.head);
    assert_eq!(
        c.header("content-type").as_deref(),
        Some("text/event-stream")
    );
    assert_eq!(c.header("cache-control").as_deref(), Some("no-cache"));
    assert_eq!(c.header("x-accel-buffering").as_deref(), Some("no"));
    assert_eq!(c.header("transfer-encoding").as_deref(), Some("chunked"));
    for n in 1..=3 {
        assert_eq!(
            c.event().await.as_deref(),
            Some(format!("data: {{\"n\":{n}}}").as_str())
        );
    }
    assert_eq!(c.event().await, None, "a clean end after the last event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_route_timeout_does_not_cut_a_stream() {
    let mut conf = test_conf();
    conf.timeout = Duration::from_millis(100);
    // The same slow handler: behind the timeout on a plain route, unbounded on an SSE one.
    let slow = || async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        events(|client| async move {
            for n in 0..3 {
                tokio::time::sleep(Duration::from_millis(300)).await;
                client.send(n).await?;
            }
            Ok(())
        })
    };
    let server = Server::new(conf)
        .route(Route::get("/plain", slow))
        .group(Group::new().sse().route(Route::get("/stream", slow)));
    let (addr, _stop, _task) = start(server).await;
    let plain = common::send(addr, "GET", "/plain", "", "").await;
    assert_eq!(plain.status, 503, "the timeout is on: {}", plain.body);
    let mut c = SseClient::get(addr, "/stream").await;
    assert!(c.head.starts_with("HTTP/1.1 200"), "{}", c.head);
    for n in 0..3 {
        assert_eq!(
            c.event().await.as_deref(),
            Some(format!("data: {n}").as_str())
        );
    }
    assert_eq!(c.event().await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_ends_the_handlers_stream() {
    let (provider, exporter) = tracing();
    let (gone_tx, gone_rx) = oneshot::channel();
    let guard = Arc::new(Mutex::new(Some(DropGuard(Some(gone_tx)))));
    let server = Server::new(test_conf())
        .tracer(provider.tracer("rzero"))
        .group(Group::new().sse().route(Route::get("/forever", move || {
            let guard = guard.lock().expect("lock").take();
            async move {
                events(|client| async move {
                    let _guard = guard;
                    client.send("hello").await?;
                    // Never ends by itself: only the client's leaving ends it.
                    std::future::pending::<()>().await;
                    Ok(())
                })
            }
        })));
    let (addr, _stop, _task) = start(server).await;
    let mut c = SseClient::get(addr, "/forever").await;
    assert_eq!(c.event().await.as_deref(), Some("data: \"hello\""));
    assert!(
        server_span(&exporter, "GET /forever").is_none(),
        "still open"
    );
    drop(c);
    tokio::time::timeout(PATIENCE, gone_rx)
        .await
        .expect("the stream is dropped after the client left")
        .expect("dropped, not leaked");
    let span = ended_span(&exporter, "GET /forever").await;
    assert_eq!(attr(&span, END_ATTRIBUTE).as_deref(), Some("client_gone"));
    assert_eq!(attr(&span, EVENTS_ATTRIBUTE).as_deref(), Some("1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_ends_open_streams_and_the_server_stops() {
    let (provider, exporter) = tracing();
    let mut conf = test_conf();
    // Far longer than PATIENCE: a drain that waited for the stream would fail the test.
    conf.service.shutdown.wait_time = Duration::from_secs(300);
    let (gone_tx, gone_rx) = oneshot::channel();
    let guard = Arc::new(Mutex::new(Some(DropGuard(Some(gone_tx)))));
    let server = Server::new(conf).tracer(provider.tracer("rzero")).group(
        Group::new()
            .sse_keep_alive(Duration::from_millis(50))
            .route(Route::get("/feed", move || {
                let guard = guard.lock().expect("lock").take();
                async move {
                    events(|client| async move {
                        let _guard = guard;
                        client.send(1).await?;
                        std::future::pending::<()>().await;
                        Ok(())
                    })
                }
            })),
    );
    let (addr, stop, task) = start(server).await;
    let mut c = SseClient::get(addr, "/feed").await;
    assert_eq!(c.event().await.as_deref(), Some("data: 1"));
    // Keep-alive comments flow while the stream is quiet.
    let comment = c.chunk().await.expect("a chunk");
    assert_eq!(comment, ":\n\n");
    stop.send(()).expect("the server runs");
    // Keep-alive comments would go on for ever: the end must come, within PATIENCE.
    let end = tokio::time::timeout(PATIENCE, c.event())
        .await
        .expect("the drain ends the stream");
    assert_eq!(end, None, "the stream ends cleanly on drain");
    c.closed().await;
    tokio::time::timeout(PATIENCE, task)
        .await
        .expect("the server stops without waiting for Shutdown.WaitTime")
        .expect("joins")
        .expect("a clean stop");
    gone_rx.await.expect("the handler's stream was dropped");
    let span = server_span(&exporter, "GET /feed").expect("the span ended with the stream");
    assert_eq!(attr(&span, END_ATTRIBUTE).as_deref(), Some("drained"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_span_lasts_as_long_as_the_stream() {
    let (provider, exporter) = tracing();
    let tracer = provider.tracer("handler");
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let release = Arc::new(Mutex::new(Some(release_rx)));
    let server = Server::new(test_conf())
        .tracer(provider.tracer("rzero"))
        .group(Group::new().sse().route(Route::get("/job", move || {
            let release = release.lock().expect("lock").take();
            let tracer = tracer.clone();
            async move {
                events(move |client| async move {
                    client.send("started").await?;
                    if let Some(release) = release {
                        let _ = release.await;
                    }
                    // Made while the stream runs: a child of the server span.
                    tracer.start("finish").end();
                    client.send("done").await?;
                    Err(Error::internal("the job failed at the end"))
                })
            }
        })));
    let (addr, _stop, _task) = start(server).await;
    let before = SystemTime::now();
    let mut c = SseClient::get(addr, "/job").await;
    assert_eq!(c.event().await.as_deref(), Some("data: \"started\""));
    assert!(
        server_span(&exporter, "GET /job").is_none(),
        "open while streaming"
    );
    let released = SystemTime::now();
    release_tx.send(()).expect("waiting");
    assert_eq!(c.event().await.as_deref(), Some("data: \"done\""));
    let err = c.event().await.expect("an error event");
    assert!(
        err.starts_with("event: error\ndata: {\"code\":500"),
        "{err}"
    );
    assert_eq!(c.event().await, None);
    let span = ended_span(&exporter, "GET /job").await;
    let after = SystemTime::now();
    assert!(span.start_time >= before && span.start_time <= released);
    assert!(
        span.end_time >= released && span.end_time <= after,
        "the span ends with the stream, after the release"
    );
    assert_eq!(attr(&span, EVENTS_ATTRIBUTE).as_deref(), Some("3"));
    assert_eq!(attr(&span, END_ATTRIBUTE).as_deref(), Some("complete"));
    assert_eq!(
        attr(&span, "http.response.status_code").as_deref(),
        Some("200")
    );
    assert_eq!(attr(&span, "error.type").as_deref(), Some("500"));
    assert!(matches!(
        span.status,
        opentelemetry::trace::Status::Error { .. }
    ));
    let child = server_span(&exporter, "finish").expect("the stream's own span");
    assert_eq!(child.parent_span_id, span.span_context.span_id());
    assert_eq!(child.span_context.trace_id(), span.span_context.trace_id());
}
