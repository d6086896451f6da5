//! What the store keeps and answers with: plain, serializable values with hex ids.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Attributes as a map of key to JSON value (strings, numbers, booleans, arrays, maps).
pub type Attributes = BTreeMap<String, Value>;

/// One span as received.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredSpan {
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// 16 hex digits, or `None` for a root.
    pub parent_span_id: Option<String>,
    /// The operation name.
    pub name: String,
    /// `Server`, `Client`, `Internal`, `Producer`, `Consumer` or `Unspecified`.
    pub kind: String,
    /// Start, Unix nanoseconds.
    pub start_unix_nanos: u64,
    /// End, Unix nanoseconds.
    pub end_unix_nanos: u64,
    /// The span's attributes.
    pub attributes: Attributes,
    /// The span's events.
    pub events: Vec<SpanEvent>,
    /// Links to other spans (a batch's inputs, a message's producer).
    #[serde(default)]
    pub links: Vec<SpanLink>,
    /// `Unset`, `Ok` or `Error`.
    pub status_code: String,
    /// The status description (set with `Error`).
    pub status_message: String,
    /// The resource of the sender, shared by the spans of one trace that have the same
    /// one. Not in the JSON: a [`Trace`] lists its resources once, in `resources`.
    #[serde(skip)]
    pub resource: Arc<Attributes>,
    /// Index of this span's resource in its [`Trace`]'s `resources`.
    pub resource_index: usize,
    /// The instrumentation scope's name.
    pub scope: String,
    /// `service.name` of the resource.
    pub service: String,
}

impl StoredSpan {
    /// Duration in nanoseconds (0 if the clock went backwards).
    pub fn duration_nanos(&self) -> u64 {
        self.end_unix_nanos.saturating_sub(self.start_unix_nanos)
    }

    /// Whether the span failed.
    pub fn is_error(&self) -> bool {
        self.status_code == "Error"
    }

    /// Whether the span is where a call enters its service (SERVER, CONSUMER, or a
    /// root): what the RED charts count.
    pub fn is_entry(&self) -> bool {
        matches!(self.kind.as_str(), "Server" | "Consumer") || self.parent_span_id.is_none()
    }

    /// Heap and inline bytes this span holds, the resource aside (counted once per
    /// trace, see [`resource_bytes`]).
    pub(crate) fn approx_bytes(&self) -> usize {
        let attrs = attributes_bytes;
        std::mem::size_of::<Self>()
            + self.trace_id.len()
            + self.span_id.len()
            + self.parent_span_id.as_ref().map_or(0, String::len)
            + self.kind.len()
            + self.status_code.len()
            + self.name.len()
            + self.status_message.len()
            + self.scope.len()
            + self.service.len()
            + attrs(&self.attributes)
            + self
                .events
                .iter()
                .map(|e| e.name.len() + attrs(&e.attributes) + 64)
                .sum::<usize>()
            + self
                .links
                .iter()
                .map(|l| l.trace_id.len() + l.span_id.len() + attrs(&l.attributes) + 72)
                .sum::<usize>()
    }
}

/// Bytes a resource holds: its map, and the `Arc` around it.
pub(crate) fn resource_bytes(r: &Attributes) -> usize {
    attributes_bytes(r) + 64
}

/// Heap bytes of an attribute map, counting a B-tree entry's overhead as 48 bytes.
pub(crate) fn attributes_bytes(a: &Attributes) -> usize {
    a.iter().map(|(k, v)| k.len() + value_bytes(v) + 48).sum()
}

fn value_bytes(v: &Value) -> usize {
    match v {
        Value::String(s) => s.len() + 24,
        Value::Array(a) => a.iter().map(value_bytes).sum::<usize>() + 24,
        Value::Object(o) => {
            o.iter()
                .map(|(k, v)| k.len() + value_bytes(v))
                .sum::<usize>()
                + 48
        }
        _ => 16,
    }
}

/// A link from a span to another span, of this trace or another.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SpanLink {
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// The link's attributes.
    pub attributes: Attributes,
}

/// An event on a span.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SpanEvent {
    /// Event name, e.g. `exception`.
    pub name: String,
    /// When, Unix nanoseconds.
    pub time_unix_nanos: u64,
    /// The event's attributes.
    pub attributes: Attributes,
}

