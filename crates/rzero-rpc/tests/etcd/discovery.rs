//! Discovery through a real etcd: a registered server is found, a stopped one is
//! removed, and killing etcd does not break calls to known endpoints.

use std::time::Duration;

use rzero_conf::EtcdConf;
use rzero_rpc::testing::Etcd;
use rzero_rpc::{RpcClient, RpcClientConf};

use crate::common::*;

fn etcd_conf(etcd: &Etcd, key: &str) -> EtcdConf {
    etcd.conf(key)
}

async fn wait_endpoints(client: &RpcClient, mut want: Vec<String>) {
    want.sort();
    within(20, async {
        loop {
            let mut now = client.endpoints();
            now.sort();
            if now == want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_in_etcd_are_found_removed_and_survive_etcd_going_away() {
    let mut etcd = tokio::task::spawn_blocking(Etcd::start)
        .await
        .expect("etcd");
    let key = "echo.rpc";

    let mut conf = server_conf("a");
    conf.etcd = Some(etcd_conf(&etcd, key));
    let a = start_with(
        conf.clone(),
        Echo {
            name: "a".into(),
            ..Echo::default()
        },
        |s| s,
    )
    .await;

    let client_conf = RpcClientConf {
        etcd: Some(etcd_conf(&etcd, key)),
        non_block: false,
        ..RpcClientConf::default()
    };
    let channel = within(20, RpcClient::new(&client_conf))
        .await
        .expect("client");
    wait_endpoints(&channel, vec![a.addr.to_string()]).await;
    let mut client = EchoClient::new(channel.clone());
    let reply = within(10, client.say(say("hi")))
        .await
        .expect("ok")
        .into_inner();
    assert_eq!(reply.server, "a");

    // A second server joins, then the first stops: the client follows.
    let b = start_with(
        conf,
        Echo {
            name: "b".into(),
            ..Echo::default()
        },
        |s| s,
    )
    .await;
    wait_endpoints(&channel, vec![a.addr.to_string(), b.addr.to_string()]).await;
    a.stop().await;
    wait_endpoints(&channel, vec![b.addr.to_string()]).await;
    for _ in 0..5 {
        let reply = within(10, client.say(say("hi")))
            .await
            .expect("ok")
            .into_inner();
        assert_eq!(reply.server, "b");
    }

    // etcd goes away: the known endpoint stays and calls go on.
    etcd.kill();
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..20 {
        let reply = within(10, client.say(say("still")))
            .await
            .expect("ok")
            .into_inner();
        assert_eq!(reply.server, "b");
    }
    assert_eq!(channel.endpoints(), [b.addr.to_string()]);
    b.stop().await;
}
