//! What the server and client trace layers share: the span of a call named and tagged
//! after its path, and ended with its gRPC status.

use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry::{Context, KeyValue};
use tonic::Code;

use crate::body::OnEnd;
use crate::duration::MethodAttributes;
use crate::names;
use crate::status::is_server_failure;

/// The start attributes of a call to `method`: `rpc.system`, `rpc.service`,
/// `rpc.method` (built once per method, then cloned: the values are shared strings),
/// with room for `extra` more.
pub(crate) fn call_attributes(method: &MethodAttributes, extra: usize) -> Vec<KeyValue> {
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