/// All stored spans of one trace.
#[derive(Clone, Debug, Serialize)]
pub struct Trace {
    /// 32 hex digits.
    pub trace_id: String,
    /// The spans, parents before children where the parent is known, then by start.
    pub spans: Vec<StoredSpan>,
    /// The distinct resources of the spans, each once (a span names its own by
    /// `resource_index`), rather than a copy in every span.
    pub resources: Vec<Arc<Attributes>>,
}

/// One line of the trace list.
#[derive(Clone, Debug, Serialize)]
pub struct TraceSummary {
    /// 32 hex digits.
    pub trace_id: String,
    /// Service of the root span (or of the earliest span while the root is missing).
    pub root_service: String,
    /// Name of that span.
    pub root_operation: String,
    /// Earliest start, Unix nanoseconds.
    pub start_unix_nanos: u64,
    /// Latest end minus earliest start.
    pub duration_nanos: u64,
    /// Number of spans stored.
    pub span_count: usize,
    /// Whether any span has status Error.
    pub error: bool,
    /// The services taking part.
    pub services: Vec<String>,
}

/// Filters of the trace list.
#[derive(Clone, Debug, Default)]
pub struct TraceQuery {
    /// Only traces with a span of this service.
    pub service: Option<String>,
    /// Only traces with a span of this name (of `service` if given). With an operation,
    /// the error, duration and start bounds below are that span's, all met by one span
    /// (as Jaeger searches), so that a RED chart's bucket lists exactly the calls it
    /// counted; without one, they are the whole trace's.
    pub operation: Option<String>,
    /// Only traces with an error (the operation's span failed, with an operation).
    pub errors_only: bool,
    /// With an operation, only its entry spans count (see [`StoredSpan::is_entry`]): the
    /// calls a RED chart counted, not client spans of the same name.
    pub entry_only: bool,
    /// Only traces (or operation spans) at least this long.
    pub min_duration_nanos: Option<u64>,
    /// Only traces (or operation spans) at most this long.
    pub max_duration_nanos: Option<u64>,
    /// Only traces (or operation spans) that started at or after this (Unix nanoseconds).
    pub start_after_nanos: Option<u64>,
    /// Only traces (or operation spans) that started before this (Unix nanoseconds;
    /// exclusive, so that consecutive windows tile).
    pub start_before_nanos: Option<u64>,
    /// Only traces with a span whose attribute (or resource attribute) `key` has the
    /// text `value`.
    pub attribute: Option<(String, String)>,
    /// At most this many, newest first (default 100).
    pub limit: Option<usize>,
}

/// A log record as received.
#[derive(Clone, Debug, Serialize)]
pub struct LogRecord {
    /// When, Unix nanoseconds (observed time if the record had none).
    pub time_unix_nanos: u64,
    /// `INFO`, `ERROR`, ... as sent, or derived from the number.
    pub severity: String,
    /// The body, as text.
    pub body: String,
    /// 32 hex digits, empty when outside a trace.
    pub trace_id: String,
    /// 16 hex digits, empty when outside a span.
    pub span_id: String,
    /// The record's attributes.
    pub attributes: Attributes,
    /// `service.name` of the resource.
    pub service: String,
}

impl LogRecord {
    pub(crate) fn approx_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.severity.len()
            + self.body.len()
            + self.trace_id.len()
            + self.span_id.len()
            + self.service.len()
            + attributes_bytes(&self.attributes)
    }
}

/// What is known of a metric.
#[derive(Clone, Debug, Serialize)]
pub struct MetricInfo {
    /// Instrument name.
    pub name: String,
    /// `sum`, `gauge`, `histogram`, `exponential_histogram` or `summary`.
    pub kind: String,
    /// Unit, as sent.
    pub unit: String,
    /// Services that sent it.
    pub services: Vec<String>,
    /// Data points received in all.
    pub points: u64,
    /// The latest point of the latest export.
    pub last_point: Option<MetricPoint>,
}

/// One data point of a metric.
#[derive(Clone, Debug, Serialize)]
pub struct MetricPoint {
    /// When, Unix nanoseconds.
    pub time_unix_nanos: u64,
    /// A number for sums and gauges; `{count, sum, min, max}` for histograms and
    /// `{count, sum}` for summaries.
    pub value: Value,
    /// The point's attributes (at most 32, values cut to 256 bytes).
    pub attributes: Attributes,
    /// `service.name` of the sender.
    pub service: String,
}
