//! rzero-rpc against a real etcd: discovery (`discovery.rs`), a half-open connection
//! (`faults.rs`), auth and TLS (`security.rs`), the config center (`configcenter.rs`).

#[path = "../common/mod.rs"]
mod common;

mod configcenter;
mod discovery;
mod faults;
mod security;

use rzero_rpc::discovery::Endpoints;
use rzero_rpc::testing::{Etcd, EtcdBuilder};

/// Starts an etcd off the runtime's threads.
async fn start(builder: EtcdBuilder) -> Etcd {
    tokio::task::spawn_blocking(move || builder.start())
        .await
        .expect("etcd")
}

/// Waits until the resolver lists exactly `want` (sorted), with a hang guard.
async fn wait_list(endpoints: &mut Endpoints, want: &[&str]) {
    let mut want: Vec<String> = want.iter().map(|s| (*s).to_owned()).collect();
    want.sort();
    common::within(20, endpoints.wait_for(|now| *now == want))
        .await
        .expect("resolver running");
}
