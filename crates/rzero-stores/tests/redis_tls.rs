//! Redis over TLS against a real redis-server started with TLS on a free port, with a CA
//! and server certificate made for the test: verified with the CA it is given, refused
//! without it.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rzero_conf::RedisConf;
use rzero_stores::redis::RedisStore;

struct TlsRedis {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> TlsRedis {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca_key = KeyPair::generate().expect("ca key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).expect("ca cert");
    let key = KeyPair::generate().expect("server key");
    let params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("params");
    let cert = params
        .signed_by(&key, &ca_cert, &ca_key)
        .expect("server cert");
    let write =
        |name: &str, pem: String| std::fs::write(dir.path().join(name), pem).expect("write");
    write("ca.pem", ca_cert.pem());
    write("server.pem", cert.pem());
    write("server.key", key.serialize_pem());

    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let path = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    let child = Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--tls-cert-file",
            &path("server.pem"),
            "--tls-key-file",
            &path("server.key"),
            "--tls-ca-cert-file",
            &path("ca.pem"),
            "--tls-auth-clients",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server on PATH (the test command ensures Redis is installed)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "TLS redis-server did not listen in 10 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    TlsRedis { child, port, dir }
}

fn conf(redis: &TlsRedis, ca: bool) -> RedisConf {
    RedisConf {
        host: format!("127.0.0.1:{}", redis.port),
        tls: true,
        tls_ca_file: if ca {
            redis
                .dir
                .path()
                .join("ca.pem")
                .to_string_lossy()
                .into_owned()
        } else {
            String::new()
        },
        non_block: false,
        ..RedisConf::default()
    }
}

#[tokio::test]
async fn tls_with_the_servers_ca_works_and_without_it_is_refused() {
    let redis = tokio::task::spawn_blocking(start).await.expect("start");
    let store = tokio::time::timeout(
        Duration::from_secs(10),
        RedisStore::connect(&conf(&redis, true)),
    )
    .await
    .expect("within the guard")
    .expect("connects over TLS");
    store
        .set_ex("rzero:tls:k", "v", Duration::from_secs(30))
        .await
        .expect("set over TLS");
    assert_eq!(
        store.get("rzero:tls:k").await.expect("get").as_deref(),
        Some("v")
    );

    // The system's trust store does not know the test CA: the handshake fails, and the
    // start (NonBlock: false) says so instead of hanging.
    let refused = tokio::time::timeout(
        Duration::from_secs(10),
        RedisStore::connect(&conf(&redis, false)),
    )
    .await
    .expect("within the guard");
    assert!(refused.is_err(), "an unverifiable server is refused");
}
