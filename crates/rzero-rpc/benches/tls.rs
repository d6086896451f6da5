//! What TLS costs an RPC on loopback, plain and TLS side by side in one run: a unary
//! call on an established connection, and a new connection (TCP + TLS 1.3 handshake +
//! HTTP/2 set-up) followed by its first call, each through rzero's client and server.
//!
//! `cargo bench -p rzero-rpc --bench tls`; read the TLS rows as ratios of the plain
//! ones next to them. Certificates are made at start (rcgen, ECDSA P-256).

use std::hint::black_box;
use std::net::SocketAddr;

use criterion::{Criterion, criterion_group, criterion_main};
use rzero_rpc::testing::TestCa;
use rzero_rpc::tls::{ClientTlsConf, ServerTlsConf};
use rzero_rpc::{RpcClient, RpcClientConf, RpcServer, RpcServerConf};
use tonic::{Request, Response, Status};

#[allow(clippy::all, missing_docs, unreachable_pub)]
mod pb {
    tonic::include_proto!("echo");
}

use pb::echo_client::EchoClient;
use pb::echo_server::{Echo, EchoServer};
use pb::{EchoReply, EchoRequest};

#[derive(Clone, Default)]
struct Plain;

#[tonic::async_trait]
impl Echo for Plain {
    async fn say(&self, req: Request<EchoRequest>) -> Result<Response<EchoReply>, Status> {
        Ok(Response::new(EchoReply {
            message: req.into_inner().message,
            server: String::new(),
        }))
    }

    type StreamStream = tokio_stream::Empty<Result<EchoReply, Status>>;

    async fn stream(
        &self,
        _: Request<EchoRequest>,
    ) -> Result<Response<Self::StreamStream>, Status> {
        Ok(Response::new(tokio_stream::empty()))
    }
}

async fn server(tls: Option<ServerTlsConf>) -> SocketAddr {
    let conf = RpcServerConf {
        listen_on: "127.0.0.1:0".into(),
        cpu_threshold: 0,
        tls,
        ..RpcServerConf::default()
    };
    let server = RpcServer::new(conf)
        .add_service(EchoServer::new(Plain))
        .bind()
        .await
        .expect("bind");
    let addr = server.local_addr();
    tokio::spawn(server.serve(std::future::pending()));
    addr
}

async fn client(addr: SocketAddr, tls: Option<ClientTlsConf>) -> EchoClient<RpcClient> {
    let conf = RpcClientConf {
        endpoints: vec![addr.to_string()],
        tls,
        ..RpcClientConf::default()
    };
    EchoClient::new(RpcClient::new(&conf).await.expect("client"))
}

fn request() -> EchoRequest {
    EchoRequest {
        message: "hello".into(),
        ..EchoRequest::default()
    }
}

fn tls(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("dir");
    let ca = TestCa::new(dir.path(), "bench");
    let cert = ca.issue("server", &["127.0.0.1"]);
    let server_tls = ServerTlsConf {
        cert_file: cert.cert.to_string_lossy().into_owned(),
        key_file: cert.key.to_string_lossy().into_owned(),
        ca_cert_file: String::new(),
    };
    let client_tls = ClientTlsConf {
        ca_cert_file: ca.file().to_string_lossy().into_owned(),
        ..ClientTlsConf::default()
    };
    let (plain_addr, tls_addr) =
        rt.block_on(async { (server(None).await, server(Some(server_tls)).await) });

    let mut group = c.benchmark_group("rpc unary call, connection reused");
    for (name, addr, tls) in [
        ("plain", plain_addr, None),
        ("tls", tls_addr, Some(client_tls.clone())),
    ] {
        let mut client = rt.block_on(client(addr, tls));
        rt.block_on(client.say(request())).expect("warm up");
        group.bench_function(name, |b| {
            b.iter(|| black_box(rt.block_on(client.say(request())).expect("call")))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("rpc new connection + first call");
    for (name, addr, tls) in [
        ("plain", plain_addr, None),
        ("tls", tls_addr, Some(client_tls)),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let mut c = client(addr, tls.clone()).await;
                    black_box(c.say(request()).await.expect("call"));
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, tls);
criterion_main!(benches);
