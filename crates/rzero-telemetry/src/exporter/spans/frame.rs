//! The export thread's half of the encoding: one `ExportTraceServiceRequest` framed
//! around spans already written by [`Encoded::push`]: the resource (encoded once per
//! resource), each scope, and the spans' bytes, copied whole.

use std::ops::Range;

use opentelemetry_sdk::Resource;
#[cfg(test)]
use opentelemetry_sdk::trace::SpanData;

use super::{Encoded, Entry, LOG_TARGET, Out, len_field, scope_len, str_field};

/// Frames batches of [`Encoded`] spans for one resource; keeps its buffers between
/// batches.
#[derive(Debug, Default)]
pub(crate) struct Encoder {
    /// The encoded `Resource` message (its content, without tag and length).
    resource: Vec<u8>,
    resource_schema: String,
    /// The last request written; its capacity kept from batch to batch.
    buf: Vec<u8>,
    /// Per scope of the batch, first seen first: the scope's index in the `Encoded`, the
    /// `ScopeSpans` content size, the `InstrumentationScope` one, and its entries.
    groups: Vec<Group>,
}

#[derive(Debug, Default)]
struct Group {
    scope: usize,
    len: usize,
    scope_len: usize,
    entries: Vec<usize>,
}

// === impl Encoder ===

impl Encoder {
    /// Sets the resource every later batch is reported under.
    pub(crate) fn set_resource(&mut self, resource: &Resource) {
        self.resource.clear();
        let mut out = Out::new(&mut self.resource);
        for (k, v) in resource.iter() {
            out.nested(1, |out| out.kv(k.as_str(), v));
        }
        self.resource_schema = resource.schema_url().unwrap_or_default().to_owned();
    }

    /// Writes one `ExportTraceServiceRequest` holding `spans` (encoded here, as the
    /// processor's `on_end` does); the bytes stay valid until the next call.
    #[cfg(test)]
    pub(crate) fn encode(&mut self, spans: &[SpanData]) -> &[u8] {
        let mut encoded = Encoded::default();
        for s in spans {
            encoded.push(s);
        }
        let all = 0..encoded.len();
        self.encode_batch(&encoded, all)
    }

    /// Writes one `ExportTraceServiceRequest` holding the spans `range` of `spans`; the
    /// bytes stay valid until the next call.
    pub(crate) fn encode_batch(&mut self, spans: &Encoded, range: Range<usize>) -> &[u8] {
        let entries = spans.entries.get(range).unwrap_or_default();
        self.group(spans, entries);
        let mut resource_spans =
            len_field(1, self.resource.len()) + str_field(3, &self.resource_schema);
        for g in &mut self.groups {
            let scope = &spans.scopes[g.scope];
            g.scope_len = scope_len(scope);
            g.len = len_field(1, g.scope_len)
                + str_field(3, scope.schema_url().unwrap_or_default())
                + g.entries
                    .iter()
                    .map(|&i| len_field(2, entries[i].len))
                    .sum::<usize>();
            resource_spans += len_field(2, g.len);
        }
        let total = len_field(1, resource_spans);
        self.buf.clear();
        self.buf.reserve(total);
        let mut out = Out::new(&mut self.buf);
        out.len(1, resource_spans);
        out.len(1, self.resource.len());
        out.raw(&self.resource);
        for g in &self.groups {
            let scope = &spans.scopes[g.scope];
            out.len(2, g.len);
            out.len(1, g.scope_len);
            out.scope(scope);
            for &i in &g.entries {
                let e = entries[i];
                out.len(2, e.len);
                out.raw(spans.bytes.get(e.at..e.at + e.len).unwrap_or_default());
            }
            out.str(3, scope.schema_url().unwrap_or_default());
        }
        out.str(3, &self.resource_schema);
        if self.buf.len() != total {
            // A sizing bug: the bytes are not a valid message, so send none (an empty
            // request) rather than garbage, and say so; never panic the export thread.
            tracing::error!(target: LOG_TARGET, "span encoder sized {total} bytes and wrote {}: {} spans dropped", self.buf.len(), entries.len());
            self.buf.clear();
        }
        &self.buf
    }

    /// Fills `groups` with the positions in `entries` of each scope's spans, first seen
    /// first.
    fn group(&mut self, spans: &Encoded, entries: &[Entry]) {
        for g in &mut self.groups {
            g.entries.clear();
        }
        let mut used = 0;
        for (i, e) in entries.iter().enumerate() {
            match self.groups[..used].iter().position(|g| g.scope == e.scope) {
                Some(g) => self.groups[g].entries.push(i),
                None => {
                    if used == self.groups.len() {
                        self.groups.push(Group::default());
                    }
                    self.groups[used].scope = e.scope;
                    self.groups[used].entries.push(i);
                    used += 1;
                }
            }
        }
        self.groups.truncate(used);
        debug_assert!(self.groups.iter().all(|g| g.scope < spans.scopes.len()));
    }
}
