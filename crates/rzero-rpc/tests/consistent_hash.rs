//! Consistent-hash balancing across real servers on loopback: keys spread over every
//! server, a key's calls stay on one server, and when a fourth server joins only the
//! keys that now belong to it move (about a quarter).

mod common;

use std::collections::HashMap;

use common::*;
use rzero_rpc::RpcClient;
use rzero_rpc::client::balance::{BalancerConf, BalancerKind, HashKey};
use tokio::sync::watch;

const KEYS: usize = 400;

fn hashed_by(header: &str) -> rzero_rpc::RpcClientConf {
    rzero_rpc::RpcClientConf {
        balancer: BalancerConf {
            kind: BalancerKind::ConsistentHash,
            hash_key: header.into(),
            ..BalancerConf::default()
        },
        ..client_conf(&[])
    }
}

/// The server that answers `key`, sent as the `x-user-id` metadata.
async fn server_of(client: &mut EchoClient<RpcClient>, key: &str) -> String {
    let mut req = tonic::Request::new(say("x"));
    req.metadata_mut()
        .insert("x-user-id", key.parse().expect("ascii key"));
    within(10, client.say(req))
        .await
        .expect("call")
        .into_inner()
        .server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_stay_on_their_server_and_a_new_server_takes_a_quarter() {
    let servers = [start("a").await, start("b").await, start("c").await];
    let mut addrs: Vec<String> = servers.iter().map(|s| s.addr.to_string()).collect();
    let (tx, rx) = watch::channel(addrs.clone());
    let channel = RpcClient::builder(hashed_by("x-user-id"))
        .endpoints(rx)
        .build()
        .await
        .expect("client");
    let mut client = EchoClient::new(channel.clone());

    let mut before = HashMap::new();
    for i in 0..KEYS {
        let key = format!("user-{i}");
        let first = server_of(&mut client, &key).await;
        assert_eq!(server_of(&mut client, &key).await, first, "{key} moved");
        before.insert(key, first);
    }
    let mut share: HashMap<&str, usize> = HashMap::new();
    for s in before.values() {
        *share.entry(s.as_str()).or_default() += 1;
    }
    assert_eq!(share.len(), 3, "every server has keys: {share:?}");
    for (s, n) in &share {
        // Even is a third (133); 100 virtual nodes each keep a share far from 0 or all.
        assert!((KEYS / 6..KEYS * 2 / 3).contains(n), "{s}: {n} of {KEYS}");
    }

    let d = start("d").await;
    addrs.push(d.addr.to_string());
    tx.send(addrs.clone()).expect("send");
    within(10, async {
        while channel.endpoints().len() != 4 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await;
    let mut moved = 0;
    for (key, was) in &before {
        let now = server_of(&mut client, key).await;
        if &now != was {
            assert_eq!(
                now, "d",
                "{key} moved from {was} to {now}, not to the new server"
            );
            moved += 1;
        }
    }
    // A quarter is expected; the bounds hold for any ports the servers got.
    assert!(
        (KEYS / 10..KEYS * 2 / 5).contains(&moved),
        "{moved} of {KEYS} keys moved"
    );

    // A call with no key is still served (by P2C).
    within(10, client.say(say("no key"))).await.expect("served");
    for s in servers {
        s.stop().await;
    }
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_set_per_call_wins_over_the_metadata() {
    let servers = [start("a").await, start("b").await, start("c").await];
    let addrs: Vec<_> = servers.iter().map(|s| s.addr).collect();
    let conf = rzero_rpc::RpcClientConf {
        endpoints: addrs.iter().map(|a| a.to_string()).collect(),
        ..hashed_by("")
    };
    let channel = RpcClient::new(&conf).await.expect("client");
    let mut client = EchoClient::new(channel.clone());
    let mut seen = HashMap::new();
    for i in 0..60 {
        let key = format!("order-{i}");
        let expected = channel
            .balance()
            .pick_hashed(key.as_bytes())
            .expect("an endpoint")
            .addr()
            .to_owned();
        for _ in 0..2 {
            let mut req = tonic::Request::new(say("x"));
            req.extensions_mut().insert(HashKey::new(key.as_str()));
            let server = within(10, client.say(req))
                .await
                .expect("call")
                .into_inner()
                .server;
            let addr = servers
                .iter()
                .find(|s| s.echo.name == server)
                .map(|s| s.addr.to_string());
            assert_eq!(addr.as_deref(), Some(expected.as_str()), "{key}");
            seen.insert(server, ());
        }
    }
    assert_eq!(seen.len(), 3, "keys spread over all servers");
    for s in servers {
        s.stop().await;
    }
}

#[tokio::test]
async fn a_bad_balancer_section_fails_the_start() {
    let conf = rzero_rpc::RpcClientConf {
        endpoints: vec!["127.0.0.1:1".into()],
        ..hashed_by("not a header")
    };
    let err = RpcClient::new(&conf).await.expect_err("bad key");
    assert!(err.to_string().contains("Balancer.HashKey"), "{err}");
    let yaml = "Endpoints: [a:1]\nBalancer:\n  Kind: consistent_hash\n  HashKey: x-user-id\n";
    let c: rzero_rpc::RpcClientConf = rzero_conf::Loader::new()
        .env(|_| None)
        .load_str("c.yaml", yaml)
        .expect("loads");
    assert_eq!(c.balancer.kind, BalancerKind::ConsistentHash);
    assert_eq!(c.balancer.replicas, 100);
    let bad = "Endpoints: [a:1]\nBalancer:\n  Kind: round_robin\n";
    let err = rzero_conf::Loader::new()
        .env(|_| None)
        .load_str::<rzero_rpc::RpcClientConf>("c.yaml", bad)
        .expect_err("unknown kind");
    assert!(err.to_string().contains("round_robin"), "{err}");
}
