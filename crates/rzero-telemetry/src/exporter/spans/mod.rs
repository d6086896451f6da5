//! rzero's span pipeline: a [`SpanProcessor`] that batches ended spans in sharded buffers
//! and one export thread that encodes them straight to OTLP protobuf and sends them.
//!
//! Why not the SDK's `BatchSpanProcessor`: it hands every ended span through a
//! `std::sync::mpsc` channel to its thread, and measured under load (issue 19) the cost
//! of a span was then mostly the kernel (futex wake-ups and the scheduling they cause),
//! malloc/free, and the OTLP exporter's conversion of each span into owned proto
//! structs (plus a clone of the whole batch for retries). Here:
//!
//! - `on_end` writes the span as OTLP protobuf ([`encode`]) into one of a few
//!   mutex-guarded buffers, picked by thread, so two threads ending spans rarely touch
//!   the same lock, and drops the `SpanData` on the thread that allocated it; nobody is
//!   woken: the export thread is woken once per full batch (`max_export_batch_size`), or
//!   wakes by itself after the schedule delay;
//! - the queue is bounded by one atomic count (`max_queue_size`); a span over it is
//!   dropped and counted on `otel.sdk.processor.span.processed{error.type="queue_full"}`,
//!   the SDK's own counter with the SDK's attributes, so dashboards keep working;
//! - the export thread ([`worker`]) frames each batch's encoded spans into one request in
//!   a reused buffer and sends it over the same OTLP/gRPC or OTLP/HTTP wire format
//!   ([`transport`]).
//!
//! A collector that is down or black-holed holds the export thread (each export is
//! bounded by the export timeout), never `on_end`: the buffers fill, and spans drop.

mod encode;
mod transport;
mod worker;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use opentelemetry::metrics::BoundCounter;
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

use crate::config::BatchConf;
use crate::error::TelemetryError;
use crate::settings::ExportTarget;

pub(crate) use encode::{Encoded, Encoder};
pub(crate) use worker::LOG_TARGET;

/// How long `force_flush` waits for the export thread (the SDK's processor waits as long).
const FLUSH_WAIT: Duration = Duration::from_secs(5);

/// rzero's batching span processor: what `Telemetry::init` installs for the `traces`
/// target. Public so that an application composing its own `SdkTracerProvider` (or a
/// benchmark) can use the same pipeline. See the module doc for why it is not the SDK's
/// `BatchSpanProcessor`.
#[derive(Debug)]
pub struct BatchProcessor {
    shared: Arc<Shared>,
    max_queue: usize,
    max_batch: usize,
    worker: Mutex<Option<JoinHandle<()>>>,
    queue_full: BoundCounter<u64>,
    after_shutdown: BoundCounter<u64>,
}

/// What `on_end` and the export thread share.
#[derive(Debug)]
struct Shared {
    shards: Box<[Shard]>,
    /// Spans in the shards (counted before the push, so never below the truth).
    queued: AtomicUsize,
    /// A wake-up for a full batch is on its way; cleared by the export thread.
    wake_sent: AtomicBool,
    closed: AtomicBool,
    control: Mutex<Control>,
    wakeup: Condvar,
}

/// One buffer, on a cache line of its own so neighbouring shards do not false-share.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Shard(Mutex<Encoded>);

/// Requests to the export thread.
#[derive(Debug, Default)]
struct Control {
    full_batch: bool,
    flushes: Vec<SyncSender<OTelSdkResult>>,
    shutdown: Option<(Instant, SyncSender<OTelSdkResult>)>,
    resource: Option<Resource>,
    /// The processor is gone without a shutdown: the thread ends.
    dropped: bool,
}

// === impl BatchProcessor ===

impl BatchProcessor {
    /// Checks `target` and starts the export thread. `batch.export_timeout` bounds each
    /// export, as the SDK's `OTEL_BSP_EXPORT_TIMEOUT` does.
    ///
    /// A bad endpoint, header or TLS file is an error here rather than at every export.
    /// Spans are counted on the global meter's `otel.sdk.processor.span.processed`, so
    /// install the meter provider first.
    pub fn new(target: &ExportTarget, batch: &BatchConf) -> Result<Self, TelemetryError> {
        let plan = transport::Plan::new(target)?;
        let max_queue = batch.max_queue_size.max(1);
        let max_batch = batch.max_export_batch_size.clamp(1, max_queue);
        let shards = std::thread::available_parallelism()
            .map_or(4, |n| n.get() * 2)
            .clamp(2, 64);
        let shared = Arc::new(Shared {
            shards: (0..shards).map(|_| Shard::default()).collect(),
            queued: AtomicUsize::new(0),
            wake_sent: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            control: Mutex::new(Control::default()),
            wakeup: Condvar::new(),
        });
        let counters = Counters::new();
        let settings = worker::Settings {
            max_batch,
            delay: Duration::from_millis(batch.schedule_delay),
            timeout: target
                .timeout
                .min(Duration::from_millis(batch.export_timeout.max(1))),
        };
        let thread_shared = shared.clone();
        let success = counters.success;
        let handle = std::thread::Builder::new()
            .name("rzero-span-export".into())
            .spawn(move || worker::run(thread_shared, plan, settings, success))
            .map_err(|e| TelemetryError::Exporter {
                signal: "traces",
                endpoint: target.endpoint.clone(),
                reason: format!("cannot start the span export thread: {e}"),
            })?;
        Ok(BatchProcessor {
            shared,
            max_queue,
            max_batch,
            worker: Mutex::new(Some(handle)),
            queue_full: counters.queue_full,
            after_shutdown: counters.after_shutdown,
        })
    }

