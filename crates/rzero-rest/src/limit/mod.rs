//! Limits that keep one client from taking the server: requests in flight
//! ([`MaxConnsLayer`], go-zero's `MaxConns`, 503 when full) and body size
//! ([`MaxBytesLayer`], go-zero's `MaxBytes`, 413 when larger) and the time a body may take
//! to arrive ([`read`], `ReadTimeout`, 408). Sockets are capped where they are accepted
//! (`crate::server`).

mod bytes;
mod conns;
pub mod read;

pub use bytes::{MaxBytes, MaxBytesLayer};
pub use conns::{MaxConns, MaxConnsLayer};
