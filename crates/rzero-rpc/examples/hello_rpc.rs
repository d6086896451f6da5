//! hello-rpc: a traced gRPC server and a client calling it, from config, in one process.
//!
//! `cargo run -p rzero-rpc --example hello_rpc` serves `echo.Echo` on a free loopback
//! port with every default layer, calls it through an `RpcClient` and prints the answer,
//! then stops the server gracefully (NOT_SERVING, drain).

use std::time::Duration;

use rzero_rpc::{RpcClient, RpcClientConf, RpcServer, RpcServerConf};
use tonic::{Request, Response, Status};

#[allow(clippy::all, missing_docs, unreachable_pub)]
mod pb {
    tonic::include_proto!("echo");
    pub const DESCRIPTOR: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/echo_descriptor.bin"));
}

struct Hello;

#[tonic::async_trait]
impl pb::echo_server::Echo for Hello {
    async fn say(&self, req: Request<pb::EchoRequest>) -> Result<Response<pb::EchoReply>, Status> {
        Ok(Response::new(pb::EchoReply {
            message: format!("hello, {}", req.into_inner().message),
            server: "hello-rpc".into(),
        }))
    }

    type StreamStream = tokio_stream::Empty<Result<pb::EchoReply, Status>>;

    async fn stream(
        &self,
        _: Request<pb::EchoRequest>,
    ) -> Result<Response<Self::StreamStream>, Status> {
        Ok(Response::new(tokio_stream::empty()))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let conf: RpcServerConf = rzero_conf::Loader::new().load_str(
        "hello.yaml",
        "Name: hello.rpc\nListenOn: 127.0.0.1:0\nTimeout: 1s\nShutdown:\n  WrapUpTime: 0\n",
    )?;
    let server = RpcServer::new(conf)
        .add_service(pb::echo_server::EchoServer::new(Hello))
        .file_descriptor_set(pb::DESCRIPTOR)
        .bind()
        .await?;
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.serve(async move {
        let _ = stopped.await;
    }));

    let client_conf = RpcClientConf {
        endpoints: vec![addr.to_string()],
        timeout: Duration::from_millis(500),
        ..RpcClientConf::default()
    };
    let mut client = pb::echo_client::EchoClient::new(RpcClient::new(&client_conf).await?);
    let reply = client
        .say(pb::EchoRequest {
            message: "rzero".into(),
            ..Default::default()
        })
        .await?;
    println!("{} (from {addr})", reply.into_inner().message);

    let _ = stop.send(());
    serving.await??;
    Ok(())
}
