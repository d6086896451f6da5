//! OTLP over TLS and mTLS against a real receiver: rzero's collector behind a TLS
//! terminator started in the test (tokio-rustls, as an ingress would be), with
//! certificates made on the spot. Spans reach it over OTLP/gRPC with a client
//! certificate (file keys) and over OTLP/HTTP (the `OTEL_EXPORTER_OTLP_*` variables);
//! a collector whose certificate another CA signed gets nothing; TLS files with a
//! plaintext endpoint, or half a client certificate, fail the start.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use opentelemetry::trace::{Span as _, Tracer as _};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rzero_collector::{Collector, CollectorConfig, RunningCollector};
use rzero_telemetry::{Protocol, Telemetry, TelemetryConf};
use tokio::net::TcpListener;

const WAIT: Duration = Duration::from_secs(20);

/// A CA and the files of one certificate it issued.
struct Pki {
    ca_file: String,
    cert_file: String,
    key_file: String,
}

fn pki(dir: &Path, name: &str) -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().expect("key");
    let ca_cert = ca.self_signed(&ca_key).expect("ca");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("params");
    let key = KeyPair::generate().expect("key");
    let cert = leaf.signed_by(&key, &ca_cert, &ca_key).expect("cert");
    let write = |file: &str, pem: String| {
        let path = dir.join(format!("{name}-{file}"));
        std::fs::write(&path, pem).expect("write");
        path.to_string_lossy().into_owned()
    };
    Pki {
        ca_file: write("ca.pem", ca_cert.pem()),
        cert_file: write("cert.pem", cert.pem()),
        key_file: write("key.pem", key.serialize_pem()),
    }
}

/// A TLS terminator on loopback in front of `backend`; with `client_ca`, clients must
/// present a certificate that CA signed. Counts failed handshakes.
async fn terminator(
    server: &Pki,
    client_ca: Option<&str>,
    backend: SocketAddr,
) -> (SocketAddr, Arc<AtomicUsize>) {
    let provider = rzero_telemetry::tls::install_crypto_provider();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&server.cert_file)
        .expect("cert")
        .map(|c| c.expect("cert"))
        .collect();
    let key = PrivateKeyDer::from_pem_file(&server.key_file).expect("key");
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("versions");
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_file_iter(ca).expect("ca") {
                roots.add(c.expect("ca")).expect("add");
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .expect("verifier");
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(certs, key).expect("server config");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let failed = Arc::new(AtomicUsize::new(0));
    let count = failed.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, count) = (acceptor.clone(), count.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    count.fetch_add(1, Ordering::SeqCst);
                    return;
                };
                if let Ok(mut up) = tokio::net::TcpStream::connect(backend).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                }
            });
        }
    });
    (addr, failed)
}

async fn collector() -> RunningCollector {
    Collector::start(CollectorConfig {
        otlp_grpc: Some("127.0.0.1:0".parse().expect("addr")),
        otlp_http: Some("127.0.0.1:0".parse().expect("addr")),
        ui: None,
        ..CollectorConfig::default()
    })
    .await
    .expect("collector")
}

fn conf(endpoint: String, protocol: Protocol) -> TelemetryConf {
    TelemetryConf {
        endpoint,
        protocol: Some(protocol),
        ..TelemetryConf::default()
    }
}

