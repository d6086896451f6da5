//! HTTPS on real loopback sockets, with certificates made here (rcgen): the right CA
//! works over HTTP/2 and HTTP/1.1 (ALPN), a wrong CA is refused, mTLS wants a client
//! certificate, plain HTTP on the TLS port is answered 400, a stalled handshake is
//! dropped, `MaxConns` counts TLS sockets, bad files fail the start naming the key, and
//! every request still gets its server span (with `url.scheme` `https`).

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::body::Body;
use common::{start, test_conf};
use http::{Request, StatusCode, Version};
use http_body_util::BodyExt;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rzero_rest::httpc::{Client, ClientTlsConf, HttpcError};
use rzero_rest::{RestConf, Route, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A CA of the test's own and the certificates it signs, as PEM files in `dir`.
struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
    dir: PathBuf,
    file: PathBuf,
}

impl Ca {
    fn new(dir: &Path, name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, format!("{name} CA"));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("CA");
        let file = dir.join(format!("{name}-ca.pem"));
        std::fs::write(&file, cert.pem()).expect("write");
        Ca {
            cert,
            key,
            dir: dir.to_owned(),
            file,
        }
    }

    /// A leaf for 127.0.0.1 and localhost: (certificate file, key file).
    fn issue(&self, name: &str) -> (String, String) {
        let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
        let mut params = CertificateParams::new(names).expect("params");
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().expect("key");
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .expect("certificate");
        let (c, k) = (
            self.dir.join(format!("{name}.pem")),
            self.dir.join(format!("{name}-key.pem")),
        );
        std::fs::write(&c, cert.pem()).expect("write");
        std::fs::write(&k, key.serialize_pem()).expect("write");
        (path(&c), path(&k))
    }

    fn file(&self) -> String {
        path(&self.file)
    }
}

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// A TLS server on a free port with `/hello`, tracing into an in-memory exporter.
struct Https {
    addr: SocketAddr,
    exporter: InMemorySpanExporter,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn https(conf: RestConf) -> Https {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let server = Server::new(conf)
        .tracer(provider.tracer("rzero"))
        .route(Route::get("/hello", || async { "hello over TLS" }));
    let (addr, stop, _task) = start(server).await;
    Https {
        addr,
        exporter,
        _stop: stop,
    }
}

fn tls_conf(cert: &(String, String)) -> RestConf {
    let mut conf = test_conf();
    conf.tls.cert_file = cert.0.clone();
    conf.tls.key_file = cert.1.clone();
    conf
}

fn trusting(ca: &Ca) -> ClientTlsConf {
    ClientTlsConf {
        ca_cert_file: ca.file(),
        ..Default::default()
    }
}

const T: Duration = Duration::from_secs(20);

fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_ca_works_over_h2_and_http1_and_requests_are_traced() {
    let dir = tempfile::tempdir().expect("dir");
    let ca = Ca::new(dir.path(), "good");
    let server = https(tls_conf(&ca.issue("server"))).await;
    let url = format!("https://127.0.0.1:{}/hello", server.addr.port());

    // rzero's client: ALPN picks HTTP/2.
    let client = Client::with_tls(T, &trusting(&ca)).expect("client");
    let resp = client.get(&url).await.expect("an answer over TLS");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.version(), Version::HTTP_2);
    assert_eq!(resp.body().as_ref(), b"hello over TLS");

