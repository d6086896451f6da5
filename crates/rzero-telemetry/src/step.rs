//! One step of a request as a span of its own, as the guide draws a CreateOrder:
//! ValidateUser, ValidateProduct, InsertOrder, UpdateCache, each a child of the server
//! span, with the calls made inside it (an RPC, a query) under it.
//!
//! go-zero code writes `ctx, span := tracer.Start(ctx, "ValidateUser"); defer span.End()`
//! and records the error by hand; here the step's result does that: an `Err` marks the
//! span with status Error (the error's message) and `error.type` (from `kind`), so an
//! error is on the span that failed.

use std::future::Future;

use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracer;
use opentelemetry_semantic_conventions::attribute::ERROR_TYPE;

/// Runs `work` inside a span `name`, child of the current context; its own spans nest
/// under it. A failure is recorded on the step's span with `error.type` = `kind(&err)`.
pub async fn step<T, E, F>(
    tracer: &SdkTracer,
    name: &'static str,
    kind: impl FnOnce(&E) -> &'static str,
    work: F,
) -> Result<T, E>
where
    F: Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let parent = Context::current();
    let span = tracer.start_with_context(name, &parent);
    let cx = parent.with_span(span);
    let out = work.with_context(cx.clone()).await;
    let span = cx.span();
    if let Err(e) = &out {
        span.set_attribute(KeyValue::new(ERROR_TYPE, kind(e)));
        span.set_status(Status::error(e.to_string()));
    }
    span.end();
    out
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

    use super::*;

    #[tokio::test]
    async fn steps_nest_and_failures_are_on_the_step_that_failed() {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let tracer = provider.tracer("t");
        let outer: Result<(), String> = step(&tracer, "CreateOrder", |_| "outer", async {
            let ok: Result<u8, String> =
                step(&tracer, "ValidateUser", |_| "rpc", async { Ok(1) }).await;
            assert_eq!(ok, Ok(1));
            step(&tracer, "InsertOrder", |_| "database", async {
                Err::<(), _>("database unavailable".to_owned())
            })
            .await
        })
        .await;
        assert!(outer.is_err());
        let spans = exporter.get_finished_spans().expect("spans");
        let by = |n: &str| spans.iter().find(|s| s.name == n).expect(n).clone();
        let (root, user, insert) = (by("CreateOrder"), by("ValidateUser"), by("InsertOrder"));
        assert_eq!(user.parent_span_id, root.span_context.span_id());
        assert_eq!(insert.parent_span_id, root.span_context.span_id());
        assert_eq!(user.status, Status::Unset);
        assert_eq!(insert.status, Status::error("database unavailable"));
        let et = |s: &opentelemetry_sdk::trace::SpanData| {
            s.attributes
                .iter()
                .find(|kv| kv.key.as_str() == ERROR_TYPE)
                .map(|kv| kv.value.to_string())
        };
        assert_eq!(et(&insert).as_deref(), Some("database"));
        assert_eq!(et(&user), None);
    }
}
