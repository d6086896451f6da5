//! `grpc.health.v1` and reflection on a real server: SERVING while up, NOT_SERVING
//! while draining, and calls in flight at the stop signal still answered.

mod common;

use std::time::Duration;

use common::*;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

async fn status(addr: std::net::SocketAddr, service: &str) -> Result<i32, String> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .map(|r| r.into_inner().status)
        .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_not_serving_during_drain_and_in_flight_calls_finish() {
    let mut conf = server_conf("echo");
    conf.service.shutdown.wrap_up_time = Duration::from_millis(800);
    let mut server = start_with(conf, Echo::default(), |s| s).await;
    let addr = server.addr;
    assert_eq!(
        within(10, status(addr, "")).await,
        Ok(ServingStatus::Serving as i32)
    );
    assert_eq!(
        within(10, status(addr, "echo.Echo")).await,
        Ok(ServingStatus::Serving as i32)
    );

    // A call in flight when the stop comes, outlasting the wrap-up: it is still answered.
    let mut client = client(&[addr]).await;
    let in_flight = tokio::spawn(async move {
        client
            .say(EchoRequest {
                message: "late".into(),
                delay_ms: 1500,
                ..EchoRequest::default()
            })
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.signal_stop();

    within(10, async {
        loop {
            if status(addr, "echo.Echo").await == Ok(ServingStatus::NotServing as i32) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(
        within(10, status(addr, "")).await,
        Ok(ServingStatus::NotServing as i32)
    );

    let reply = within(20, in_flight)
        .await
        .expect("task")
        .expect("answered");
    assert_eq!(reply.into_inner().message, "late");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_lists_the_services() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let server = start("echo").await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", server.addr))
        .expect("uri")
        .connect_lazy();
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = within(
        10,
        ServerReflectionClient::new(channel)
            .server_reflection_info(tonic::codegen::tokio_stream::iter([request])),
    )
    .await
    .expect("reflection")
    .into_inner();
    let response = within(10, responses.message())
        .await
        .expect("message")
        .expect("one");
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected answer {response:?}");
    };
    let names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    assert!(names.contains(&"echo.Echo".to_owned()), "{names:?}");
    assert!(
        names.contains(&"grpc.health.v1.Health".to_owned()),
        "{names:?}"
    );
    server.stop().await;
}