    // hyper-util's client offering only http/1.1.
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(&ca.file).expect("CA");
    for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(&pem) {
        roots.add(cert.expect("PEM")).expect("add");
    }
    let tls = rustls::ClientConfig::builder_with_provider(
        rzero_telemetry::tls::install_crypto_provider(),
    )
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http1()
        .build();
    let h1 = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, Body>(connector);
    let req = Request::get(&url).body(Body::empty()).expect("request");
    let resp = tokio::time::timeout(T, h1.request(req))
        .await
        .expect("in time")
        .expect("an answer over TLS");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.version(), Version::HTTP_11);
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(body.as_ref(), b"hello over TLS");

    let spans = server.exporter.get_finished_spans().expect("spans");
    let served: Vec<_> = spans.iter().filter(|s| s.name == "GET /hello").collect();
    assert_eq!(served.len(), 2, "{spans:?}");
    let mut versions: Vec<_> = served
        .iter()
        .map(|s| attr(s, "network.protocol.version").expect("version"))
        .collect();
    versions.sort();
    assert_eq!(versions, ["1.1", "2"]);
    for s in served {
        assert_eq!(attr(s, "url.scheme").as_deref(), Some("https"), "{s:?}");
        assert_eq!(attr(s, "http.response.status_code").as_deref(), Some("200"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_from_another_ca_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let ca = Ca::new(dir.path(), "good");
    let other = Ca::new(dir.path(), "other");
    let server = https(tls_conf(&ca.issue("server"))).await;
    let url = format!("https://127.0.0.1:{}/hello", server.addr.port());

    for client in [
        Client::with_tls(T, &trusting(&other)).expect("client"),
        // The system's store does not know the test's CA either.
        Client::new(T),
    ] {
        let err = client.get(&url).await.expect_err("refused");
        assert!(matches!(err, HttpcError::Tls(_)), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("UnknownIssuer"), "{msg}");
        assert!(msg.contains("CACertFile"), "says what to do: {msg}");
    }
    // The server refused nothing it served: no span for a failed handshake.
    let spans = server.exporter.get_finished_spans().expect("spans");
    assert!(spans.is_empty(), "{spans:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_wants_a_client_certificate_from_its_ca() {
    let dir = tempfile::tempdir().expect("dir");
    let ca = Ca::new(dir.path(), "good");
    let other = Ca::new(dir.path(), "other");
    let mut conf = tls_conf(&ca.issue("server"));
    conf.tls.ca_cert_file = ca.file();
    let server = https(conf).await;
    let url = format!("https://127.0.0.1:{}/hello", server.addr.port());

    let anonymous = Client::with_tls(T, &trusting(&ca)).expect("client");
    anonymous
        .get(&url)
        .await
        .expect_err("no client certificate");

    let (cert, key) = other.issue("stranger");
    let stranger = Client::with_tls(
        T,
        &ClientTlsConf {
            ca_cert_file: ca.file(),
            cert_file: cert,
            key_file: key,
        },
    )
    .expect("client");
    stranger
        .get(&url)
        .await
        .expect_err("a client certificate from another CA");

    let (cert, key) = ca.issue("member");
    let member = Client::with_tls(
        T,
        &ClientTlsConf {
            ca_cert_file: ca.file(),
            cert_file: cert,
            key_file: key,
        },
    )
    .expect("client");
    let resp = member.get(&url).await.expect("served");
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_the_tls_port_is_answered_400() {
    let dir = tempfile::tempdir().expect("dir");
    let ca = Ca::new(dir.path(), "good");
    let server = https(tls_conf(&ca.issue("server"))).await;
    let answer = common::send(server.addr, "GET", "/hello", "", "").await;
    assert_eq!(answer.status, 400, "{answer:?}");
    let msg = answer.json()["msg"].as_str().expect("msg").to_owned();
    assert!(msg.contains("https://"), "{msg}");
}

/// Reads until the server closes the socket (EOF or a reset); false if it stays open
/// past the generous outer limit.
async fn closed_by_server(mut tcp: tokio::net::TcpStream) -> bool {
    let mut buf = [0u8; 64];
    let wait = async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_handshake_is_dropped_at_the_deadline() {
    let dir = tempfile::tempdir().expect("dir");
    let ca = Ca::new(dir.path(), "good");
    let mut conf = tls_conf(&ca.issue("server"));
    conf.read_header_timeout = Duration::from_millis(500);
    let server = https(conf).await;

    // Silent after connecting.
    let silent = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    // The start of a ClientHello record, then nothing.
    let mut partial = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    partial
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .await
        .expect("write");
    assert!(closed_by_server(silent).await, "a silent socket is closed");
    assert!(
        closed_by_server(partial).await,
        "a stalled handshake is closed"
    );

    // The server still serves.
    let client = Client::with_tls(T, &trusting(&ca)).expect("client");
    let url = format!("https://127.0.0.1:{}/hello", server.addr.port());
    assert_eq!(
        client.get(&url).await.expect("served").status(),
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_conns_counts_sockets_still_in_their_handshake() {
    let dir = tempfile::tempdir().expect("dir");
    let ca = Ca::new(dir.path(), "good");
    let mut conf = tls_conf(&ca.issue("server"));
    conf.max_conns = 1;
    let server = https(conf).await;
    let url = format!("https://127.0.0.1:{}/hello", server.addr.port());

    // Holds the only permit while it says nothing (the handshake deadline is 10 s).
    let holder = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    tokio::task::yield_now().await;
    let client = Client::with_tls(T, &trusting(&ca)).expect("client");
    // The server may not have accepted `holder` yet; once it has, every new socket is
    // closed unanswered until `holder` goes.
    let refused = async {
        loop {
            if let Err(e) = client.get(&url).await {
                return e;
            }
        }
    };
    let err = tokio::time::timeout(Duration::from_secs(60), refused)
        .await
        .expect("a second socket is refused while the first holds the permit");
    assert!(!matches!(err, HttpcError::BreakerOpen { .. }), "{err:?}");
    drop(holder);
    let served = async {
        loop {
            // A fresh client: the first one's breaker remembers the refusals.
            let client = Client::with_tls(T, &trusting(&ca)).expect("client");
            if let Ok(resp) = client.get(&url).await {
                return resp.status();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let status = tokio::time::timeout(Duration::from_secs(60), served)
        .await
        .expect("served once the permit is free");
    assert_eq!(status, StatusCode::OK);
}

#[derive(serde::Deserialize, serde::Serialize)]
struct Echo {
    a: u64,
}

impl rzero_rest::Parse for Echo {}

/// A TLS connection to `addr` that trusts `ca`, offering HTTP/1.1 only.
async fn tls_socket(
    addr: SocketAddr,
    ca: &Ca,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(&ca.file).expect("CA");
    for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(&pem) {
        roots.add(cert.expect("PEM")).expect("add");
    }
    let mut config = rustls::ClientConfig::builder_with_provider(
        rzero_telemetry::tls::install_crypto_provider(),
    )
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("name");
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("handshake")
}

/// Reads what the server sends until it closes; `None` if it stays open past a
/// generous limit.
async fn read_until_closed<S: tokio::io::AsyncRead + Unpin>(mut s: S) -> Option<String> {
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    let wait = async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .ok()?;
    Some(String::from_utf8_lossy(&out).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_timeouts_hold_over_tls() {
    let dir = tempfile::tempdir().expect("dir");
    let ca = Ca::new(dir.path(), "good");
    let route = || Route::post("/echo", |body: String| async move { body });

    // IdleTimeout: a TLS connection that sends no request is closed.
    let mut conf = tls_conf(&ca.issue("server"));
    conf.idle_timeout = Duration::from_millis(300);
    let (addr, _stop, _task) = start(Server::new(conf).route(route())).await;
    let idle = tls_socket(addr, &ca).await;
    assert_eq!(
        read_until_closed(idle).await.as_deref(),
        Some(""),
        "idle: closed"
    );

    // ReadHeaderTimeout: a head begun and never finished is closed, though IdleTimeout
    // is long.
    let mut conf = tls_conf(&ca.issue("server"));
    conf.read_header_timeout = Duration::from_secs(2);
    let (addr, _stop, _task) = start(Server::new(conf).route(route())).await;
    let mut dribble = tls_socket(addr, &ca).await;
    dribble
        .write_all(b"POST /echo HTTP/1.1\r\nhost: x\r\n")
        .await
        .expect("write");
    dribble.flush().await.expect("flush");
    assert!(read_until_closed(dribble).await.is_some(), "head: closed");

    // ReadTimeout: a body that stops arriving is a 408.
    let mut conf = tls_conf(&ca.issue("server"));
    conf.read_timeout = Duration::from_millis(300);
    conf.read_header_timeout = Duration::from_secs(5);
    conf.idle_timeout = Duration::from_secs(1);
    let server = Server::new(conf).route(Route::post(
        "/echo",
        |rzero_rest::Parsed(v): rzero_rest::Parsed<Echo>| async move { rzero_rest::Json(v) },
    ));
    let (addr, _stop, _task) = start(server).await;
    let mut slow = tls_socket(addr, &ca).await;
    slow.write_all(
        b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
          content-length: 100\r\n\r\n{\"a\":",
    )
    .await
    .expect("write");
    slow.flush().await.expect("flush");
    let answer = read_until_closed(slow).await.expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn bad_files_fail_the_start_naming_the_key() {
    let dir = tempfile::tempdir().expect("dir");
    let ca = Ca::new(dir.path(), "good");
    let (cert, key) = ca.issue("server");
    let (_, other_key) = ca.issue("other");
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello").expect("write");

    let cases = [
        (
            cert.clone(),
            "/nonexistent/key.pem".to_owned(),
            "KeyFile `/nonexistent/key.pem`",
        ),
        (
            "/nonexistent/c.pem".to_owned(),
            key.clone(),
            "CertFile `/nonexistent/c.pem`",
        ),
        (cert.clone(), path(&not_pem), "KeyFile"),
        (path(&not_pem), key.clone(), "CertFile"),
        (cert.clone(), other_key, "does not fit"),
        (key.clone(), cert.clone(), "CertFile"),
        (
            cert.clone(),
            String::new(),
            "CertFile and KeyFile go together",
        ),
    ];
    for (cert_file, key_file, expected) in cases {
        let mut conf = test_conf();
        conf.tls.cert_file = cert_file.clone();
        conf.tls.key_file = key_file.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let err = Server::new(conf)
            .serve_on(listener, async {})
            .await
            .expect_err("refused at start");
        let msg = err.to_string();
        assert!(msg.contains(expected), "{cert_file} {key_file}: {msg}");
    }
    let mut conf = tls_conf(&(cert, key));
    conf.tls.ca_cert_file = path(&not_pem);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let err = Server::new(conf)
        .serve_on(listener, async {})
        .await
        .expect_err("refused at start");
    assert!(err.to_string().contains("CACertFile"), "{err}");
}

#[test]
fn the_keys_are_go_zeros() {
    #[derive(serde::Deserialize, serde::Serialize)]
    struct Config {
        #[serde(flatten)]
        rest: RestConf,
    }
    let c: Config = rzero_conf::Loader::new()
        .load_str(
            "a.yaml",
            "Name: a\nCertFile: /etc/tls/cert.pem\nKeyFile: /etc/tls/key.pem\n\
             CACertFile: /etc/tls/ca.pem\nMiddlewares:\n  Gunzip: false\n\
             Compress:\n  Enabled: true\n  MinBytes: 256\n",
        )
        .expect("loads");
    assert_eq!(c.rest.tls.cert_file, "/etc/tls/cert.pem");
    assert_eq!(c.rest.tls.key_file, "/etc/tls/key.pem");
    assert_eq!(c.rest.tls.ca_cert_file, "/etc/tls/ca.pem");
    assert!(!c.rest.middlewares.gunzip);
    assert!(c.rest.compress.enabled);
    assert_eq!(c.rest.compress.min_bytes, 256);
}
