//! go-zero's CPU-based adaptive load shedder: the algorithm ([`AdaptiveShedder`], after
//! `core/load/adaptiveshedder.go`), the CPU reading it needs ([`CpuSampler`] after
//! `core/stat/usage.go` and `core/stat/internal`, [`FixedCpu`] for tests) and a tower
//! middleware ([`LoadShed`], [`LoadShedLayer`]) that sheds with [`Overloaded`].
//!
//! Which results are "failed" (not counted as served throughput) is the caller's choice:
//! [`HttpUnavailable`](crate::classify::HttpUnavailable) for rest (go-zero's
//! `SheddingHandler` fails only 503s), a DEADLINE_EXCEEDED check for rpc (go-zero's
//! `UnarySheddingInterceptor`). Shed requests are counted in
//! [`AdaptiveShedder::dropped`] for the metrics.
//!
//! Layout: `adaptive.rs` the algorithm, `cpu.rs` the reading and its sampler thread,
//! `cgroup.rs` where the reading comes from, `layer.rs` the tower side, `config.rs`,
//! `error.rs`. The response future is the shared [`gate`](crate::gate) one.

mod adaptive;
mod cgroup;
mod config;
mod cpu;
mod error;
mod layer;
#[cfg(test)]
mod tests;

pub use adaptive::{AdaptiveShedder, ShedPromise, ShedderStats};
pub use config::ShedderConfig;
pub use cpu::{CpuSampler, CpuUsage, FixedCpu, SampledCpu};
pub use error::Overloaded;
pub use layer::{LoadShed, LoadShedLayer, ResponseFuture};
