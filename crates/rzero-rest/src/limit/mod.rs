//! Limits that keep one client from taking the server: requests in flight
//! ([`MaxConnsLayer`], go-zero's `MaxConns`, 503 when full) and body size
//! ([`MaxBytesLayer`], go-zero's `MaxBytes`, 413 when larger).

mod bytes;
mod conns;

pub use bytes::{MaxBytes, MaxBytesLayer};
pub use conns::{MaxConns, MaxConnsLayer};
