//! The W3C Trace Context test suite's cases over gRPC metadata: a caller sends the
//! suite's headers as metadata to an rzero `RpcServer` (extraction), whose handler calls a
//! recording server through an rzero `RpcClient` (injection); the recorder answers with
//! the `traceparent` and `tracestate` fields it received, which are checked as the suite
//! checks its callbacks. Header-name casing cases have no gRPC form (metadata keys are
//! lowercase) and are left out.

mod common;

use std::net::SocketAddr;

use common::pb::echo_server::{Echo as EchoService, EchoServer};
use common::{EchoClient, EchoReply, EchoRequest, client_conf, server_conf, within};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use rzero_rpc::{RpcClient, RpcServer};
use rzero_telemetry::propagation::{DEFAULT_PROPAGATORS, composite};
use tonic::metadata::{MetadataKey, MetadataValue};
use tonic::{Request, Response, Status};

/// Answers with the trace context fields it received, one per line: `name: value`.
struct Recorder;

#[tonic::async_trait]
impl EchoService for Recorder {
    async fn say(&self, req: Request<EchoRequest>) -> Result<Response<EchoReply>, Status> {
        let mut lines = Vec::new();
        for name in ["traceparent", "tracestate"] {
            for v in req.metadata().get_all(name) {
                lines.push(format!("{name}: {}", v.to_str().unwrap_or("<binary>")));
            }
        }
        Ok(Response::new(EchoReply {
            message: lines.join("\n"),
            server: "recorder".into(),
        }))
    }

    type StreamStream = tonic::codegen::BoxStream<EchoReply>;

    async fn stream(
        &self,
        _: Request<EchoRequest>,
    ) -> Result<Response<Self::StreamStream>, Status> {
        Err(Status::unimplemented("not used"))
    }
}

/// The service under test: calls the recorder `callbacks` times (the request's
/// `delay_ms` field carries the count) and answers with what it recorded.
struct Forwarder {
    recorder: RpcClient,
}

#[tonic::async_trait]
impl EchoService for Forwarder {
    async fn say(&self, req: Request<EchoRequest>) -> Result<Response<EchoReply>, Status> {
        let n = req.get_ref().delay_ms.max(1);
        let mut all = Vec::new();
        for _ in 0..n {
            let mut client = EchoClient::new(self.recorder.clone());
            let reply = client.say(EchoRequest::default()).await?.into_inner();
            all.push(reply.message);
        }
        Ok(Response::new(EchoReply {
            message: all.join("\n--\n"),
            server: "forwarder".into(),
        }))
    }

    type StreamStream = tonic::codegen::BoxStream<EchoReply>;

    async fn stream(
        &self,
        _: Request<EchoRequest>,
    ) -> Result<Response<Self::StreamStream>, Status> {
        Err(Status::unimplemented("not used"))
    }
}

async fn serve(server: RpcServer) -> SocketAddr {
    let bound = server.bind().await.expect("bind");
    let addr = bound.local_addr();
    // Runs for the whole test binary.
    tokio::spawn(bound.serve(std::future::pending::<()>()));
    addr
}

/// Starts the recorder and the forwarder (in the test's runtime); the forwarder's address.
async fn service() -> SocketAddr {
    opentelemetry::global::set_text_map_propagator(composite(&DEFAULT_PROPAGATORS));
    let provider = SdkTracerProvider::builder().build();
    opentelemetry::global::set_tracer_provider(provider.clone());
    let tracer = provider.tracer("rzero");
    let recorder =
        serve(RpcServer::new(server_conf("recorder")).add_service(EchoServer::new(Recorder))).await;
    let client = RpcClient::builder(client_conf(&[recorder]))
        .tracer(tracer.clone())
        .build()
        .await
        .expect("client");
    serve(
        RpcServer::new(server_conf("forwarder"))
            .tracer(tracer)
            .add_service(EchoServer::new(Forwarder { recorder: client })),
    )
    .await
}

/// What one callback received.
#[derive(Debug)]
struct Callback {
    traceparent: Vec<String>,
    tracestate: Vec<(String, String)>,
}

impl Callback {
    /// The one `traceparent` as (trace id, parent id, flags); the suite requires one.
    fn parent(&self) -> (String, String, u8) {
        assert_eq!(self.traceparent.len(), 1, "one traceparent: {self:?}");
        let parts: Vec<&str> = self.traceparent[0].split('-').collect();
        assert_eq!(parts.len(), 4, "{self:?}");
        let flags = u8::from_str_radix(parts[3], 16).expect("hex flags");
        (parts[1].to_owned(), parts[2].to_owned(), flags)
    }

