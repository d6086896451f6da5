//! Logs: the `tracing` crate's events, written to stdout (JSON or plain) and, when an
//! endpoint is configured, exported as OTLP log records. Both carry the `trace_id` and
//! `span_id` of the span that is current when the event fires, whether that span was made
//! with the `opentelemetry` API or with `tracing`.

use std::fmt::Write as _;
use std::io::Write as _;

use opentelemetry::trace::TraceContextExt;
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{LogConf, LogEncoding};

/// Crates whose own logs must not be exported over OTLP: they are the exporter, and
/// exporting their logs would log the export of the logs, forever.
const EXPORT_LOOP_TARGETS: &[&str] = &[
    "opentelemetry",
    "opentelemetry_sdk",
    "opentelemetry_otlp",
    "tonic",
    "h2",
    "hyper",
    "hyper_util",
    "reqwest",
    "tower",
    crate::exporter::spans::LOG_TARGET,
];

/// Whether `target` is one of [`EXPORT_LOOP_TARGETS`] or a module of one.
fn is_export_loop(target: &str) -> bool {
    EXPORT_LOOP_TARGETS.iter().any(|crate_name| {
        target
            .strip_prefix(crate_name)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    })
}

/// The OTLP log bridge minus the exporter's own events ([`EXPORT_LOOP_TARGETS`]).
///
/// A check in `on_event` rather than a per-layer filter: a per-layer filter turns every
/// callsite's interest into "sometimes", and the global level filter is then evaluated,
/// target string by target string, on every event and span of every crate, enabled or
/// not (measured: 14% of a gRPC service's CPU under load).
pub(crate) struct ExportLoopGuard<L>(pub(crate) L);

impl<S, L> Layer<S> for ExportLoopGuard<L>
where
    S: tracing::Subscriber,
    L: Layer<S>,
{
    fn on_layer(&mut self, subscriber: &mut S) {
        self.0.on_layer(subscriber);
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        if !is_export_loop(event.metadata().target()) {
            self.0.on_event(event, ctx);
        }
    }
}

/// The level filter: `RUST_LOG` when set, else the config's `Level`. A filter that does
/// not parse falls back to `info` with a warning: bad logging config is no reason to run
/// blind.
pub(crate) fn filter(conf: &LogConf, rust_log: Option<String>) -> (EnvFilter, Option<String>) {
    let wanted = rust_log.unwrap_or_else(|| conf.level.clone());
    // Our own dependencies are chatty at debug; keep them at warn unless asked for by name.
    let directives = format!("warn,{wanted},h2=warn,hyper=warn,tower=warn");
    match EnvFilter::try_new(&directives) {
        Ok(filter) => (filter, None),
        Err(e) => (
            EnvFilter::new("info"),
            Some(format!(
                "log level `{wanted}` ignored ({e}): logging at info"
            )),
        ),
    }
}

/// Writes one line per event to stdout.
pub(crate) struct StdoutLayer {
    encoding: LogEncoding,
}

impl StdoutLayer {
    pub(crate) fn new(encoding: LogEncoding) -> Self {
        StdoutLayer { encoding }
    }
}

impl<S> Layer<S> for StdoutLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let line = format_event(self.encoding, event);
        // One write per line, so concurrent lines never interleave; a closed stdout is not
        // a reason to fail a request.
        let _ = std::io::stdout().lock().write_all(line.as_bytes());
    }
}

/// The ids of the current OpenTelemetry span, if there is a valid one.
pub fn current_trace_ids() -> Option<(String, String)> {
    opentelemetry::Context::map_current(|cx| {
        let span = cx.span();
        let sc = span.span_context();
        sc.is_valid()
            .then(|| (sc.trace_id().to_string(), sc.span_id().to_string()))
    })
}

