//! P2C balancing across real servers: a slow endpoint gets less traffic than a fast
//! one, and endpoints come and go while calls go on.

mod common;

use common::*;
use rzero_rpc::RpcClient;
use tokio::sync::watch;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p2c_sends_less_traffic_to_a_slow_endpoint() {
    let fast = start("fast").await;
    let slow_echo = Echo {
        name: "slow".into(),
        delay_ms: 40,
        ..Echo::default()
    };
    let slow = start_with(server_conf("slow"), slow_echo, |s| s).await;
    let client = client(&[fast.addr, slow.addr]).await;

    let mut workers = Vec::new();
    for _ in 0..2 {
        let mut c = client.clone();
        workers.push(tokio::spawn(async move {
            for _ in 0..200 {
                c.say(say("x")).await.expect("ok");
            }
        }));
    }
    for w in workers {
        within(60, w).await.expect("worker");
    }
    let (f, s) = (fast.calls(), slow.calls());
    assert_eq!(f + s, 400);
    assert!(s * 3 < f, "slow got {s}, fast got {f}");
    fast.stop().await;
    slow.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_are_added_and_removed_live() {
    let a = start("a").await;
    let b = start("b").await;
    let (tx, rx) = watch::channel(vec![a.addr.to_string()]);
    let channel = RpcClient::builder(client_conf(&[]))
        .endpoints(rx)
        .build()
        .await
        .expect("client");
    let mut client = EchoClient::new(channel.clone());
    for _ in 0..10 {
        let r = within(10, client.say(say("x")))
            .await
            .expect("ok")
            .into_inner();
        assert_eq!(r.server, "a");
    }
    tx.send(vec![b.addr.to_string()]).expect("send");
    within(10, async {
        while channel.endpoints() != [b.addr.to_string()] {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await;
    for _ in 0..10 {
        let r = within(10, client.say(say("x")))
            .await
            .expect("ok")
            .into_inner();
        assert_eq!(r.server, "b");
    }
    tx.send(vec![]).expect("send");
    within(10, async {
        while !channel.endpoints().is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await;
    let err = within(10, client.say(say("x")))
        .await
        .expect_err("no endpoint");
    assert_eq!(err.code(), tonic::Code::Unavailable);
    assert!(err.message().contains("no endpoint"), "{err}");
    a.stop().await;
    b.stop().await;
}