    /// Sends a request to the export thread and waits for its answer.
    fn ask(
        &self,
        wait: Duration,
        put: impl FnOnce(&mut Control, SyncSender<OTelSdkResult>),
    ) -> OTelSdkResult {
        let (tx, rx) = sync_channel(1);
        put(&mut self.shared.lock(), tx);
        self.shared.wakeup.notify_one();
        match rx.recv_timeout(wait) {
            Ok(result) => result,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(OTelSdkError::Timeout(wait)),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                Err(OTelSdkError::AlreadyShutdown)
            }
        }
    }
}

impl SpanProcessor for BatchProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        let shared = &*self.shared;
        if shared.closed.load(Ordering::Relaxed) {
            self.after_shutdown.add(1);
            return;
        }
        let before = shared.queued.fetch_add(1, Ordering::AcqRel);
        if before >= self.max_queue {
            shared.queued.fetch_sub(1, Ordering::AcqRel);
            self.queue_full.add(1);
            return;
        }
        shared.shard().push(&span);
        // Dropped here, outside the lock, on the thread that allocated its heap.
        drop(span);
        // One wake-up per full batch: the flag stays set until the export thread drains.
        if before + 1 >= self.max_batch
            && !shared.wake_sent.load(Ordering::Relaxed)
            && !shared.wake_sent.swap(true, Ordering::AcqRel)
        {
            shared.lock().full_batch = true;
            shared.wakeup.notify_one();
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        if self.shared.closed.load(Ordering::Relaxed) {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        self.ask(FLUSH_WAIT, |c, tx| c.flushes.push(tx))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        if self.shared.closed.swap(true, Ordering::AcqRel) {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        let deadline = Instant::now() + timeout;
        let result = self.ask(timeout, |c, tx| c.shutdown = Some((deadline, tx)));
        if result.is_ok() {
            // The thread has answered, so it is leaving its loop: joining is quick.
            let handle = self.worker.lock().ok().and_then(|mut w| w.take());
            if let Some(handle) = handle {
                let _ = handle.join();
            }
        }
        result
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.shared.lock().resource = Some(resource.clone());
    }
}

impl Drop for BatchProcessor {
    fn drop(&mut self) {
        // Without a shutdown (a provider dropped in a test), let the thread end.
        self.shared.closed.store(true, Ordering::Release);
        self.shared.lock().dropped = true;
        self.shared.wakeup.notify_one();
    }
}

// === impl Shared ===

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// This thread's shard: threads are numbered in the order they first end a span.
    fn shard(&self) -> MutexGuard<'_, Encoded> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        thread_local! {
            static INDEX: usize = NEXT.fetch_add(1, Ordering::Relaxed);
        }
        let i = INDEX.with(|i| *i) % self.shards.len();
        self.shards[i].0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Moves every buffered span into `out` (keeping the shards' capacity in `spare`).
    fn drain(&self, out: &mut Encoded, spare: &mut Encoded) {
        let start = out.len();
        for shard in self.shards.iter() {
            {
                let mut guard = shard.0.lock().unwrap_or_else(|p| p.into_inner());
                if guard.is_empty() {
                    continue;
                }
                std::mem::swap(&mut *guard, spare);
            }
            // The first non-empty shard is taken whole (its buffer swapped in, nothing
            // moved); later ones are appended to it.
            out.append(spare);
        }
        self.queued.fetch_sub(out.len() - start, Ordering::AcqRel);
        self.wake_sent.store(false, Ordering::Release);
    }
}

/// The SDK's self-diagnostics counter, bound to the SDK's attributes: success (counted
/// by the export thread per exported batch), queue full and after shutdown.
struct Counters {
    success: BoundCounter<u64>,
    queue_full: BoundCounter<u64>,
    after_shutdown: BoundCounter<u64>,
}

impl Counters {
    /// Built on the global meter at construction, as the SDK's processor does, so the
    /// meter provider must be installed first (see `Telemetry::init`).
    fn new() -> Counters {
        static INSTANCE: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "batching_span_processor/{}",
            INSTANCE.fetch_add(1, Ordering::Relaxed)
        );
        let counter = opentelemetry::global::meter("otel.sdk")
            .u64_counter("otel.sdk.processor.span.processed")
            .with_description(
                "The number of spans for which the processing has finished, \
                 either successful or failed.",
            )
            .with_unit("{span}")
            .build();
        let attrs = |error: Option<&'static str>| {
            let mut kv = Vec::with_capacity(3);
            if let Some(e) = error {
                kv.push(KeyValue::new("error.type", e));
            }
            kv.push(KeyValue::new(
                "otel.component.type",
                "batching_span_processor",
            ));
            kv.push(KeyValue::new("otel.component.name", name.clone()));
            kv
        };
        Counters {
            success: counter.bind(&attrs(None)),
            queue_full: counter.bind(&attrs(Some("queue_full"))),
            after_shutdown: counter.bind(&attrs(Some("already_shutdown"))),
        }
    }
}

#[cfg(test)]
mod tests;