/// Starts telemetry, records one span named `name`, flushes.
async fn export_one(conf: &TelemetryConf, env: Vec<(String, String)>, name: &'static str) {
    let guard = Telemetry::new("tls-test", "0.0.0")
        .conf(conf)
        .env(env)
        .without_subscriber()
        .init()
        .expect("init");
    guard.tracer().start(name).end();
    // A refused handshake makes the flush fail; the test checks what arrived.
    let _ = guard.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_export_over_mtls_with_file_keys() {
    let dir = tempfile::tempdir().expect("dir");
    let (server, client) = (pki(dir.path(), "server"), pki(dir.path(), "client"));
    let collector = collector().await;
    let backend = collector.grpc_addr().expect("grpc");
    let (addr, failed) = terminator(&server, Some(&client.ca_file), backend).await;

    let conf = TelemetryConf {
        otlp_ca_cert_file: server.ca_file.clone(),
        otlp_cert_file: client.cert_file.clone(),
        otlp_key_file: client.key_file.clone(),
        ..conf(format!("https://{addr}"), Protocol::Grpc)
    };
    export_one(&conf, vec![], "over-grpc-mtls").await;
    assert!(
        collector.store().wait_for_spans(1, WAIT).await,
        "the span arrives"
    );
    assert_eq!(failed.load(Ordering::SeqCst), 0);

    // Without the client certificate the terminator refuses the handshake.
    let no_cert = TelemetryConf {
        otlp_cert_file: String::new(),
        otlp_key_file: String::new(),
        ..conf.clone()
    };
    export_one(&no_cert, vec![], "refused").await;
    let deadline = std::time::Instant::now() + WAIT;
    while failed.load(Ordering::SeqCst) == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        failed.load(Ordering::SeqCst) > 0,
        "the handshake was refused"
    );
    assert_eq!(
        collector.store().span_count(),
        1,
        "nothing got through without a certificate"
    );
    collector.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_export_over_mtls_with_the_otel_variables() {
    let dir = tempfile::tempdir().expect("dir");
    let (server, client) = (pki(dir.path(), "server"), pki(dir.path(), "client"));
    let collector = collector().await;
    let backend = collector.http_addr().expect("http");
    let (addr, failed) = terminator(&server, Some(&client.ca_file), backend).await;

    let env = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    let vars = vec![
        env("OTEL_EXPORTER_OTLP_ENDPOINT", &format!("https://{addr}")),
        env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        env("OTEL_EXPORTER_OTLP_CERTIFICATE", &server.ca_file),
        // The per-signal variables win over the generic ones.
        env("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/nonexistent.pem"),
        env(
            "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
            &client.cert_file,
        ),
        env(
            "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE",
            &client.cert_file,
        ),
        env(
            "OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE",
            &client.cert_file,
        ),
        env("OTEL_EXPORTER_OTLP_CLIENT_KEY", &client.key_file),
    ];
    export_one(&TelemetryConf::default(), vars, "over-http-mtls").await;
    assert!(
        collector.store().wait_for_spans(1, WAIT).await,
        "the span arrives"
    );
    assert_eq!(failed.load(Ordering::SeqCst), 0);
    collector.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_certificate_from_another_ca_gets_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let (server, other) = (pki(dir.path(), "server"), pki(dir.path(), "other"));
    let collector = collector().await;
    let (addr, failed) = terminator(&server, None, collector.http_addr().expect("http")).await;
    let conf = TelemetryConf {
        otlp_ca_cert_file: other.ca_file.clone(),
        ..conf(format!("https://{addr}"), Protocol::HttpProtobuf)
    };
    export_one(&conf, vec![], "unverified").await;
    let deadline = std::time::Instant::now() + WAIT;
    while failed.load(Ordering::SeqCst) == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        failed.load(Ordering::SeqCst) > 0,
        "the client gave up on the handshake"
    );
    assert_eq!(collector.store().span_count(), 0);
    collector.shutdown().await;
}

#[tokio::test]
async fn tls_settings_that_cannot_work_fail_the_start() {
    let dir = tempfile::tempdir().expect("dir");
    let p = pki(dir.path(), "p");
    let start = |conf: TelemetryConf| {
        Telemetry::new("bad", "0")
            .conf(&conf)
            .env(Vec::<(String, String)>::new())
            .without_subscriber()
            .init()
            .map(|_| ())
            .expect_err("refused")
            .to_string()
    };
    // TLS files with a plaintext endpoint would send in the clear.
    let err = start(TelemetryConf {
        otlp_ca_cert_file: p.ca_file.clone(),
        ..conf("http://127.0.0.1:4317".into(), Protocol::Grpc)
    });
    assert!(
        err.contains("OtlpCACertFile") && err.contains("not https"),
        "{err}"
    );
    // Half a client certificate.
    let err = start(TelemetryConf {
        otlp_cert_file: p.cert_file.clone(),
        ..conf("https://127.0.0.1:4318".into(), Protocol::HttpProtobuf)
    });
    assert!(err.contains("needs both"), "{err}");
    // A CA file that is not one.
    let err = start(TelemetryConf {
        otlp_ca_cert_file: p.key_file.clone(),
        ..conf("https://127.0.0.1:4317".into(), Protocol::Grpc)
    });
    assert!(err.contains("OtlpCACertFile"), "{err}");
}
