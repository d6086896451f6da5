//! A cheap pre-scan of an OTLP request, before it is decoded: how many spans, attributes,
//! events, log records and data points it holds, and how many bytes its decoded form
//! will take.
//!
//! Why: the body limit bounds what was *sent*, not what decoding makes of it. An empty
//! span is 2 bytes on the wire and a ~260-byte struct once decoded, so 7 KiB of gzip
//! (8 MB inflated, under the body limit) decodes to four million spans and a gigabyte.
//! The scan walks the protobuf wire format without allocating, using the OTLP schema
//! (which field of which message is a message), and sums the sizes of the structs prost
//! would build plus the bytes of their strings. JSON gets a coarser bound (every object
//! as the largest struct). Hand-written because no crate estimates a prost decode; the
//! wire format it reads is five cases.

use std::mem::size_of;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, EntityRef, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogramDataPoint, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, SummaryDataPoint, summary_data_point::ValueAtQuantile,
};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span};

/// Prost refuses messages nested deeper than this; the scan does too.
const MAX_DEPTH: u32 = 100;

/// What a request holds once decoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Scan {
    /// Spans, log records or metric data points.
    pub(crate) items: u64,
    /// Attributes (key-value pairs) at any level.
    pub(crate) attributes: u64,
    /// Span events and links.
    pub(crate) events: u64,
    /// Estimated heap and inline bytes of the decoded request.
    pub(crate) decoded_bytes: u64,
}

/// Which signal a body is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signal {
    Traces,
    Metrics,
    Logs,
}

/// The OTLP messages whose fields the scan follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Msg {
    TraceRequest,
    ResourceSpans,
    Resource,
    ScopeSpans,
    Scope,
    Span,
    Event,
    Link,
    KeyValue,
    AnyValue,
    ArrayValue,
    KvList,
    EntityRef,
    LogsRequest,
    ResourceLogs,
    ScopeLogs,
    LogRecord,
    MetricsRequest,
    ResourceMetrics,
    ScopeMetrics,
    Metric,
    /// Gauge, Sum, Histogram, ExponentialHistogram and Summary: field 1 is the points.
    Points(PointKind),
    Point(PointKind),
    Buckets,
    Quantile,
    Exemplar,
    /// A message with only scalar and string fields (Status).
    Leaf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PointKind {
    Number,
    Histogram,
    Exponential,
    Summary,
}

/// For a length-delimited `field` of `msg`: the message it holds and whether it is a
/// repeated field (each element is a struct of its own in a `Vec`) or an inline one
/// (an `Option` or oneof already counted in its parent's size). `None`: bytes or string.
fn child(msg: Msg, field: u32) -> Option<(Msg, bool)> {
    use Msg::*;
    let kv = Some((KeyValue, true));
    match (msg, field) {
        (TraceRequest, 1) => Some((ResourceSpans, true)),
        (ResourceSpans, 1) | (ResourceLogs, 1) | (ResourceMetrics, 1) => Some((Resource, false)),
        (ResourceSpans, 2) => Some((ScopeSpans, true)),
        (Resource, 1) => kv,
        (Resource, 3) => Some((EntityRef, true)),
        (ScopeSpans, 1) | (ScopeLogs, 1) | (ScopeMetrics, 1) => Some((Scope, false)),
        (ScopeSpans, 2) => Some((Span, true)),
        (Scope, 3) => kv,
        (Span, 9) => kv,
        (Span, 11) => Some((Event, true)),
        (Span, 13) => Some((Link, true)),
        (Span, 15) => Some((Leaf, false)),
        (Event, 3) | (Link, 4) => kv,
        (KeyValue, 2) => Some((AnyValue, false)),
        (AnyValue, 5) => Some((ArrayValue, false)),
        (AnyValue, 6) => Some((KvList, false)),
        (ArrayValue, 1) => Some((AnyValue, true)),
        (KvList, 1) => kv,
        (LogsRequest, 1) => Some((ResourceLogs, true)),
        (ResourceLogs, 2) => Some((ScopeLogs, true)),
        (ScopeLogs, 2) => Some((LogRecord, true)),
        (LogRecord, 5) => Some((AnyValue, false)),
        (LogRecord, 6) => kv,
        (MetricsRequest, 1) => Some((ResourceMetrics, true)),
        (ResourceMetrics, 2) => Some((ScopeMetrics, true)),
        (ScopeMetrics, 2) => Some((Metric, true)),
        (Metric, 5) | (Metric, 7) => Some((Points(PointKind::Number), false)),
        (Metric, 9) => Some((Points(PointKind::Histogram), false)),
        (Metric, 10) => Some((Points(PointKind::Exponential), false)),
        (Metric, 11) => Some((Points(PointKind::Summary), false)),
        (Metric, 12) => kv,
        (Points(k), 1) => Some((Point(k), true)),
        (Point(PointKind::Number), 7) => kv,
        (Point(PointKind::Number), 5) => Some((Exemplar, true)),
        (Point(PointKind::Histogram), 9) => kv,
        (Point(PointKind::Histogram), 8) => Some((Exemplar, true)),
        (Point(PointKind::Exponential), 1) => kv,
        (Point(PointKind::Exponential), 8 | 9) => Some((Buckets, false)),
        (Point(PointKind::Exponential), 11) => Some((Exemplar, true)),
        (Point(PointKind::Summary), 7) => kv,
        (Point(PointKind::Summary), 6) => Some((Quantile, true)),
        (Exemplar, 7) => kv,
        _ => None,
    }
}