pub(crate) fn format_event(encoding: LogEncoding, event: &Event<'_>) -> String {
    let meta = event.metadata();
    let mut time = String::new();
    let _ = SystemTime.format_time(&mut Writer::new(&mut time));
    let mut fields = FieldMap::default();
    event.record(&mut fields);
    let ids = current_trace_ids();
    match encoding {
        LogEncoding::Json => {
            let mut obj = Map::new();
            obj.insert("@timestamp".into(), Value::String(time));
            obj.insert(
                "level".into(),
                Value::String(meta.level().as_str().to_lowercase()),
            );
            obj.insert("target".into(), Value::String(meta.target().to_owned()));
            obj.insert("content".into(), Value::String(fields.message));
            for (k, v) in fields.values {
                obj.insert(k, v);
            }
            if let Some((trace_id, span_id)) = ids {
                obj.insert("trace_id".into(), Value::String(trace_id));
                obj.insert("span_id".into(), Value::String(span_id));
            }
            let mut line = Value::Object(obj).to_string();
            line.push('\n');
            line
        }
        LogEncoding::Plain => {
            let mut line = format!(
                "{time} {:>5} {}: {}",
                meta.level(),
                meta.target(),
                fields.message
            );
            for (k, v) in fields.values {
                let _ = write!(line, " {k}={v}");
            }
            if let Some((trace_id, span_id)) = ids {
                let _ = write!(line, " trace_id={trace_id} span_id={span_id}");
            }
            line.push('\n');
            line
        }
    }
}

/// The fields of one event: `message` apart, the rest as JSON values.
#[derive(Default)]
struct FieldMap {
    message: String,
    values: Vec<(String, Value)>,
}

impl Visit for FieldMap {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::String(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
}

impl FieldMap {
    fn put(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.message = match value {
                Value::String(s) => s,
                other => other.to_string(),
            };
        } else {
            self.values.push((field.name().to_owned(), value));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    /// Formats events like [`StdoutLayer`] but keeps the lines.
    struct Capture(LogEncoding, Arc<Mutex<Vec<String>>>);

    impl<S: Subscriber> Layer<S> for Capture {
        fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
            if let Ok(mut lines) = self.1.lock() {
                lines.push(format_event(self.0, event));
            }
        }
    }

    fn capture(encoding: LogEncoding, f: impl FnOnce()) -> Vec<String> {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry().with(Capture(encoding, lines.clone()));
        tracing::subscriber::with_default(subscriber, f);
        lines.lock().map(|l| l.clone()).unwrap_or_default()
    }

    fn in_span(f: impl FnOnce()) {
        let sc = SpanContext::new(
            TraceId::from(0x4bf92f3577b34da6a3ce929d0e0e4736_u128),
            SpanId::from(0x00f067aa0ba902b7_u64),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        );
        let _guard = opentelemetry::Context::new()
            .with_remote_span_context(sc)
            .attach();
        f();
    }

    #[test]
    fn the_exporters_own_crates_are_kept_out_of_the_otlp_logs() {
        assert!(is_export_loop("h2"));
        assert!(is_export_loop("h2::codec"));
        assert!(is_export_loop("opentelemetry_sdk::trace"));
        assert!(!is_export_loop("h2o"));
        assert!(!is_export_loop("order_rpc::logic"));
        assert!(!is_export_loop("rzero::access"));
    }

    #[test]
    fn json_lines_carry_trace_and_span_ids_inside_a_span() {
        let lines = capture(LogEncoding::Json, || {
            in_span(|| tracing::info!(order_id = 42, "created"));
            tracing::warn!("outside");
        });
        let inside: Value = serde_json::from_str(&lines[0]).expect("json");
        assert_eq!(inside["content"], "created");
        assert_eq!(inside["level"], "info");
        assert_eq!(inside["order_id"], 42);
        assert_eq!(inside["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(inside["span_id"], "00f067aa0ba902b7");
        let outside: Value = serde_json::from_str(&lines[1]).expect("json");
        assert!(outside.get("trace_id").is_none());
    }

    #[test]
    fn plain_lines_end_with_the_ids() {
        let lines = capture(LogEncoding::Plain, || {
            in_span(|| tracing::error!(code = 7, "failed"))
        });
        assert!(lines[0].contains("ERROR"), "{}", lines[0]);
        assert!(
            lines[0].ends_with(
                "failed code=7 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7\n"
            ),
            "{}",
            lines[0]
        );
    }

    #[test]
    fn a_bad_level_falls_back_instead_of_failing() {
        let conf = LogConf {
            level: "info,[[[".into(),
            ..LogConf::default()
        };
        // An unparsable filter is not a reason to run without logs, nor to panic.
        let (_, warning) = filter(&conf, None);
        assert!(warning.is_some_and(|w| w.contains("logging at info")));
        let (_, none) = filter(&LogConf::default(), Some("debug,sqlx=warn".into()));
        assert!(none.is_none());
    }
}
