//! What HTTPS and gzip cost the gateway, side by side in one run.
//!
//! - `https/*`: a GET on loopback, to rzero's `Server` over TLS (every middleware off,
//!   so the rows compare the TLS and connection plumbing) and to plain tokio-rustls +
//!   hyper-util serving the same answer with the same certificate, plus rzero over plain
//!   HTTP for the cost of TLS itself. `connect+get` is a new connection each time (TCP,
//!   TLS 1.3 handshake with an ECDSA P-256 certificate, HTTP/1.1 set-up, one request);
//!   `get` is one request on an open connection.
//! - `gunzip/*`: a JSON body of about 16 KiB POSTed through the router rzero builds (default
//!   middleware, in process, no sockets), sent as it is and gzip-encoded: what decoding
//!   adds to a request.
//!
//! `cargo bench -p rzero-rest --bench tls`; read rows as ratios of their neighbours.

use std::hint::black_box;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, Response, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rzero_rest::{MiddlewaresConf, RestConf, Route, Server};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tower::ServiceExt;

const HELLO: &str = "{\"message\":\"hello\"}";

/// PEM files of a CA and a server certificate for 127.0.0.1 it signed.
struct Certs {
    _dir: tempfile::TempDir,
    ca: String,
    cert: String,
    key: String,
}

fn certs() -> Certs {
    let dir = tempfile::tempdir().expect("dir");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().expect("key");
    let ca = ca_params.self_signed(&ca_key).expect("CA");
    let params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).expect("params");
    let key = KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, &ca, &ca_key).expect("cert");
    let write = |name: &str, pem: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, pem).expect("write");
        p.to_string_lossy().into_owned()
    };
    Certs {
        ca: write("ca.pem", ca.pem()),
        cert: write("cert.pem", cert.pem()),
        key: write("key.pem", key.serialize_pem()),
        _dir: dir,
    }
}

fn rzero_conf(tls: Option<&Certs>) -> RestConf {
    let mut conf = RestConf {
        host: "127.0.0.1".into(),
        port: 0,
        middlewares: MiddlewaresConf::none(),
        cpu_threshold: 0,
        ..Default::default()
    };
    if let Some(c) = tls {
        conf.tls.cert_file = c.cert.clone();
        conf.tls.key_file = c.key.clone();
    }
    conf
}

async fn rzero(tls: Option<&Certs>) -> SocketAddr {
    let server = Server::new(rzero_conf(tls))
        .route(Route::get("/hello", || async { HELLO }))
        .bind()
        .await
        .expect("bind");
    let addr = server.local_addr();
    tokio::spawn(server.serve(std::future::pending()));
    addr
}

/// tokio-rustls + hyper-util's auto server, the same rustls config rzero builds.
async fn plain_rustls_hyper(certs: &Certs) -> SocketAddr {
    let config = rzero_conf(Some(certs))
        .tls
        .server_config()
        .expect("config")
        .expect("tls");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = hyper::service::service_fn(|_req| async {
                    Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(HELLO))))
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    addr
}

/// A client connection: TCP (+ TLS when `tls`), HTTP/1.1.
async fn connect(addr: SocketAddr, tls: Option<&TlsConnector>) -> SendRequest<Full<Bytes>> {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    match tls {
        Some(tls) => {
            let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("name");
            let stream = tls.connect(name, tcp).await.expect("handshake");
            let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .expect("http1");
            tokio::spawn(conn);
            send
        }
        None => {
            let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
                .await
                .expect("http1");
            tokio::spawn(conn);
            send
        }
    }
}

async fn get(send: &mut SendRequest<Full<Bytes>>, addr: SocketAddr) {
    let req = Request::get("/hello")
        .header(header::HOST, addr.to_string())
        .body(Full::new(Bytes::new()))
        .expect("request");
    send.ready().await.expect("connection ready");
    let resp = send.send_request(req).await.expect("answer");
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(body.as_ref(), HELLO.as_bytes());
}

fn client_tls(certs: &Certs) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(&certs.ca).expect("CA");
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
    TlsConnector::from(Arc::new(config))
}

fn https(c: &mut Criterion, rt: &Runtime) {
    let certs = certs();
    let tls = client_tls(&certs);
    let (rzero_tls, plain, rzero_http) = rt.block_on(async {
        (
            rzero(Some(&certs)).await,
            plain_rustls_hyper(&certs).await,
            rzero(None).await,
        )
    });
    let mut group = c.benchmark_group("https");
    let targets = [
        ("rzero-https", rzero_tls, Some(&tls)),
        ("rustls+hyper", plain, Some(&tls)),
        ("rzero-http", rzero_http, None),
    ];
    for (name, addr, tls) in targets {
        group.bench_function(format!("connect+get/{name}"), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let mut send = connect(addr, tls).await;
                    get(&mut send, addr).await;
                })
            })
        });
    }
    for (name, addr, tls) in targets {
        let mut send = rt.block_on(connect(addr, tls));
        group.bench_function(format!("get/{name}"), |b| {
            b.iter(|| rt.block_on(get(&mut send, addr)))
        });
    }
    group.finish();
}

fn gunzip(c: &mut Criterion, rt: &Runtime) {
    let conf = RestConf {
        cpu_threshold: 0,
        ..Default::default()
    };
    let router = Server::new(conf)
        .route(Route::post("/len", |b: Bytes| async move {
            b.len().to_string()
        }))
        .into_router()
        .expect("router");
    let items: Vec<_> = (0..640)
        .map(|i| serde_json::json!({"id": i, "sku": format!("sku-{i:05}")}))
        .collect();
    let json =
        Bytes::from(serde_json::to_vec(&serde_json::json!({ "items": items })).expect("JSON"));
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&json).expect("gzip");
    let gz = Bytes::from(enc.finish().expect("gzip"));
    let post = |body: Bytes, gzip: bool| {
        let mut req = Request::post("/len").header(header::CONTENT_LENGTH, body.len());
        if gzip {
            req = req.header(header::CONTENT_ENCODING, "gzip");
        }
        req.body(Body::from(body)).expect("request")
    };
    let expected = json.len().to_string();
    let mut group = c.benchmark_group("gunzip");
    let rows = [
        (format!("identity-{}B", json.len()), json.clone(), false),
        (format!("gzip-{}B-of-{}B", gz.len(), json.len()), gz, true),
    ];
    for (name, body, gzip) in rows {
        group.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let resp = router
                        .clone()
                        .oneshot(post(body.clone(), gzip))
                        .await
                        .expect("ok");
                    let text = resp.into_body().collect().await.expect("body").to_bytes();
                    assert_eq!(text.as_ref(), expected.as_bytes());
                    black_box(text);
                })
            })
        });
    }
    group.finish();
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    https(c, &rt);
    gunzip(c, &rt);
}

criterion_group!(benches, bench);
criterion_main!(benches);
