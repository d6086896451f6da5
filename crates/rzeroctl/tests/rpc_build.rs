//! Generated rpc crates compile (clippy-clean), start, and answer over real gRPC: the
//! streaming fixture (four kinds of rpc, two services, an import) is generated, built with
//! cargo (shared target dir, see `common`), started on a free loopback port with
//! telemetry off, and called. A fresh logic file answers UNIMPLEMENTED naming itself;
//! after the logic is edited, regenerated (the edit survives) and rebuilt, the edited
//! answer comes back, for a unary and a server-streaming rpc.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use rzeroctl::rpc::{ProtocArgs, protoc};
use tonic::codegen::tokio_stream::{self, StreamExt};
use tonic::transport::Channel;
use tonic::{Code, Request};

/// A started service; killed (by its pid, through `Child`) when dropped, panics included.
struct Running {
    child: Child,
    addr: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `binary` with a config on 127.0.0.1:0 and telemetry off, and learns its port
/// from the "Starting server at ..." line.
fn start(binary: &Path, dir: &Path) -> Running {
    let conf = dir.join("test.yaml");
    std::fs::write(
        &conf,
        "Name: test.rpc\nListenOn: 127.0.0.1:0\nCpuThreshold: 0\n\
         OpenTelemetry:\n  Endpoint: 127.0.0.1:9\n  Disabled: true\n\
         Shutdown:\n  WrapUpTime: 0\n  WaitTime: 0\n",
    )
    .expect("write config");
    let mut child = Command::new(binary)
        .arg("-f")
        .arg(&conf)
        .env("OTEL_SDK_DISABLED", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the service");
    let stdout = child.stdout.take().expect("stdout");
    let mut running = Running {
        child,
        addr: String::new(),
    };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("Starting server at ") {
                let _ = tx.send(addr.trim_end_matches("...").to_string());
            }
        }
    });
    running.addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the service says where it listens");
    running
}

fn generate(proto: PathBuf, dir: &Path) {
    protoc(&ProtocArgs {
        proto,
        dir: dir.to_path_buf(),
        proto_path: Vec::new(),
        rzero: rzeroctl::cargo::RzeroArgs {
            rzero_path: Some(common::workspace_root()),
            rzero_version: None,
        },
    })
    .expect("generates");
}

/// Builds the crate in `dir`, clippy first so that generated code stays warning-free.
fn build(dir: &Path) {
    common::cargo(dir, &["clippy", "--all-targets", "--", "-D", "warnings"]);
    common::cargo(dir, &["build"]);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("runtime")
}

async fn channel(addr: &str) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect")
}

/// The fixture's `stream.v1.Tick`, by hand, to read answers.
#[derive(Clone, PartialEq, prost::Message)]
struct Tick {
    #[prost(int64, tag = "1")]
    seq: i64,
}

type Grpc = tonic::client::Grpc<Channel>;

async fn unary(grpc: &mut Grpc, path: &'static str) -> Result<Tick, tonic::Status> {
    grpc.ready().await.expect("ready");
    let codec = tonic_prost::ProstCodec::<(), Tick>::default();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(path);
    grpc.unary(Request::new(()), path, codec)
        .await
        .map(|r| r.into_inner())
}

async fn server_stream(grpc: &mut Grpc, path: &'static str) -> Result<Vec<i64>, tonic::Status> {
    grpc.ready().await.expect("ready");
    let codec = tonic_prost::ProstCodec::<(), Tick>::default();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(path);
    let mut stream = grpc
        .server_streaming(Request::new(()), path, codec)
        .await?
        .into_inner();
    let mut seqs = Vec::new();
    while let Some(tick) = stream.next().await {
        seqs.push(tick?.seq);
    }
    Ok(seqs)
}

async fn client_stream(grpc: &mut Grpc, path: &'static str, bidi: bool) -> tonic::Status {
    grpc.ready().await.expect("ready");
    let codec = tonic_prost::ProstCodec::<Tick, Tick>::default();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(path);
    let ticks = Request::new(tokio_stream::iter(vec![Tick { seq: 1 }, Tick { seq: 2 }]));
    let err = if bidi {
        grpc.streaming(ticks, path, codec).await.err()
    } else {
        grpc.client_streaming(ticks, path, codec).await.err()
    };
    err.expect("no logic yet")
}

