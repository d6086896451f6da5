//! The etcd client's inner workings against a real etcd: deadlines on a half-open
//! connection, token refresh, a revoked lease, the watchdog. The public API's tests
//! are in `tests/etcd/`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rzero_conf::EtcdConf;

use super::pb::{PutRequest, RangeRequest};
use super::*;
use crate::testing::{Etcd, Proxy};

async fn etcd(builder: crate::testing::EtcdBuilder) -> Etcd {
    tokio::task::spawn_blocking(move || builder.start())
        .await
        .expect("etcd")
}

/// Deadlines short enough for a test; no HTTP/2 pings unless asked.
fn quick() -> Settings {
    Settings {
        dial_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_millis(500),
        keepalive: None,
        watch_idle: Duration::from_millis(300),
    }
}

async fn within<T>(secs: u64, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .expect("no hang")
}

async fn put(client: &Client, key: &str, value: &str) {
    client
        .put(PutRequest {
            key: key.into(),
            value: value.into(),
            lease: 0,
        })
        .await
        .expect("put");
}

fn range(key: &str) -> RangeRequest {
    RangeRequest {
        key: key.into(),
        ..RangeRequest::default()
    }
}

#[test]
fn prefix_ranges_end_after_the_prefix() {
    assert_eq!(prefix_end(b"user.rpc/"), b"user.rpc0".to_vec());
    assert_eq!(prefix_end(&[b'a', 0xff]), b"b".to_vec());
    assert_eq!(prefix_end(&[0xff]), vec![0]);
}

