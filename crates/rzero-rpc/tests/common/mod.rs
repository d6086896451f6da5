//! Test support: the echo service, a real server on a loopback port, a client to it,
//! and spans as exported.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry::trace::{Span as _, Tracer as _};
use rzero_rpc::{RpcClient, RpcClientConf, RpcServer, RpcServerConf, ShutdownConf};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::codegen::tokio_stream::Stream;
use tonic::{Code, Request, Response, Status};

#[allow(clippy::all, missing_docs)]
pub mod pb {
    tonic::include_proto!("echo");
    pub const DESCRIPTOR: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/echo_descriptor.bin"));
}

pub use pb::echo_client::EchoClient;
pub use pb::{EchoReply, EchoRequest};

/// The echo service: answers with its name; sleeps, fails or panics when asked.
#[derive(Clone, Default)]
pub struct Echo {
    pub name: String,
    pub calls: Arc<AtomicU64>,
    /// Extra delay for every call, in ms (a slow endpoint).
    pub delay_ms: u64,
}

#[tonic::async_trait]
impl pb::echo_server::Echo for Echo {
    async fn say(&self, req: Request<EchoRequest>) -> Result<Response<EchoReply>, Status> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let r = req.into_inner();
        let delay = r.delay_ms + self.delay_ms;
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        if r.panic {
            panic!("echo asked to panic");
        }
        if r.fail_code != 0 {
            return Err(Status::new(
                Code::from_i32(r.fail_code),
                "echo asked to fail",
            ));
        }
        // A span of the handler's own, with the global API: a child of the server span.
        let mut span = opentelemetry::global::tracer("echo").start("echo.handle");
        span.end();
        Ok(Response::new(EchoReply {
            message: r.message,
            server: self.name.clone(),
        }))
    }

    type StreamStream = Pin<Box<dyn Stream<Item = Result<EchoReply, Status>> + Send>>;

    async fn stream(
        &self,
        req: Request<EchoRequest>,
    ) -> Result<Response<Self::StreamStream>, Status> {
        let r = req.into_inner();
        let name = self.name.clone();
        let replies = (0..3).map(move |i| {
            // Asked to panic: the second message panics, after the first went out.
            assert!(!(r.panic && i == 1), "echo stream asked to panic");
            Ok(EchoReply {
                message: format!("{}-{i}", r.message),
                server: name.clone(),
            })
        });
        Ok(Response::new(Box::pin(tonic::codegen::tokio_stream::iter(
            replies,
        ))))
    }
}

/// A server running on a loopback port until stopped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub echo: Echo,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), rzero_rpc::ServeError>>>,
}

impl TestServer {
    pub fn calls(&self) -> u64 {
        self.echo.calls.load(Ordering::Relaxed)
    }

    /// Signals the stop (the server drains as configured) without waiting.
    pub fn signal_stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }

    /// Stops and waits for the server to end.
    pub async fn stop(mut self) {
        self.signal_stop();
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(20), task)
                .await
                .expect("server stops in time")
                .expect("server task")
                .expect("server ends cleanly");
        }
    }
}

/// A server config on a free loopback port, no shedding, quick shutdown.
pub fn server_conf(name: &str) -> RpcServerConf {
    let mut conf = RpcServerConf::default();
    conf.service.name = name.into();
    conf.listen_on = "127.0.0.1:0".into();
    conf.cpu_threshold = 0;
    conf.service.shutdown = ShutdownConf {
        wrap_up_time: Duration::ZERO,
        wait_time: Duration::from_secs(5),
    };
    conf
}

/// Starts `echo` behind an `RpcServer` built by `build`.
pub async fn start_with(
    conf: RpcServerConf,
    echo: Echo,
    build: impl FnOnce(RpcServer) -> RpcServer,
) -> TestServer {
    let server = build(
        RpcServer::new(conf)
            .add_service(pb::echo_server::EchoServer::new(echo.clone()))
            .file_descriptor_set(pb::DESCRIPTOR),
    )
    .bind()
    .await
    .expect("bind");
    let addr = server.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.serve(async move {
        let _ = stopped.await;
    }));
    TestServer {
        addr,
        echo,
        stop: Some(stop),
        task: Some(task),
    }
}

/// Starts a plain echo server named `name`.
pub async fn start(name: &str) -> TestServer {
    let echo = Echo {
        name: name.into(),
        ..Echo::default()
    };
    start_with(server_conf(name), echo, |s| s).await
}

/// A client config for `endpoints`.
pub fn client_conf(endpoints: &[SocketAddr]) -> RpcClientConf {
    RpcClientConf {
        endpoints: endpoints.iter().map(|a| a.to_string()).collect(),
        ..RpcClientConf::default()
    }
}

/// A plain client to `endpoints`.
pub async fn client(endpoints: &[SocketAddr]) -> EchoClient<RpcClient> {
    EchoClient::new(
        RpcClient::new(&client_conf(endpoints))
            .await
            .expect("client"),
    )
}

pub fn say(message: &str) -> EchoRequest {
    EchoRequest {
        message: message.into(),
        ..EchoRequest::default()
    }
}

/// Runs `f` with a hang guard.
pub async fn within<T>(secs: u64, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .expect("no hang")
}
