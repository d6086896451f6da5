//! Deadlines, the client's breaker and the server's shedder, through real gRPC.

mod common;

use std::time::Duration;

use common::*;
use rzero_resilience::breaker::{BreakerConfig, BreakerSet};
use rzero_resilience::clock::ManualClock;
use rzero_rpc::RpcClient;
use tonic::Code;

fn slow(ms: u64) -> EchoRequest {
    EchoRequest {
        message: "slow".into(),
        delay_ms: ms,
        ..EchoRequest::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_timeout_answers_deadline_exceeded() {
    let mut conf = server_conf("echo");
    conf.timeout = Duration::from_millis(100);
    let server = start_with(conf, Echo::default(), |s| s).await;
    let mut client = client(&[server.addr]).await;
    let err = within(10, client.say(slow(3000)))
        .await
        .expect_err("times out");
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err}");
    assert!(err.message().contains("server"), "{err}");
    within(10, client.say(say("quick")))
        .await
        .expect("quick calls pass");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clients_timeout_and_the_callers_deadline_are_kept() {
    let server = start("echo").await;
    let mut conf = client_conf(&[server.addr]);
    conf.timeout = Duration::from_millis(100);
    let mut client = EchoClient::new(RpcClient::new(&conf).await.expect("client"));
    let err = within(10, client.say(slow(3000)))
        .await
        .expect_err("times out");
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err}");

    // A caller's own shorter deadline wins over the client's longer Timeout.
    let mut client = client_with_timeout(server.addr, Duration::from_secs(30)).await;
    let mut req = tonic::Request::new(slow(3000));
    req.set_timeout(Duration::from_millis(100));
    let err = within(10, client.say(req)).await.expect_err("times out");
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err}");
    server.stop().await;
}

async fn client_with_timeout(
    addr: std::net::SocketAddr,
    timeout: Duration,
) -> EchoClient<RpcClient> {
    let mut conf = client_conf(&[addr]);
    conf.timeout = timeout;
    EchoClient::new(RpcClient::new(&conf).await.expect("client"))
}

fn failing(code: Code) -> EchoRequest {
    EchoRequest {
        message: "fail".into(),
        fail_code: code as i32,
        ..EchoRequest::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_breaker_opens_under_failures_and_lets_traffic_back_after_recovery() {
    let server = start("echo").await;
    let clock = ManualClock::new();
    let breakers = BreakerSet::with_clock(BreakerConfig::default(), clock.clone(), 7);
    let channel = RpcClient::builder(client_conf(&[server.addr]))
        .breakers(breakers.clone())
        .build()
        .await
        .expect("client");
    let mut client = EchoClient::new(channel);

    // Client mistakes say nothing about the target: the breaker stays shut.
    for _ in 0..50 {
        let err = within(10, client.say(failing(Code::NotFound)))
            .await
            .expect_err("404");
        assert_eq!(err.code(), Code::NotFound);
    }

    // UNAVAILABLE answers (in a fresh window): soon most calls are refused without
    // reaching the server.
    clock.advance(Duration::from_secs(11));
    let before = server.calls();
    let mut refused = 0;
    for _ in 0..200 {
        let err = within(10, client.say(failing(Code::Unavailable)))
            .await
            .expect_err("fails");
        assert_eq!(err.code(), Code::Unavailable);
        if err.message().contains("circuit breaker is open") {
            refused += 1;
        }
    }
    let reached = server.calls() - before;
    assert!(refused > 100, "refused {refused} of 200");
    assert_eq!(reached + refused, 200);

    // The window passes and the target is healthy again: traffic flows.
    clock.advance(Duration::from_secs(11));
    let mut ok = 0;
    for _ in 0..50 {
        if within(10, client.say(say("back"))).await.is_ok() {
            ok += 1;
        }
    }
    assert!(ok >= 45, "{ok} of 50 passed after recovery");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overloaded_server_sheds_with_resource_exhausted() {
    use rzero_resilience::shedder::FixedCpu;
    let mut conf = server_conf("echo");
    conf.cpu_threshold = 500;
    let cpu = FixedCpu::new(0);
    let c = cpu.clone();
    let server = start_with(conf, Echo::default(), move |s| s.cpu(c)).await;
    let mut client = client(&[server.addr]).await;
    // Some history at low CPU: quick calls establish the server's capacity.
    for _ in 0..20 {
        within(10, client.say(say("warm"))).await.expect("ok");
    }
    // CPU pegged and waves of slow calls: once the server has seen many calls in flight
    // finish (its average rises), calls beyond its capacity are shed.
    cpu.set(1000);
    let mut shed = 0;
    for _ in 0..3 {
        let mut calls = Vec::new();
        for _ in 0..32 {
            let mut c = client.clone();
            calls.push(tokio::spawn(async move { c.say(slow(200)).await }));
        }
        for call in calls {
            if let Err(e) = within(20, call).await.expect("task") {
                assert_eq!(e.code(), Code::ResourceExhausted, "{e}");
                shed += 1;
            }
        }
    }
    assert!(shed > 0, "no call was shed");
    cpu.set(0);
    server.stop().await;
}
