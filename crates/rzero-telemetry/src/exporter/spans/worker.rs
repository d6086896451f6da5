//! The export thread: sleeps until a full batch, the schedule delay, a flush or the
//! shutdown; then drains every shard, encodes the spans batch by batch and sends each.
//!
//! It runs its own current-thread Tokio runtime for tonic and hyper, so exports need no
//! runtime of the application's (and a blocked application runtime cannot stall them),
//! and it runs inside the OpenTelemetry "suppressed" context, so the exporter's own
//! work never makes telemetry that would come back here.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use opentelemetry::Context;
use opentelemetry::metrics::BoundCounter;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};

use super::transport::{Plan, Transport};
use super::{Encoded, Encoder, Shared};

/// The target of the export thread's own log lines (kept out of the OTLP log export).
pub(crate) const LOG_TARGET: &str = "rzero_telemetry::export";

/// The batch settings the thread works by.
#[derive(Debug, Clone, Copy)]
pub(super) struct Settings {
    /// Spans per export request.
    pub(super) max_batch: usize,
    /// Longest wait between two exports.
    pub(super) delay: Duration,
    /// Longest time one export request may take, retries included.
    pub(super) timeout: Duration,
}

/// What one wake-up asks of the thread.
struct Wake {
    flushes: Vec<std::sync::mpsc::SyncSender<OTelSdkResult>>,
    shutdown: Option<(Instant, std::sync::mpsc::SyncSender<OTelSdkResult>)>,
    dropped: bool,
}

/// The thread's body; returns on shutdown or when the processor is dropped.
pub(super) fn run(shared: Arc<Shared>, plan: Plan, s: Settings, success: BoundCounter<u64>) {
    let _suppressed = Context::enter_telemetry_suppressed_scope();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!(target: LOG_TARGET, "cannot start the span export runtime, spans will be dropped: {e}");
            shared.closed.store(true, Ordering::Release);
            return;
        }
    };
    let mut transport = {
        let _entered = runtime.enter();
        Transport::connect(plan)
    };
    let mut encoder = Encoder::default();
    let mut batch = Encoded::default();
    let mut spare = Encoded::default();
    let mut failing = false;
    let mut next = Instant::now() + s.delay;
    loop {
        let wake = wait(&shared, next, &mut encoder);
        if wake.dropped {
            return;
        }
        shared.drain(&mut batch, &mut spare);
        let cap = wake.shutdown.as_ref().map(|(deadline, _)| *deadline);
        let failure = export(
            &runtime,
            &mut transport,
            &mut encoder,
            &mut batch,
            s,
            cap,
            &success,
        );
        match (&failure, failing) {
            (Some(reason), false) => {
                tracing::warn!(target: LOG_TARGET, "exporting spans failed, they are dropped until the collector answers: {reason}");
            }
            (None, true) => tracing::info!(target: LOG_TARGET, "exporting spans works again"),
            _ => {}
        }
        failing = failure.is_some();
        next = Instant::now() + s.delay;
        for flush in wake.flushes {
            let _ = flush.send(result(&failure));
        }
        if let Some((_, reply)) = wake.shutdown {
            let _ = reply.send(result(&failure));
            return;
        }
    }
}

/// Sleeps until there is work or `next` passes; takes the requests and a new resource.
fn wait(shared: &Shared, next: Instant, encoder: &mut Encoder) -> Wake {
    let mut c = shared.lock();
    loop {
        if c.full_batch || !c.flushes.is_empty() || c.shutdown.is_some() || c.dropped {
            break;
        }
        let now = Instant::now();
        if now >= next {
            break;
        }
        c = match shared.wakeup.wait_timeout(c, next - now) {
            Ok((guard, _)) => guard,
            Err(poisoned) => poisoned.into_inner().0,
        };
    }
    c.full_batch = false;
    if let Some(resource) = c.resource.take() {
        encoder.set_resource(&resource);
    }
    Wake {
        flushes: std::mem::take(&mut c.flushes),
        shutdown: c.shutdown.take(),
        dropped: c.dropped,
    }
}

/// Exports `batch` in requests of `max_batch` spans and empties it; the reason of the
/// last failure, if any. `cap` is the shutdown's deadline.
fn export(
    runtime: &tokio::runtime::Runtime,
    transport: &mut Transport,
    encoder: &mut Encoder,
    batch: &mut Encoded,
    s: Settings,
    cap: Option<Instant>,
    success: &BoundCounter<u64>,
) -> Option<String> {
    let mut failure = None;
    let total = batch.len();
    for from in (0..total).step_by(s.max_batch.max(1)) {
        let chunk = from..(from + s.max_batch).min(total);
        let n = chunk.len();
        let body = Bytes::copy_from_slice(encoder.encode_batch(batch, chunk));
        let mut deadline = Instant::now() + s.timeout;
        if let Some(cap) = cap {
            deadline = deadline.min(cap);
        }
        // Counted when handed to the exporter, as the SDK's processor counts.
        success.add(n as u64);
        if let Err(reason) = runtime.block_on(transport.send(body, deadline)) {
            failure = Some(format!("{n} spans: {reason}"));
        }
    }
    batch.clear();
    failure
}

fn result(failure: &Option<String>) -> OTelSdkResult {
    match failure {
        None => Ok(()),
        Some(reason) => Err(OTelSdkError::InternalFailure(reason.clone())),
    }
}