/// Size of the struct prost builds for one element of `msg`.
fn struct_size(msg: Msg) -> usize {
    use opentelemetry_proto::tonic::logs::v1 as l;
    match msg {
        Msg::TraceRequest => size_of::<ExportTraceServiceRequest>(),
        Msg::LogsRequest => size_of::<ExportLogsServiceRequest>(),
        Msg::MetricsRequest => size_of::<ExportMetricsServiceRequest>(),
        Msg::ResourceSpans => size_of::<ResourceSpans>(),
        Msg::ResourceLogs => size_of::<l::ResourceLogs>(),
        Msg::ResourceMetrics => size_of::<ResourceMetrics>(),
        Msg::ScopeSpans => size_of::<ScopeSpans>(),
        Msg::ScopeLogs => size_of::<l::ScopeLogs>(),
        Msg::ScopeMetrics => size_of::<ScopeMetrics>(),
        Msg::Span => size_of::<Span>(),
        Msg::Event => size_of::<span::Event>(),
        Msg::Link => size_of::<span::Link>(),
        Msg::KeyValue => size_of::<KeyValue>(),
        Msg::AnyValue => size_of::<AnyValue>(),
        Msg::EntityRef => size_of::<EntityRef>(),
        Msg::LogRecord => size_of::<LogRecord>(),
        Msg::Metric => size_of::<Metric>(),
        Msg::Point(PointKind::Number) => size_of::<NumberDataPoint>(),
        Msg::Point(PointKind::Histogram) => size_of::<HistogramDataPoint>(),
        Msg::Point(PointKind::Exponential) => size_of::<ExponentialHistogramDataPoint>(),
        Msg::Point(PointKind::Summary) => size_of::<SummaryDataPoint>(),
        Msg::Quantile => size_of::<ValueAtQuantile>(),
        Msg::Exemplar => size_of::<Exemplar>(),
        // Inline in their parent: counted there.
        Msg::Resource
        | Msg::Scope
        | Msg::ArrayValue
        | Msg::KvList
        | Msg::Points(_)
        | Msg::Buckets
        | Msg::Leaf => 0,
    }
}

/// Why a body could not be scanned: it is not valid protobuf (or too deep).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Malformed(pub(crate) String);

struct Walker<'a> {
    buf: &'a [u8],
    scan: Scan,
}