const NOW_LOGIC: &str = r#"//! Edited by the test.

use tonic::{Request, Response, Status};

use crate::pb;
use crate::svc::ServiceContext;

/// Answers a fixed tick.
pub async fn now(
    _ctx: &ServiceContext,
    _request: Request<()>,
) -> Result<Response<pb::stream::v1::Tick>, Status> {
    Ok(Response::new(pb::stream::v1::Tick { seq: 42, at: None }))
}
"#;

const SUBSCRIBE_LOGIC: &str = r#"//! Edited by the test.

use tonic::codegen::tokio_stream;
use tonic::{Request, Response, Status};

use crate::pb;
use crate::svc::ServiceContext;

/// Streams `limit` ticks (3 when the request says 0).
pub async fn subscribe(
    _ctx: &ServiceContext,
    request: Request<pb::stream::v1::Watch>,
) -> Result<Response<crate::BoxStream<pb::stream::v1::Tick>>, Status> {
    let limit = match request.into_inner().limit {
        0 => 3,
        n => i64::from(n),
    };
    let ticks = (1..=limit).map(|seq| Ok(pb::stream::v1::Tick { seq, at: None }));
    Ok(Response::new(Box::pin(tokio_stream::iter(ticks))))
}
"#;

#[test]
fn streaming_service_builds_runs_and_keeps_edited_logic() {
    let dir = common::scratch("rpc-build/stream").join("stream-gen");
    let proto = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rpc/stream.proto");
    generate(proto.clone(), &dir);
    build(&dir);
    {
        let service = start(&common::binary("stream-gen"), &dir);
        runtime().block_on(async {
            let mut grpc = Grpc::new(channel(&service.addr).await);
            let status = unary(&mut grpc, "/stream.v1.Ticker/Now")
                .await
                .expect_err("no logic yet");
            assert_eq!(status.code(), Code::Unimplemented);
            assert!(
                status.message().ends_with("edit src/logic/ticker/now.rs"),
                "{status:?}"
            );
            let status = server_stream(&mut grpc, "/stream.v1.Ticker/Subscribe")
                .await
                .expect_err("no logic yet");
            assert_eq!(status.code(), Code::Unimplemented);
            let status = client_stream(&mut grpc, "/stream.v1.Ticker/Add", false).await;
            assert_eq!(status.code(), Code::Unimplemented);
            assert!(
                status.message().contains("src/logic/ticker/add.rs"),
                "{status:?}"
            );
            let status = client_stream(&mut grpc, "/stream.v1.Ticker/Echo", true).await;
            assert_eq!(status.code(), Code::Unimplemented);
            assert!(
                status.message().contains("src/logic/ticker/echo.rs"),
                "{status:?}"
            );
        });
    }

    // The user writes logic; regeneration keeps it; the rebuilt service answers with it.
    std::fs::write(dir.join("src/logic/ticker/now.rs"), NOW_LOGIC).expect("edit now");
    std::fs::write(dir.join("src/logic/ticker/subscribe.rs"), SUBSCRIBE_LOGIC)
        .expect("edit subscribe");
    generate(proto, &dir);
    let kept = std::fs::read_to_string(dir.join("src/logic/ticker/now.rs")).expect("read");
    assert_eq!(kept, NOW_LOGIC, "regeneration keeps the user's logic");
    build(&dir);
    let service = start(&common::binary("stream-gen"), &dir);
    runtime().block_on(async {
        let mut grpc = Grpc::new(channel(&service.addr).await);
        let tick = unary(&mut grpc, "/stream.v1.Ticker/Now")
            .await
            .expect("edited logic answers");
        assert_eq!(tick.seq, 42);
        let seqs = server_stream(&mut grpc, "/stream.v1.Ticker/Subscribe")
            .await
            .expect("edited logic streams");
        assert_eq!(seqs, [1, 2, 3]);
        let status = unary(&mut grpc, "/stream.v1.Lookup/Type")
            .await
            .expect_err("untouched logic");
        assert_eq!(
            status.message(),
            "stream.v1.Lookup/Type has no logic yet: edit src/logic/lookup/type.rs"
        );
    });
}
