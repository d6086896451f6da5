//! `plain` modes: tonic's server and client, and axum, with no tracing at all: the
//! baseline the other modes are ratios of.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::State;
use axum::routing::get;
use axum::serve::ListenerExt;
use http::StatusCode;
use tonic::transport::{Channel, Endpoint};

use crate::pb::echo_client::EchoClient;
use crate::pb::echo_server::EchoServer;
use crate::{BoxError, Echo, Hop};

/// Serves `echo.Echo` on `grpc` until Ctrl-C (tonic sets TCP_NODELAY by default).
pub(crate) async fn echo(grpc: SocketAddr) -> Result<(), BoxError> {
    tonic::transport::Server::builder()
        .add_service(EchoServer::new(Echo))
        .serve_with_shutdown(grpc, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

/// Serves `GET /hop` on `http`, each request one call to the echo server on `grpc` over
/// one HTTP/2 connection (tonic's `Channel` multiplexes the calls), until Ctrl-C.
pub(crate) async fn hop(http: &str, grpc: SocketAddr) -> Result<(), BoxError> {
    let server = tokio::spawn(echo(grpc));
    // Lazy: the harness waits for both ports before the first request.
    let channel = Endpoint::from_shared(format!("http://{grpc}"))?
        .tcp_nodelay(true)
        .connect_lazy();
    let listener = tokio::net::TcpListener::bind(http).await?.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let app = axum::Router::new()
        .route("/hop", get(call))
        .with_state(EchoClient::new(channel));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    server.await?
}

async fn call(
    State(mut client): State<EchoClient<Channel>>,
) -> Result<Json<Hop>, (StatusCode, String)> {
    crate::answer(client.say(crate::request()).await)
}
