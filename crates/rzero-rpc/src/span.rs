//! What the server and client trace layers share: the span of a call named and tagged
//! after its path, and ended with its gRPC status.

use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracer;
use tonic::Code;

use crate::body::OnEnd;
use crate::duration::MethodAttributes;
use crate::names;
use crate::status::is_server_failure;

/// `parent` with the span of a call to `method` started under it: named after the path,
/// of `kind`, with [`call_attributes`] plus what `extra` pushes (two at most, the room
/// made for them), given at the start or once sampled as `defer` says (see
/// [`rzero_telemetry::start_span`]). The client and server layers start theirs here.
pub(crate) fn start(
    tracer: &SdkTracer,
    method: &MethodAttributes,
    kind: SpanKind,
    parent: Context,
    defer: bool,
    extra: impl FnOnce(&mut Vec<KeyValue>),
) -> Context {
    let builder = tracer
        .span_builder(method.span_name.clone())
        .with_kind(kind);
    let span = rzero_telemetry::start_span(tracer, builder, &parent, defer, || {
        let mut attributes = call_attributes(method, 2);
        extra(&mut attributes);
        attributes
    });
    parent.with_span(span)
}

/// The start attributes of a call to `method`: `rpc.system`, `rpc.service`,
/// `rpc.method` (built once per method, then cloned: the values are shared strings),
/// with room for `extra` more.
fn call_attributes(method: &MethodAttributes, extra: usize) -> Vec<KeyValue> {
    // Room for what the end adds (status code, error type): growing the vector then
    // would reallocate and copy it on every call.
    let mut attributes = Vec::with_capacity(method.base.len() + extra + 2);
    attributes.extend(method.base.iter().cloned());
    attributes
}

/// Ends the span of `cx` with the call's code. A server span fails on server failures
/// only (a NOT_FOUND is a good answer); a client span on any code but OK.
pub struct SpanEnd {
    pub(crate) cx: Context,
    pub(crate) server: bool,
}

impl OnEnd for SpanEnd {
    fn on_end(self, code: Option<Code>) {
        let span = self.cx.span();
        match code {
            Some(code) => {
                span.set_attribute(KeyValue::new(names::RPC_GRPC_STATUS_CODE, code as i64));
                let failed = if self.server {
                    is_server_failure(code)
                } else {
                    code != Code::Ok
                };
                if failed {
                    span.set_attribute(KeyValue::new(names::ERROR_TYPE, format!("{code:?}")));
                    span.set_status(Status::error(code.description()));
                }
            }
            None => {
                span.set_attribute(KeyValue::new(names::ERROR_TYPE, "cancelled"));
                span.set_status(Status::error("the call was cancelled before it ended"));
            }
        }
        span.end();
    }

    fn context(&self) -> Option<&Context> {
        self.server.then_some(&self.cx)
    }
}