    fn trace_id(&self) -> String {
        self.parent().0
    }

    fn state(&self, key: &str) -> Option<&str> {
        self.tracestate
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn state_string(&self) -> String {
        let all: Vec<String> = self
            .tracestate
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        all.join(",")
    }
}

/// Sends `metadata` (repeated names become repeated fields) and returns what each of
/// `callbacks` calls carried.
async fn calls(addr: SocketAddr, metadata: &[(&str, &str)], callbacks: u64) -> Vec<Callback> {
    let mut client = EchoClient::new(
        tonic::transport::Channel::from_shared(format!("http://{addr}"))
            .expect("uri")
            .connect()
            .await
            .expect("connect"),
    );
    let mut req = Request::new(EchoRequest {
        delay_ms: callbacks,
        ..EchoRequest::default()
    });
    for (k, v) in metadata {
        let key: MetadataKey<_> = k.parse().expect("key");
        let value: MetadataValue<_> = v.parse().expect("value");
        req.metadata_mut().append(key, value);
    }
    let reply = within(10, client.say(req)).await.expect("ok").into_inner();
    reply
        .message
        .split("\n--\n")
        .map(|one| {
            let mut cb = Callback {
                traceparent: Vec::new(),
                tracestate: Vec::new(),
            };
            for line in one.lines() {
                if let Some(v) = line.strip_prefix("traceparent: ") {
                    cb.traceparent.push(v.to_owned());
                } else if let Some(v) = line.strip_prefix("tracestate: ") {
                    for m in v.split(',').map(|m| m.trim_matches([' ', '\t'])) {
                        if let Some((k, v)) = m.split_once('=')
                            && !cb.tracestate.iter().any(|(have, _)| have == k)
                        {
                            cb.tracestate.push((k.to_owned(), v.to_owned()));
                        }
                    }
                }
            }
            cb
        })
        .collect()
}

async fn one(addr: SocketAddr, metadata: &[(&str, &str)]) -> Callback {
    calls(addr, metadata, 1).await.remove(0)
}

const T: &str = "12345678901234567890123456789012";
const TP: &str = "00-12345678901234567890123456789012-1234567890123456-01";
const TP00: &str = "00-12345678901234567890123456789012-1234567890123456-00";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traceparent_cases_of_the_suite_hold_over_grpc_metadata() {
    let svc = service().await;
    // both_traceparent_and_tracestate_missing: a new, valid traceparent.
    one(svc, &[]).await.parent();
    // traceparent_included_tracestate_missing
    let cb = one(svc, &[("traceparent", TP)]).await;
    assert_eq!(cb.trace_id(), T);
    assert_ne!(cb.parent().1, "1234567890123456");
    // traceparent_duplicated
    let cb = one(
        svc,
        &[
            (
                "traceparent",
                "00-12345678901234567890123456789011-1234567890123456-01",
            ),
            ("traceparent", TP),
        ],
    )
    .await;
    assert_ne!(cb.trace_id(), "12345678901234567890123456789011");
    assert_ne!(cb.trace_id(), T);
    // traceparent_header_name
    for name in ["trace-parent", "trace.parent"] {
        assert_ne!(one(svc, &[(name, TP)]).await.trace_id(), T, "{name}");
    }
    // version_0xcc: continued, with future fields after a `-` only.
    for ok in [
        "cc-12345678901234567890123456789012-1234567890123456-01",
        "cc-12345678901234567890123456789012-1234567890123456-01-what-the-future-will-be-like",
    ] {
        assert_eq!(one(svc, &[("traceparent", ok)]).await.trace_id(), T, "{ok}");
    }
    // Every malformed form restarts the trace: version_0x00, 0xcc with a `.`, 0xff,
    // illegal characters, too long, too short, all-zero ids, flags.
    for bad in [
        "00-12345678901234567890123456789012-1234567890123456-01.",
        "00-12345678901234567890123456789012-1234567890123456-01-what-the-future-will-be-like",
        "cc-12345678901234567890123456789012-1234567890123456-01.what-the-future-will-be-like",
        "ff-12345678901234567890123456789012-1234567890123456-01",
        ".0-12345678901234567890123456789012-1234567890123456-01",
        "0.-12345678901234567890123456789012-1234567890123456-01",
        "000-12345678901234567890123456789012-1234567890123456-01",
        "0000-12345678901234567890123456789012-1234567890123456-01",
        "0-12345678901234567890123456789012-1234567890123456-01",
        "00-12345678901234567890123456789012-0000000000000000-01",
        "00-12345678901234567890123456789012-.234567890123456-01",
        "00-12345678901234567890123456789012-123456789012345.-01",
        "00-12345678901234567890123456789012-12345678901234567-01",
        "00-12345678901234567890123456789012-123456789012345-01",
        "00-12345678901234567890123456789012-1234567890123456-.0",
        "00-12345678901234567890123456789012-1234567890123456-0.",
        "00-12345678901234567890123456789012-1234567890123456-001",
        "00-12345678901234567890123456789012-1234567890123456-1",
    ] {
        assert_ne!(
            one(svc, &[("traceparent", bad)]).await.trace_id(),
            T,
            "{bad}"
        );
    }
    for (bad, id) in [
        (
            "00-00000000000000000000000000000000-1234567890123456-01",
            "00000000000000000000000000000000",
        ),
        (
            "00-.2345678901234567890123456789012-1234567890123456-01",
            ".2345678901234567890123456789012",
        ),
        (
            "00-1234567890123456789012345678901.-1234567890123456-01",
            "1234567890123456789012345678901.",
        ),
        (
            "00-123456789012345678901234567890123-1234567890123456-01",
            "123456789012345678901234567890123",
        ),
        (
            "00-123456789012345678901234567890123-1234567890123456-01",
            T,
        ),
        (
            "00-123456789012345678901234567890123-1234567890123456-01",
            "23456789012345678901234567890123",
        ),
        (
            "00-1234567890123456789012345678901-1234567890123456-01",
            "1234567890123456789012345678901",
        ),
    ] {
        assert_ne!(
            one(svc, &[("traceparent", bad)]).await.trace_id(),
            id,
            "{bad}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracestate_cases_of_the_suite_hold_over_grpc_metadata() {
    let svc = service().await;
    // tracestate_included_traceparent_missing: discarded.
    let a = one(svc, &[("tracestate", "foo=1")]).await;
    let b = one(svc, &[("tracestate", "foo=1,bar=2")]).await;
    assert_eq!(a.tracestate.len(), b.tracestate.len());
    // tracestate_included_traceparent_included
    let cb = one(svc, &[("traceparent", TP00), ("tracestate", "foo=1,bar=2")]).await;
    assert_eq!(cb.trace_id(), T);
    assert_eq!((cb.state("foo"), cb.state("bar")), (Some("1"), Some("2")));
    // tracestate_header_name
    for name in ["trace-state", "trace.state"] {
        assert_eq!(
            one(svc, &[("traceparent", TP00), (name, "foo=1")])
                .await
                .state("foo"),
            None
        );
    }
    // tracestate_empty_header
    let cb = one(svc, &[("traceparent", TP00), ("tracestate", "")]).await;
    assert_eq!(cb.trace_id(), T);
    for order in [
        [("tracestate", "foo=1"), ("tracestate", "")],
        [("tracestate", ""), ("tracestate", "foo=1")],
    ] {
        let mut md = vec![("traceparent", TP00)];
        md.extend(order);
        assert_eq!(one(svc, &md).await.state("foo"), Some("1"));
    }
    // tracestate_multiple_headers_different_keys: combined, in order.
    let cb = one(
        svc,
        &[
            ("traceparent", TP00),
            ("tracestate", "foo=1,bar=2"),
            ("tracestate", "rojo=1,congo=2"),
            ("tracestate", "baz=3"),
        ],
    )
    .await;
    assert_eq!(cb.state_string(), "foo=1,bar=2,rojo=1,congo=2,baz=3");
    // tracestate_duplicated_keys: kept once.
    for md in [
        vec![("tracestate", "foo=1,foo=1")],
        vec![("tracestate", "foo=1,foo=2")],
        vec![("tracestate", "foo=1"), ("tracestate", "foo=1")],
        vec![("tracestate", "foo=1"), ("tracestate", "foo=2")],
    ] {
        let mut all = vec![("traceparent", TP00)];
        all.extend(md);
        let cb = one(svc, &all).await;
        assert_eq!(cb.trace_id(), T);
        assert!(matches!(cb.state("foo"), Some("1" | "2")), "{cb:?}");
    }
    // tracestate_all_allowed_characters
    let key = "abcdefghijklmnopqrstuvwxyz0123456789_-*/";
    let value: String = (0x20u8..=0x7e)
        .filter(|c| *c != b',' && *c != b'=')
        .map(char::from)
        .collect();
    for key in [key.to_owned(), format!("{key}@a-z0-9_-*/")] {
        let cb = one(
            svc,
            &[
                ("traceparent", TP00),
                ("tracestate", &format!("{key}={value}")),
            ],
        )
        .await;
        assert_eq!(cb.state(&key), Some(value.as_str()));
    }
    // tracestate_ows_handling
    for v in [
        "foo=1 \t , \t bar=2, \t baz=3",
        "foo=1\t \t,\t \tbar=2,\t \tbaz=3",
    ] {
        let cb = one(svc, &[("traceparent", TP00), ("tracestate", v)]).await;
        assert_eq!(cb.state_string(), "foo=1,bar=2,baz=3");
    }
    // Illegal keys and values, and a 33rd member: the whole list is discarded.
    let m = |n: usize| {
        (1..=n)
            .map(|i| format!("bar{i:02}={i:02}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    for bad in [
        "foo =1",
        "FOO=1",
        "foo.bar=1",
        "@foo=1,bar=2",
        "foo=bar=baz",
        "foo=,bar=3",
    ] {
        let cb = one(svc, &[("traceparent", TP00), ("tracestate", bad)]).await;
        assert!(cb.tracestate.is_empty(), "{bad}: {cb:?}");
    }
    let cb = one(
        svc,
        &[
            ("traceparent", TP00),
            ("tracestate", &m(20)),
            ("tracestate", &m(32)[m(20).len() + 1..]),
        ],
    )
    .await;
    assert_eq!(cb.tracestate.len(), 32);
    let cb = one(
        svc,
        &[
            ("traceparent", TP00),
            ("tracestate", &m(20)),
            ("tracestate", &m(33)[m(20).len() + 1..]),
        ],
    )
    .await;
    assert!(cb.tracestate.is_empty());
    // tracestate_key_illegal_vendor_format and key_length_limit: Level 2 keys travel.
    for key in ["foo@", "foo@@bar", "foo@bar@baz"] {
        let cb = one(
            svc,
            &[
                ("traceparent", TP00),
                ("tracestate", &format!("{key}=1,bar=2")),
            ],
        )
        .await;
        assert_eq!(
            (cb.state(key), cb.state("bar")),
            (Some("1"), Some("2")),
            "{key}"
        );
    }
    for key in [
        "z".repeat(256),
        format!("{}@{}", "t".repeat(241), "v".repeat(14)),
        format!("{}@v", "t".repeat(242)),
        format!("t@{}", "v".repeat(15)),
    ] {
        let cb = one(
            svc,
            &[
                ("traceparent", TP00),
                ("tracestate", "foo=1"),
                ("tracestate", &format!("{key}=1")),
            ],
        )
        .await;
        assert_eq!(
            (cb.state("foo"), cb.state(&key)),
            (Some("1"), Some("1")),
            "{key}"
        );
    }
    let long = format!("{}=1", "z".repeat(257));
    let cb = one(
        svc,
        &[
            ("traceparent", TP00),
            ("tracestate", "foo=1"),
            ("tracestate", &long),
        ],
    )
    .await;
    assert_eq!(cb.state("foo"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advanced_and_level_2_cases_of_the_suite_hold_over_grpc_metadata() {
    let svc = service().await;
    // multiple_requests_with_valid_traceparent: one trace, three parents.
    let cbs = calls(svc, &[("traceparent", TP)], 3).await;
    let parents: std::collections::HashSet<_> = cbs.iter().map(|c| c.parent().1).collect();
    assert!(cbs.iter().all(|c| c.trace_id() == T));
    assert_eq!(parents.len(), 3);
    // multiple_requests_without_traceparent
    let cbs = calls(svc, &[], 3).await;
    let parents: std::collections::HashSet<_> = cbs.iter().map(|c| c.parent().1).collect();
    assert_eq!(parents.len(), 3);
    // multiple_requests_with_illegal_traceparent
    let cbs = calls(
        svc,
        &[(
            "traceparent",
            "00-00000000000000000000000000000000-1234567890123456-01",
        )],
        3,
    )
    .await;
    assert!(
        cbs.iter()
            .all(|c| c.trace_id() != "00000000000000000000000000000000")
    );
    // propagates_random_flag (Level 2), with a span the sampler keeps and one it drops.
    for flags in ["02", "03"] {
        let cb = one(
            svc,
            &[("traceparent", &format!("00-{T}-1234567890123456-{flags}"))],
        )
        .await;
        let (trace, parent, got) = cb.parent();
        assert_eq!(trace, T);
        assert_ne!(parent, "1234567890123456");
        assert_eq!(got & 0x02, 0x02, "random flag kept for {flags}");
    }
}
