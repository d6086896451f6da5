//! Test support for rzero services (feature `testing`), real parts only:
//!
//! - [`Etcd`]: a real etcd, found on PATH or in /usr/bin (installed with
//!   `apt-get install -y etcd-server` when missing), started on free loopback ports with
//!   a temporary data dir, killed on drop; with TLS, client certificates and auth when
//!   asked ([`Etcd::builder`]);
//! - [`Proxy`]: a TCP proxy in front of anything, that can stop forwarding without
//!   closing (a half-open connection, as a dead host or a firewall makes one);
//! - [`TestCa`]: a CA and certificates made on the spot (rcgen), written as PEM files.
//!
//! rzero's own tests and the order system's use it; so can a service's tests. It panics
//! on failure, as test support does: a test without its etcd cannot go on.

mod certs;
mod etcd;
mod proxy;

pub use certs::{CertFiles, TestCa};
pub use etcd::{Etcd, EtcdBuilder, EtcdTls};
pub use proxy::Proxy;
