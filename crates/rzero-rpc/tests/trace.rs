//! Tracing through real gRPC on loopback: the client's span is the parent of the
//! server's, in the same trace; attributes follow the RPC conventions; failures,
//! panics and streams are traced too.

mod common;

use common::*;
use opentelemetry::global;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use rzero_rpc::RpcClient;

fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

fn find<'a>(spans: &'a [SpanData], name: &str, kind: SpanKind) -> Vec<&'a SpanData> {
    spans
        .iter()
        .filter(|s| s.name == name && s.span_kind == kind)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_carry_the_callers_trace_and_the_conventions() {
    global::set_text_map_propagator(TraceContextPropagator::new());
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    global::set_tracer_provider(provider.clone());
    let tracer = provider.tracer("test");

    let echo = Echo {
        name: "a".into(),
        ..Echo::default()
    };
    let t = tracer.clone();
    let server = start_with(server_conf("echo"), echo, move |s| s.tracer(t)).await;
    let channel = RpcClient::builder(client_conf(&[server.addr]))
        .tracer(tracer.clone())
        .build()
        .await
        .expect("client");
    let mut client = EchoClient::new(channel);

    // 1. A call inside a caller's span: one trace, caller > client > server > handler.
    let root = tracer.start("caller");
    let root_cx = opentelemetry::Context::current_with_span(root);
    let reply = {
        use opentelemetry::context::FutureExt;
        within(10, client.say(say("hi")).with_context(root_cx.clone()))
            .await
            .expect("ok")
            .into_inner()
    };
    assert_eq!(reply.message, "hi");
    root_cx.span().end();

    // 2. A failure the server owns, and one that is the caller's.
    let mut req = say("x");
    req.fail_code = tonic::Code::Internal as i32;
    let err = within(10, client.say(req)).await.expect_err("fails");
    assert_eq!(err.code(), tonic::Code::Internal);
    let mut req = say("x");
    req.fail_code = tonic::Code::NotFound as i32;
    let err = within(10, client.say(req)).await.expect_err("fails");
    assert_eq!(err.code(), tonic::Code::NotFound);

    // 3. A stream: traced until its last message.
    let mut stream = within(10, client.stream(say("s")))
        .await
        .expect("stream")
        .into_inner();
    let mut n = 0;
    while let Some(m) = within(10, stream.message()).await.expect("message") {
        assert!(m.message.starts_with("s-"));
        n += 1;
    }
    assert_eq!(n, 3);
    drop(stream);

    // Spans end when the body's trailers are read: give the server a moment to finish.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let spans = loop {
        let spans = exporter.get_finished_spans().expect("spans");
        let servers = spans
            .iter()
            .filter(|s| s.span_kind == SpanKind::Server)
            .count();
        if servers >= 4 || std::time::Instant::now() > deadline {
            break spans;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };

    let caller = &find(&spans, "caller", SpanKind::Internal)[0];
    let clients = find(&spans, "echo.Echo/Say", SpanKind::Client);
    let servers = find(&spans, "echo.Echo/Say", SpanKind::Server);
    assert_eq!(clients.len(), 3, "{spans:#?}");
    assert_eq!(servers.len(), 3);
    let (client_span, server_span) = (clients[0], servers[0]);
    let trace_id = caller.span_context.trace_id();
    assert_eq!(client_span.span_context.trace_id(), trace_id);
    assert_eq!(server_span.span_context.trace_id(), trace_id);
    assert_eq!(client_span.parent_span_id, caller.span_context.span_id());
    assert_eq!(
        server_span.parent_span_id,
        client_span.span_context.span_id()
    );
    let handler = &find(&spans, "echo.handle", SpanKind::Internal)[0];
    assert_eq!(handler.parent_span_id, server_span.span_context.span_id());

    assert_eq!(attr(server_span, "rpc.system").as_deref(), Some("grpc"));
    assert_eq!(
        attr(server_span, "rpc.service").as_deref(),
        Some("echo.Echo")
    );
    assert_eq!(attr(server_span, "rpc.method").as_deref(), Some("Say"));
    assert_eq!(
        attr(server_span, "rpc.grpc.status_code").as_deref(),
        Some("0")
    );
    assert_eq!(
        attr(server_span, "server.address").as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(
        attr(server_span, "server.port"),
        Some(server.addr.port().to_string())
    );
    assert_eq!(server_span.status, Status::Unset);
    assert_eq!(
        attr(client_span, "rpc.grpc.status_code").as_deref(),
        Some("0")
    );

    // INTERNAL fails both spans; NOT_FOUND fails only the client's.
    assert!(matches!(servers[1].status, Status::Error { .. }));
    assert_eq!(
        attr(servers[1], "rpc.grpc.status_code").as_deref(),
        Some("13")
    );
    assert!(matches!(clients[1].status, Status::Error { .. }));
    assert_eq!(servers[2].status, Status::Unset);
    assert_eq!(
        attr(servers[2], "rpc.grpc.status_code").as_deref(),
        Some("5")
    );
    assert!(matches!(clients[2].status, Status::Error { .. }));

    let streams = find(&spans, "echo.Echo/Stream", SpanKind::Server);
    assert_eq!(streams.len(), 1);
    assert_eq!(
        attr(streams[0], "rpc.grpc.status_code").as_deref(),
        Some("0")
    );

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_answers_internal_and_the_next_call_works() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let t = provider.tracer("test");
    let server = start_with(server_conf("echo"), Echo::default(), move |s| s.tracer(t)).await;
    let mut client = client(&[server.addr]).await;

    let mut req = say("boom");
    req.panic = true;
    let err = within(10, client.say(req)).await.expect_err("panics");
    assert_eq!(err.code(), tonic::Code::Internal, "{err:?}");
    eprintln!("{err:?}");
    assert!(!err.message().contains("echo asked to panic"), "{err}");

    let reply = within(10, client.say(say("after")))
        .await
        .expect("still serving");
    assert_eq!(reply.into_inner().message, "after");

    // A stream that panics mid-way ends with INTERNAL (messages encoded in the same
    // frame as the panic are lost with it).
    let mut req = say("s");
    req.panic = true;
    let mut stream = within(10, client.stream(req))
        .await
        .expect("stream")
        .into_inner();
    let err = within(10, async {
        loop {
            match stream.message().await {
                Ok(Some(m)) => assert_eq!(m.message, "s-0"),
                Ok(None) => panic!("the stream ended without the panic's status"),
                Err(e) => break e,
            }
        }
    })
    .await;
    assert_eq!(err.code(), tonic::Code::Internal, "{err:?}");
    let reply = within(10, client.say(say("again")))
        .await
        .expect("still serving");
    assert_eq!(reply.into_inner().message, "again");

    let spans = exporter.get_finished_spans().expect("spans");
    let panicked = spans
        .iter()
        .find(|s| attr(s, "rpc.grpc.status_code").as_deref() == Some("13"))
        .unwrap_or_else(|| panic!("the panicking call's span in {spans:#?}"));
    assert!(matches!(panicked.status, Status::Error { .. }));
    assert!(
        panicked.events.iter().any(|e| e.name == "exception"
            && e.attributes
                .iter()
                .any(|kv| kv.value.to_string().contains("echo asked to panic"))),
        "{panicked:#?}"
    );
    server.stop().await;
}
