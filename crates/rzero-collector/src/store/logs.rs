//! The log table: recent records in arrival order, bounded by count and bytes, indexed by
//! trace id so that a trace page finds its logs without walking them all.

use std::collections::{HashMap, VecDeque};

use super::model::LogRecord;
use crate::config::StoreLimits;

#[derive(Debug, Default)]
pub(crate) struct LogTable {
    /// `(sequence number, record, its size)`, oldest first; sequence numbers are
    /// consecutive, so a record's position is `seq - first`.
    records: VecDeque<(u64, LogRecord, usize)>,
    next: u64,
    bytes: usize,
    by_trace: HashMap<String, VecDeque<u64>>,
}

// === impl LogTable ===

impl LogTable {
    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Adds a record, evicting the oldest to stay within the limits. False if the record
    /// alone is over the byte budget.
    pub(crate) fn push(&mut self, record: LogRecord, limits: &StoreLimits) -> bool {
        // The record, and its place in the by-trace index.
        let size = record.approx_bytes() + if record.trace_id.is_empty() { 0 } else { 8 };
        if size > limits.max_log_bytes || limits.max_logs == 0 {
            return false;
        }
        while !self.records.is_empty()
            && (self.records.len() >= limits.max_logs || self.bytes + size > limits.max_log_bytes)
        {
            self.evict_oldest();
        }
        let seq = self.next;
        self.next += 1;
        if !record.trace_id.is_empty() {
            self.by_trace
                .entry(record.trace_id.clone())
                .or_default()
                .push_back(seq);
        }
        self.bytes += size;
        self.records.push_back((seq, record, size));
        true
    }

    fn evict_oldest(&mut self) {
        let Some((seq, record, size)) = self.records.pop_front() else {
            return;
        };
        self.bytes -= size;
        if let Some(seqs) = self.by_trace.get_mut(&record.trace_id) {
            // The oldest record of the table is the oldest of its trace.
            if seqs.front() == Some(&seq) {
                seqs.pop_front();
            }
            if seqs.is_empty() {
                self.by_trace.remove(&record.trace_id);
            }
        }
    }

    /// Records of one trace, in arrival order.
    pub(crate) fn for_trace(&self, trace_id: &str) -> Vec<LogRecord> {
        let Some(first) = self.records.front().map(|r| r.0) else {
            return Vec::new();
        };
        self.by_trace
            .get(trace_id)
            .into_iter()
            .flatten()
            .filter_map(|seq| {
                let at = usize::try_from(seq.checked_sub(first)?).ok()?;
                self.records.get(at).map(|r| r.1.clone())
            })
            .collect()
    }
}