impl Walker<'_> {
    fn varint(&self, at: &mut usize) -> Result<u64, Malformed> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&b) = self.buf.get(*at) else {
                return Err(Malformed(format!("truncated varint at byte {at}")));
            };
            *at += 1;
            value |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(value);
            }
        }
        Err(Malformed(format!(
            "varint longer than 10 bytes before byte {at}"
        )))
    }

    /// Walks the message `msg` in `self.buf[start..end]`.
    fn message(&mut self, msg: Msg, start: usize, end: usize, depth: u32) -> Result<(), Malformed> {
        if depth > MAX_DEPTH {
            return Err(Malformed(format!(
                "messages nested deeper than {MAX_DEPTH} levels"
            )));
        }
        let mut at = start;
        while at < end {
            let key = self.varint(&mut at)?;
            let field = u32::try_from(key >> 3).unwrap_or(0);
            if field == 0 {
                return Err(Malformed(format!("field number 0 before byte {at}")));
            }
            match key & 7 {
                0 => {
                    self.varint(&mut at)?;
                    // A scalar is inline in its struct, unless it is one element of an
                    // unpacked repeated field: count it as one.
                    self.scan.decoded_bytes += 8;
                }
                1 => at += 8,
                5 => at += 4,
                2 => {
                    let len = self.varint(&mut at)?;
                    let len = usize::try_from(len).unwrap_or(usize::MAX);
                    let inner_end = at.checked_add(len).filter(|e| *e <= end).ok_or_else(|| {
                        Malformed(format!("field {field} runs past the end at byte {at}"))
                    })?;
                    match child(msg, field) {
                        Some((inner, repeated)) => {
                            if repeated {
                                self.scan.decoded_bytes += struct_size(inner) as u64;
                                self.count(inner);
                            }
                            self.message(inner, at, inner_end, depth + 1)?;
                        }
                        // Packed varints (exponential buckets) widen to 8 bytes each.
                        None if msg == Msg::Buckets && field == 2 => {
                            self.scan.decoded_bytes += 8 * len as u64;
                        }
                        // Strings, bytes, packed fixed-width numbers: their own length,
                        // plus a String/Vec header in case it is a repeated one.
                        None => self.scan.decoded_bytes += len as u64 + 24,
                    }
                    at = inner_end;
                }
                other => {
                    return Err(Malformed(format!(
                        "wire type {other} (groups are not OTLP) before byte {at}"
                    )));
                }
            }
            if at > end {
                return Err(Malformed(format!(
                    "a field runs past the end at byte {end}"
                )));
            }
        }
        Ok(())
    }

    fn count(&mut self, msg: Msg) {
        match msg {
            Msg::Span | Msg::LogRecord | Msg::Point(_) => self.scan.items += 1,
            Msg::KeyValue => self.scan.attributes += 1,
            Msg::Event | Msg::Link => self.scan.events += 1,
            _ => {}
        }
    }
}

/// Scans a protobuf body of `signal`.
pub(crate) fn protobuf(signal: Signal, body: &[u8]) -> Result<Scan, Malformed> {
    let root = match signal {
        Signal::Traces => Msg::TraceRequest,
        Signal::Metrics => Msg::MetricsRequest,
        Signal::Logs => Msg::LogsRequest,
    };
    let mut w = Walker {
        buf: body,
        scan: Scan {
            decoded_bytes: struct_size(root) as u64,
            ..Scan::default()
        },
    };
    w.message(root, 0, body.len(), 0)?;
    Ok(w.scan)
}

