//! go-zero's CPU-based adaptive load shedder: the algorithm ([`AdaptiveShedder`]), the
//! CPU reading it needs ([`CpuSampler`], [`FixedCpu`]) and a tower middleware
//! ([`LoadShed`], [`LoadShedLayer`]) that sheds with [`Overloaded`] (HTTP 503, gRPC
//! RESOURCE_EXHAUSTED).

mod adaptive;
mod config;
mod cpu;
mod error;
#[cfg(test)]
mod tests;

pub use adaptive::{AdaptiveShedder, ShedPromise};
pub use config::ShedderConfig;
pub use cpu::{CpuSampler, CpuUsage, FixedCpu, SampledCpu};
pub use error::Overloaded;

use crate::gate::{Gate, GateLayer, Gated, Permit};

/// A service behind an adaptive shedder.
pub type LoadShed<S, C> = Gated<S, AdaptiveShedder, C>;

/// Puts services behind one shared shedder (one per server: it measures the server).
pub type LoadShedLayer<C> = GateLayer<AdaptiveShedder, C>;

/// The future of a call through a [`LoadShed`].
pub type ResponseFuture<F, C> = crate::gate::ResponseFuture<F, AdaptiveShedder, C>;

impl Gate for AdaptiveShedder {
    type Permit = ShedPromise;
    type Refusal = Overloaded;

    fn admit(&self) -> Result<ShedPromise, Overloaded> {
        self.allow()
    }
}

impl Permit for ShedPromise {
    fn finish(self, failed: bool) {
        if failed {
            self.fail();
        } else {
            self.pass();
        }
    }
}
