//! The tower side of the shedder: the crate's [`gate`](crate::gate) shell over an
//! [`AdaptiveShedder`]. Use one layer per server: the shedder measures the whole server.

use super::adaptive::{AdaptiveShedder, ShedPromise};
use super::error::Overloaded;
use crate::gate::{Gate, GateLayer, Gated, Permit};

/// A service behind an adaptive shedder.
pub type LoadShed<S, C> = Gated<S, AdaptiveShedder, C>;

/// Puts services behind one shared shedder.
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
