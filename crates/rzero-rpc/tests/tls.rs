//! TLS and mTLS over real gRPC on loopback, with certificates made in the test: calls
//! work with the right CA, are refused with the wrong one (and say why), a server that
//! requires client certificates refuses a client without one, a ServerName overrides
//! the endpoint's host, bad files fail at start, and traces still join across TLS.

mod common;

use std::path::Path;

use common::*;
use opentelemetry::trace::{SpanKind, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use rzero_rpc::testing::{CertFiles, TestCa};
use rzero_rpc::tls::{ClientTlsConf, ServerTlsConf};
use rzero_rpc::{RpcClient, RpcClientConf, RpcServer};
use tonic::Code;

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn server_tls(cert: &CertFiles, client_ca: Option<&TestCa>) -> ServerTlsConf {
    ServerTlsConf {
        cert_file: path(&cert.cert),
        key_file: path(&cert.key),
        ca_cert_file: client_ca.map(|ca| path(ca.file())).unwrap_or_default(),
    }
}

fn client_tls(ca: &TestCa, cert: Option<&CertFiles>) -> ClientTlsConf {
    ClientTlsConf {
        ca_cert_file: path(ca.file()),
        cert_file: cert.map(|c| path(&c.cert)).unwrap_or_default(),
        key_file: cert.map(|c| path(&c.key)).unwrap_or_default(),
        ..ClientTlsConf::default()
    }
}

async fn tls_server(name: &str, tls: ServerTlsConf) -> TestServer {
    let mut conf = server_conf(name);
    conf.tls = Some(tls);
    let echo = Echo {
        name: name.into(),
        ..Echo::default()
    };
    start_with(conf, echo, |s| s).await
}

async fn tls_client(server: &TestServer, tls: ClientTlsConf) -> EchoClient<RpcClient> {
    let conf = RpcClientConf {
        tls: Some(tls),
        ..client_conf(&[server.addr])
    };
    EchoClient::new(RpcClient::new(&conf).await.expect("client"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_over_tls_work_with_the_right_ca_and_are_refused_with_another() {
    let dir = tempfile::tempdir().expect("dir");
    let ca = TestCa::new(dir.path(), "rpc");
    let other = TestCa::new(dir.path(), "other");
    let cert = ca.issue("server", &["127.0.0.1", "localhost"]);
    let server = tls_server("tls", server_tls(&cert, None)).await;

    let mut good = tls_client(&server, client_tls(&ca, None)).await;
    let reply = within(10, good.say(say("over tls")))
        .await
        .expect("call")
        .into_inner();
    assert_eq!(
        (reply.message.as_str(), reply.server.as_str()),
        ("over tls", "tls")
    );
    let mut stream = within(10, good.stream(say("s")))
        .await
        .expect("stream")
        .into_inner();
    let mut n = 0;
    while within(10, stream.message())
        .await
        .expect("message")
        .is_some()
    {
        n += 1;
    }
    assert_eq!(n, 3);
    let calls = server.calls();

    // A CA that did not sign the server's certificate: refused, saying why and where to look.
    let mut bad = tls_client(&server, client_tls(&other, None)).await;
    let err = within(10, bad.say(say("x"))).await.expect_err("refused");
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    let msg = err.message();
    assert!(
        msg.contains("UnknownIssuer") || msg.contains("certificate"),
        "{msg}"
    );
    assert!(msg.contains("CACertFile"), "{msg}");
    // A plaintext client gets nowhere either.
    let mut plain = client(&[server.addr]).await;
    let err = within(10, plain.say(say("x"))).await.expect_err("refused");
    assert_ne!(err.code(), Code::Ok);
    assert_eq!(server.calls(), calls, "no refused call reached the handler");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_refuses_clients_without_a_certificate_of_its_ca() {
    let dir = tempfile::tempdir().expect("dir");
    let ca = TestCa::new(dir.path(), "rpc");
    let other = TestCa::new(dir.path(), "other");
    let cert = ca.issue("server", &["127.0.0.1"]);
    let client_cert = ca.issue("order-rpc", &["order-rpc"]);
    let stranger = other.issue("stranger", &["stranger"]);
    let server = tls_server("mtls", server_tls(&cert, Some(&ca))).await;

    let mut with_cert = tls_client(&server, client_tls(&ca, Some(&client_cert))).await;
    let reply = within(10, with_cert.say(say("mutual")))
        .await
        .expect("call");
    assert_eq!(reply.into_inner().server, "mtls");
    let calls = server.calls();

    for (who, cert) in [("no certificate", None), ("another CA's", Some(&stranger))] {
        let mut c = tls_client(&server, client_tls(&ca, cert)).await;
        let err = within(10, c.say(say("x"))).await.expect_err(who);
        assert_eq!(err.code(), Code::Unavailable, "{who}: {err:?}");
        // "connection closed" alone would not say where to look.
        assert!(
            err.message().contains("CertFile/KeyFile"),
            "{who}: {}",
            err.message()
        );
    }
    assert_eq!(
        server.calls(),
        calls,
        "refused clients never reached the handler"
    );
    // The refused handshakes did not hurt the server.
    within(10, with_cert.say(say("again")))
        .await
        .expect("still serving");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_name_overrides_the_endpoint_host() {
    let dir = tempfile::tempdir().expect("dir");
    let ca = TestCa::new(dir.path(), "rpc");
    // The certificate names the service, not the address clients dial.
    let cert = ca.issue("user-rpc", &["user-rpc.internal"]);
    let server = tls_server("named", server_tls(&cert, None)).await;

    let mut by_ip = tls_client(&server, client_tls(&ca, None)).await;
    let err = within(10, by_ip.say(say("x")))
        .await
        .expect_err("name mismatch");
    assert_eq!(err.code(), Code::Unavailable);
    assert!(
        err.message().contains("NotValidForName") || err.message().contains("name"),
        "{}",
        err.message()
    );

    let named = ClientTlsConf {
        server_name: "user-rpc.internal".into(),
        ..client_tls(&ca, None)
    };
    let mut by_name = tls_client(&server, named).await;
    within(10, by_name.say(say("x")))
        .await
        .expect("ServerName matches");

    // InsecureSkipVerify: encrypted, not authenticated; off unless asked.
    let other = TestCa::new(dir.path(), "other");
    let skip = ClientTlsConf {
        insecure_skip_verify: true,
        ..client_tls(&other, None)
    };
    let mut skipping = tls_client(&server, skip).await;
    within(10, skipping.say(say("x")))
        .await
        .expect("verification skipped");
    assert!(!ClientTlsConf::default().insecure_skip_verify);
    server.stop().await;
}

#[tokio::test]
async fn bad_tls_files_fail_the_start_with_the_key_at_fault() {
    let dir = tempfile::tempdir().expect("dir");
    let ca = TestCa::new(dir.path(), "rpc");
    let cert = ca.issue("server", &["127.0.0.1"]);
    let other = ca.issue("other", &["127.0.0.1"]);

    let mut conf = server_conf("bad");
    conf.tls = Some(ServerTlsConf {
        key_file: path(&dir.path().join("missing-key.pem")),
        ..server_tls(&cert, None)
    });
    let err = RpcServer::new(conf.clone())
        .bind()
        .await
        .expect_err("missing key");
    let text = err.to_string();
    assert!(
        text.contains("Tls.KeyFile") && text.contains("cannot open"),
        "{text}"
    );

    // A key that is not the certificate's.
    conf.tls = Some(ServerTlsConf {
        key_file: path(&other.key),
        ..server_tls(&cert, None)
    });
    let err = RpcServer::new(conf).bind().await.expect_err("key mismatch");
    assert!(err.to_string().contains("Tls.KeyFile"), "{err}");

    // A client certificate without its key.
    let conf = RpcClientConf {
        tls: Some(ClientTlsConf {
            cert_file: path(&cert.cert),
            ..client_tls(&ca, None)
        }),
        ..client_conf(&["127.0.0.1:1".parse().expect("addr")])
    };
    let err = RpcClient::new(&conf).await.expect_err("no key");
    assert!(
        err.to_string().contains("Tls.CertFile and Tls.KeyFile"),
        "{err}"
    );

    // The YAML keys.
    let yaml = "Name: s\nTls:\n  CertFile: /c.pem\n  KeyFile: /k.pem\n  CACertFile: /ca.pem\n";
    let c: rzero_rpc::RpcServerConf = rzero_conf::Loader::new()
        .env(|_| None)
        .load_str("s.yaml", yaml)
        .expect("loads");
    assert_eq!(c.tls.map(|t| t.ca_cert_file), Some("/ca.pem".to_owned()));
    let yaml = "Endpoints: [a:1]\nTls:\n  CACertFile: /ca.pem\n  ServerName: user-rpc\n";
    let c: RpcClientConf = rzero_conf::Loader::new()
        .env(|_| None)
        .load_str("c.yaml", yaml)
        .expect("loads");
    let tls = c.tls.expect("tls");
    assert_eq!(
        (tls.server_name.as_str(), tls.insecure_skip_verify),
        ("user-rpc", false)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_join_client_and_server_over_mtls() {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let tracer = provider.tracer("test");

    let dir = tempfile::tempdir().expect("dir");
    let ca = TestCa::new(dir.path(), "rpc");
    let cert = ca.issue("server", &["127.0.0.1"]);
    let client_cert = ca.issue("client", &["client"]);
    let mut conf = server_conf("traced");
    conf.tls = Some(server_tls(&cert, Some(&ca)));
    let t = tracer.clone();
    let echo = Echo {
        name: "traced".into(),
        ..Echo::default()
    };
    let server = start_with(conf, echo, move |s| s.tracer(t)).await;
    let client_conf = RpcClientConf {
        tls: Some(client_tls(&ca, Some(&client_cert))),
        ..client_conf(&[server.addr])
    };
    let channel = RpcClient::builder(client_conf)
        .tracer(tracer.clone())
        .build()
        .await
        .expect("client");
    let mut client = EchoClient::new(channel);

    let root = tracer.start("caller");
    let cx = opentelemetry::Context::current_with_span(root);
    {
        use opentelemetry::context::FutureExt;
        within(10, client.say(say("traced")).with_context(cx.clone()))
            .await
            .expect("call");
    }
    cx.span().end();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let spans = loop {
        let spans = exporter.get_finished_spans().expect("spans");
        let done = spans.iter().any(|s| s.span_kind == SpanKind::Server);
        if done || std::time::Instant::now() > deadline {
            break spans;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let of = |kind: SpanKind| {
        spans
            .iter()
            .find(|s| s.name == "echo.Echo/Say" && s.span_kind == kind)
            .unwrap_or_else(|| panic!("a {kind:?} span in {spans:#?}"))
    };
    let (client_span, server_span) = (of(SpanKind::Client), of(SpanKind::Server));
    let caller = spans
        .iter()
        .find(|s| s.name == "caller")
        .expect("caller span");
    assert_eq!(client_span.parent_span_id, caller.span_context.span_id());
    assert_eq!(
        server_span.span_context.trace_id(),
        caller.span_context.trace_id()
    );
    assert_eq!(
        server_span.parent_span_id,
        client_span.span_context.span_id()
    );
    server.stop().await;
}