#[test]
fn bad_hosts_and_tls_files_are_refused_at_start() {
    let dir = tempfile::tempdir().expect("dir");
    let file = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p.to_str().expect("utf-8").to_owned()
    };
    let conf = |f: &dyn Fn(&mut EtcdConf)| {
        let mut c = EtcdConf {
            hosts: vec!["127.0.0.1:2379".into()],
            key: "k".into(),
            ..EtcdConf::default()
        };
        f(&mut c);
        check(&c)
            .map(|()| String::new())
            .unwrap_or_else(|e| e.to_string())
    };
    let missing = conf(&|c| c.ca_cert_file = "/nonexistent/ca.pem".into());
    assert!(
        missing.starts_with("Etcd.CACertFile `/nonexistent/ca.pem`: cannot open"),
        "{missing}"
    );
    let empty = file("empty.pem", "");
    let e = conf(&|c| c.ca_cert_file = empty.clone());
    assert!(
        e.contains("Etcd.CACertFile") && e.contains("no PEM block"),
        "{e}"
    );
    let garbage = file(
        "garbage.pem",
        "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
    );
    let e = conf(&|c| c.ca_cert_file = garbage.clone());
    assert!(
        e.contains("TLS to `127.0.0.1:2379` cannot be set up"),
        "{e}"
    );
    let e = conf(&|c| {
        c.cert_file = garbage.clone();
        c.cert_key_file = empty.clone();
        c.insecure_skip_verify = true;
    });
    assert!(e.contains("Etcd.CertKeyFile"), "{e}");
    let e = conf(&|c| {
        c.hosts = vec!["http://127.0.0.1:2379".into()];
        c.insecure_skip_verify = true;
    });
    assert!(e.contains("says http:// but TLS is configured"), "{e}");
    let e = conf(&|c| c.hosts = vec!["unix:///tmp/etcd.sock".into()]);
    assert!(e.contains("unknown scheme `unix`"), "{e}");
    let e = conf(&|c| c.hosts = vec!["bad host:2379".into()]);
    assert!(
        e.starts_with("Etcd.Hosts: `bad host:2379` is not a valid address"),
        "{e}"
    );
    let huge = file("huge.pem", &"A".repeat(2 << 20));
    let e = conf(&|c| c.ca_cert_file = huge.clone());
    assert!(e.contains("larger than"), "{e}");
    assert_eq!(conf(&|c| c.insecure_skip_verify = true), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_through_a_half_open_connection_fail_within_their_deadline() {
    let etcd = etcd(Etcd::builder()).await;
    let proxy = Proxy::start(&etcd.endpoint).await;
    let conf = EtcdConf {
        hosts: vec![proxy.endpoint()],
        ..etcd.conf("k")
    };
    let client = Client::with_settings(&conf, quick()).expect("client");
    within(10, client.range(range("k")))
        .await
        .expect("through the proxy");

    proxy.pause();
    let e = within(10, client.range(range("k")))
        .await
        .expect_err("paused");
    assert!(matches!(e, EtcdError::Timeout { what: "range", .. }), "{e}");
    // The timed-out channel was dropped; new connections wait on the pause too.
    let e = within(10, client.range(range("k")))
        .await
        .expect_err("still paused");
    assert!(matches!(e, EtcdError::Timeout { .. }), "{e}");

    proxy.resume();
    within(10, client.range(range("k")))
        .await
        .expect("etcd reachable again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_auth_token_is_fetched_again() {
    let etcd = etcd(Etcd::builder().auth("rzero", "s3cret").auth_token_ttl(1)).await;
    let conf = etcd.conf("k");
    let client = Client::with_settings(&conf, quick()).expect("client");
    put(&client, "k", "v").await;
    assert_eq!(client.authentications(), 1);
    within(10, client.range(range("k")))
        .await
        .expect("same token");
    assert_eq!(client.authentications(), 1);

    // Unused for longer than `--auth-token-ttl`: etcd forgets the token.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let got = within(10, client.range(range("k")))
        .await
        .expect("a new token");
    assert_eq!(got.kvs.len(), 1);
    assert_eq!(
        client.authentications(),
        2,
        "one refresh, then the call again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_lease_is_registered_again() {
    let etcd = etcd(Etcd::builder()).await;
    let conf = EtcdConf {
        lease_ttl: Duration::from_secs(3),
        ..etcd.conf("svc")
    };
    let client = Client::with_settings(&conf, quick()).expect("client");
    let registration = Registration::start_with(client.clone(), &conf, "10.0.0.1:1".into())
        .await
        .expect("registered");
    let first = registration.key();
    let lease: i64 = first
        .rsplit('/')
        .next()
        .and_then(|id| id.parse().ok())
        .expect("lease id");

    // Revoked behind the keeper's back: the next keep-alive is answered with TTL 0.
    client.lease_revoke(lease).await.expect("revoke");
    within(20, async {
        loop {
            let now = registration.key();
            if now != first {
                let got = client.range(range(&now)).await.expect("range");
                if got.kvs.len() == 1 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let gone = client.range(range(&first)).await.expect("range");
    assert!(gone.kvs.is_empty(), "the revoked key went with its lease");
    registration.deregister().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_watch_answers_the_watchdog() {
    let etcd = etcd(Etcd::builder()).await;
    let conf = etcd.conf("quiet");
    let client = Client::with_settings(&conf, quick()).expect("client");
    let stats = WatchStats::default();
    let watch = watch_from(&client, b"quiet/", b"quiet0", 0, &stats, |_, _| {});
    // Nothing changes: every 300 ms the watchdog asks, and etcd answers.
    let ended = tokio::time::timeout(Duration::from_secs(3), watch).await;
    assert!(ended.is_err(), "the watch ended: {:?}", ended.err());
    let probes = stats.probes.load(Ordering::Relaxed);
    assert!(probes >= 3, "{probes} probes");
    assert_eq!(
        stats.progress.load(Ordering::Relaxed),
        probes,
        "each probe answered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcds_progress_notifications_keep_the_watchdog_quiet() {
    let builder = Etcd::builder().progress_notify_interval(Duration::from_millis(200));
    let etcd = etcd(builder).await;
    let conf = etcd.conf("quiet");
    let settings = Settings {
        watch_idle: Duration::from_secs(2),
        ..quick()
    };
    let client = Client::with_settings(&conf, settings).expect("client");
    let stats = WatchStats::default();
    let watch = watch_from(&client, b"quiet/", b"quiet0", 0, &stats, |_, _| {});
    let ended = tokio::time::timeout(Duration::from_secs(3), watch).await;
    assert!(ended.is_err(), "the watch ended: {:?}", ended.err());
    assert_eq!(
        stats.probes.load(Ordering::Relaxed),
        0,
        "etcd spoke first every time"
    );
    assert!(
        stats.progress.load(Ordering::Relaxed) >= 3,
        "progress_notify is on"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_watch_is_restarted() {
    let etcd = etcd(Etcd::builder()).await;
    let direct = Client::new(&etcd.conf("svc")).expect("client");
    let proxy = Proxy::start(&etcd.endpoint).await;
    let conf = EtcdConf {
        hosts: vec![proxy.endpoint()],
        ..etcd.conf("svc")
    };
    // No HTTP/2 pings: only the watchdog can find the watch dead.
    let client = Client::with_settings(&conf, quick()).expect("client");
    let stats = Arc::new(WatchStats::default());
    let endpoints = resolve::follow(client, "svc".into(), stats.clone());
    put(&direct, "svc/1", "10.0.0.1:1").await;
    let wait = |want: Vec<&'static str>| {
        let mut endpoints = endpoints.clone();
        async move {
            within(20, endpoints.wait_for(|now| *now == want))
                .await
                .expect("resolver");
        }
    };
    wait(vec!["10.0.0.1:1"]).await;
    // The watch is created (else the deadline on opening it, not the watchdog, acts).
    within(10, async {
        while stats.responses.load(Ordering::Relaxed) == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;

    // The connection goes silent for good, without closing; new ones work.
    proxy.freeze_existing();
    put(&direct, "svc/2", "10.0.0.2:1").await;
    wait(vec!["10.0.0.1:1", "10.0.0.2:1"]).await;
    assert!(stats.probes.load(Ordering::Relaxed) >= 1);
    assert!(proxy.accepted() >= 2, "a new connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_pings_end_a_watch_on_a_dead_connection() {
    let etcd = etcd(Etcd::builder()).await;
    let proxy = Proxy::start(&etcd.endpoint).await;
    let conf = EtcdConf {
        hosts: vec![proxy.endpoint()],
        ..etcd.conf("svc")
    };
    // Pings as in production; the watchdog out of the way.
    let settings = Settings {
        watch_idle: Duration::from_secs(600),
        ..Settings::from_conf(&conf)
    };
    let client = Client::with_settings(&conf, settings).expect("client");
    let stats = WatchStats::default();
    let watch = watch_from(&client, b"svc/", b"svc0", 0, &stats, |_, _| {});
    tokio::pin!(watch);
    // Created and quiet.
    assert!(
        tokio::time::timeout(Duration::from_secs(1), &mut watch)
            .await
            .is_err()
    );
    assert!(stats.responses.load(Ordering::Relaxed) >= 1, "created");
    proxy.freeze_existing();
    let e = within(30, watch).await;
    assert!(matches!(e, EtcdError::Call { .. }), "{e}");
    assert_eq!(
        stats.probes.load(Ordering::Relaxed),
        0,
        "the pings found it, not the watchdog"
    );
}
