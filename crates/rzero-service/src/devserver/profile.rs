//! CPU profiles: `pprof`'s sampler (SIGPROF at [`FREQUENCY`] Hz, stacks unwound in the
//! signal handler) for `seconds`, then symbolized and encoded, off the async threads.
//!
//! One profile at a time in the whole process, not per server: the sampler is the
//! process's one `setitimer(ITIMER_PROF)` and one SIGPROF handler, so a second profile
//! would share (and stop) the first one's timer. [`Slot`] is that one flag; a request
//! that finds it taken is refused at once rather than queued behind a minute of sampling.
//!
//! A profile ends early, and its answer is dropped, when the client goes away or the
//! service stops: the sampling thread waits on a channel whose sender lives in the
//! request's future.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use prost::Message;

use super::Stopping;

/// Samples per second: Go's `runtime/pprof` default, cheap enough to leave on for a
/// minute under load.
pub(crate) const FREQUENCY: i32 = 100;

/// Libraries whose frames are skipped: unwinding through them from a signal handler can
/// deadlock (pprof-rs's own advice).
const BLOCKLIST: &[&str] = &["libc", "libgcc", "pthread", "vdso"];

/// What a profile is turned into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Output {
    /// Gzip-compressed `perftools.profiles.Profile`, as Go's `/debug/pprof/profile`.
    Pprof,
    /// An SVG flamegraph (inferno).
    Flamegraph,
}

/// Why no profile was taken.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProfileError {
    /// Another profile is running.
    #[error("a CPU profile is already running; retry when it ends (at most 60 s)")]
    Busy,
    /// The service is stopping.
    #[error("the service is stopping; no profile was taken")]
    Stopping,
    /// The sampler or the encoder failed.
    #[error("the CPU profiler failed: {0}")]
    Failed(String),
}

static RUNNING: AtomicBool = AtomicBool::new(false);

/// The process's one profile: held while sampling, freed on drop.
struct Slot(());

impl Slot {
    fn take() -> Option<Slot> {
        RUNNING
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| Slot(()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        RUNNING.store(false, Ordering::Release);
    }
}

/// Samples the whole process for `seconds` and renders `output`. Resolves early with
/// [`ProfileError::Stopping`] when `stopping` fires.
pub(crate) async fn profile(
    seconds: u64,
    output: Output,
    stopping: Stopping,
) -> Result<Vec<u8>, ProfileError> {
    let slot = Slot::take().ok_or(ProfileError::Busy)?;
    // Dropped with this future (client gone) or sent to (stopping): sampling ends.
    let (cancel, cancelled) = mpsc::channel::<()>();
    let mut sampling = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        sample(seconds, output, &cancelled)
    });
    tokio::select! {
        joined = &mut sampling => joined
            .map_err(|e| ProfileError::Failed(format!("the profiling thread ended: {e}")))?,
        () = stopping.wait() => {
            let _ = cancel.send(());
            Err(ProfileError::Stopping)
        }
    }
}

fn sample(
    seconds: u64,
    output: Output,
    cancelled: &mpsc::Receiver<()>,
) -> Result<Vec<u8>, ProfileError> {
    let failed = |e: pprof::Error| ProfileError::Failed(e.to_string());
    let guard = pprof::ProfilerGuardBuilder::default()
        .frequency(FREQUENCY)
        .blocklist(BLOCKLIST)
        .build()
        .map_err(failed)?;
    match cancelled.recv_timeout(Duration::from_secs(seconds)) {
        Err(RecvTimeoutError::Timeout) => {}
        // Sent or disconnected: nobody wants the answer any more.
        Ok(()) | Err(RecvTimeoutError::Disconnected) => return Err(ProfileError::Stopping),
    }
    let report = guard
        .report()
        .frames_post_processor(without_the_profilers_own_frames)
        .build()
        .map_err(failed)?;
    drop(guard);
    match output {
        Output::Pprof => {
            let bytes = super::proto::encode(&report).encode_to_vec();
            gzip(&bytes).map_err(|e| ProfileError::Failed(e.to_string()))
        }
        Output::Flamegraph if report.data.is_empty() => Ok(idle_svg(seconds)),
        Output::Flamegraph => {
            let mut svg = Vec::new();
            report.flamegraph(&mut svg).map_err(failed)?;
            Ok(svg)
        }
    }
}

/// pprof-rs keeps, at the leaf of every stack, the frame of its own stack walk (the
/// signal handler's `backtrace` call, with its inlined callees): every sample's "flat"
/// time would be that frame's. The frames above it are the program's.
fn without_the_profilers_own_frames(frames: &mut pprof::Frames) {
    let own = |frame: &Vec<pprof::Symbol>| {
        frame.iter().any(|s| {
            let name = s.name();
            let name = name.trim_start_matches('<');
            name.starts_with("pprof::") || name.starts_with("backtrace::")
        })
    };
    if let Some(last_own) = frames.frames.iter().rposition(own) {
        frames.frames.drain(..=last_own);
    }
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes)?;
    enc.finish()
}

/// inferno refuses an empty profile; an idle process still gets a picture that says so.
fn idle_svg(seconds: u64) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" standalone=\"no\"?>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"600\" height=\"40\">\
         <text x=\"10\" y=\"25\">no CPU samples in {seconds} s: the process was idle</text></svg>\n"
    )
    .into_bytes()
}