/// A bound for a JSON body: each object or array decodes to at most the largest OTLP
/// struct, each other byte to at most 8 (a one-digit number into a `u64`). Items are
/// not told apart in JSON; `items` counts objects.
pub(crate) fn json(body: &[u8]) -> Scan {
    let largest = [
        size_of::<Span>(),
        size_of::<LogRecord>(),
        size_of::<ExponentialHistogramDataPoint>(),
        size_of::<HistogramDataPoint>(),
        size_of::<Metric>(),
        size_of::<ResourceSpans>(),
    ]
    .into_iter()
    .max()
    .unwrap_or(512) as u64;
    let (mut objects, mut in_string, mut escaped) = (0u64, false, false);
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => objects += 1,
            _ => {}
        }
    }
    Scan {
        items: objects,
        attributes: 0,
        events: 0,
        decoded_bytes: objects * largest + 8 * body.len() as u64,
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::common::v1::any_value;
    use opentelemetry_proto::tonic::trace::v1::Status;
    use prost::Message;

    use super::*;

    fn kv(k: &str, v: &str) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(v.into())),
            }),
            ..Default::default()
        }
    }

    fn request(spans: usize) -> ExportTraceServiceRequest {
        let span = Span {
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            name: "GET /api/v1/orders".into(),
            attributes: (0..8).map(|i| kv(&format!("k{i}"), "some value")).collect(),
            events: vec![span::Event {
                name: "exception".into(),
                attributes: vec![kv("exception.message", "boom")],
                ..Default::default()
            }],
            status: Some(Status {
                code: 2,
                message: "failed".into(),
            }),
            ..Default::default()
        };
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![span; spans],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn counts_what_prost_would_build() {
        let body = request(10).encode_to_vec();
        let scan = protobuf(Signal::Traces, &body).expect("scans");
        assert_eq!(scan.items, 10);
        assert_eq!(scan.attributes, 90);
        assert_eq!(scan.events, 10);
        // At least the structs themselves, and not wildly more than decoding takes.
        let structs = 10 * (size_of::<Span>() + 9 * size_of::<KeyValue>());
        assert!(
            scan.decoded_bytes as usize >= structs,
            "{scan:?} vs {structs}"
        );
        assert!(
            (scan.decoded_bytes as usize) < 3 * structs,
            "{scan:?} vs {structs}"
        );
    }

    #[test]
    fn empty_spans_are_cheap_to_send_and_costly_to_decode() {
        // The bomb's shape: field 2 of ScopeSpans, length 0, over and over.
        let mut scope = Vec::new();
        for _ in 0..1000 {
            scope.extend_from_slice(&[0x12, 0x00]);
        }
        let mut rs = vec![0x12];
        prost::encoding::encode_varint(scope.len() as u64, &mut rs);
        rs.extend(scope);
        let mut body = vec![0x0a];
        prost::encoding::encode_varint(rs.len() as u64, &mut body);
        body.extend(rs);
        let scan = protobuf(Signal::Traces, &body).expect("scans");
        assert_eq!(scan.items, 1000);
        assert!(scan.decoded_bytes > 1000 * size_of::<Span>() as u64);
        assert!(scan.decoded_bytes > 100 * body.len() as u64);
    }

    #[test]
    fn malformed_bodies_are_refused_with_where() {
        assert!(
            protobuf(Signal::Traces, &[0x0a, 0x05, 0x01]).is_err(),
            "past end"
        );
        assert!(protobuf(Signal::Traces, &[0x0a]).is_err(), "truncated");
        assert!(protobuf(Signal::Traces, &[0x0b, 0x00]).is_err(), "group");
        assert!(protobuf(Signal::Traces, &[0x00, 0x00]).is_err(), "field 0");
        let e = protobuf(Signal::Logs, &[0xff; 12]).expect_err("long varint");
        assert!(e.0.contains("varint"), "{e:?}");
        // Deep nesting: ArrayValue in AnyValue in ArrayValue ...
        let mut v = AnyValue::default();
        for _ in 0..200 {
            v = AnyValue {
                value: Some(any_value::Value::ArrayValue(
                    opentelemetry_proto::tonic::common::v1::ArrayValue { values: vec![v] },
                )),
            };
        }
        use opentelemetry_proto::tonic::logs::v1::{ResourceLogs, ScopeLogs};
        let req = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord {
                        body: Some(v),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
        .encode_to_vec();
        let e = protobuf(Signal::Logs, &req).expect_err("deep");
        assert!(e.0.contains("nested"), "{e:?}");
    }

    #[test]
    fn json_bound_covers_empty_objects() {
        let body = format!(
            "{{\"resourceSpans\":[{{\"scopeSpans\":[{{\"spans\":[{}]}}]}}]}}",
            vec!["{}"; 1000].join(",")
        );
        let scan = json(body.as_bytes());
        assert!(scan.decoded_bytes > 1000 * size_of::<Span>() as u64);
        // Braces inside strings are not objects.
        assert_eq!(json(br#"{"a":"{{{{[[["}"#).items, 1);
    }
}
