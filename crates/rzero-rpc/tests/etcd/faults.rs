//! A half-open connection between a server and etcd: calls fail within their deadline,
//! the lease is found lost, and the registration comes back once etcd is reachable.

use std::time::{Duration, Instant};

use rzero_conf::EtcdConf;
use rzero_rpc::discovery::Discovery;
use rzero_rpc::discovery::etcd::{EtcdError, Registration};
use rzero_rpc::testing::{Etcd, Proxy};

use crate::common::within;
use crate::{start, wait_list};

const TTL: Duration = Duration::from_secs(4);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_behind_a_half_open_connection_comes_back() {
    let etcd = start(Etcd::builder()).await;
    let proxy = Proxy::start(&etcd.endpoint).await;
    let through_proxy = EtcdConf {
        hosts: vec![proxy.endpoint()],
        dial_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_millis(500),
        lease_ttl: TTL,
        ..etcd.conf("echo.rpc")
    };
    let registration = within(10, Registration::start(&through_proxy, "10.0.0.1:1".into()))
        .await
        .expect("registered");
    let first = registration.key();
    // What clients see, straight from etcd.
    let mut seen = Discovery::Etcd(etcd.conf("echo.rpc")).watch();
    wait_list(&mut seen, &["10.0.0.1:1"]).await;

    // The path to etcd goes silent without closing.
    proxy.pause();
    let e = within(10, Registration::start(&through_proxy, "10.0.0.2:1".into()))
        .await
        .expect_err("etcd unreachable");
    assert!(matches!(e, EtcdError::Timeout { .. }), "{e}");
    assert!(e.to_string().contains("Etcd.RequestTimeout"), "{e}");
    // No keep-alive gets through: etcd drops the key when the lease runs out.
    wait_list(&mut seen, &[]).await;

    // Reachable again: the keeper, which found the lease lost, registers again.
    proxy.resume();
    let back = Instant::now();
    wait_list(&mut seen, &["10.0.0.1:1"]).await;
    let took = back.elapsed();
    eprintln!("registered again {took:?} after etcd was reachable (lease TTL {TTL:?})");
    assert!(
        took < TTL,
        "back {took:?} after etcd was reachable; the TTL is {TTL:?}"
    );
    // The keeper records the new key just after etcd has it.
    within(10, async {
        while registration.key() == first {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;

    // Leaving while etcd is unreachable is bounded too; the lease then expires.
    proxy.pause();
    within(10, registration.deregister()).await;
    wait_list(&mut seen, &[]).await;
}
