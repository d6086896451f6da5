//! The client side: read every key under `Key/`, then watch the prefix from the next
//! revision and apply puts and deletes as they come. When etcd goes away (or the watch
//! is cancelled, e.g. after a compaction) the last list stays published and the
//! resolver starts over every second: calls to known endpoints go on meanwhile.

use std::collections::BTreeMap;
use std::time::Duration;

use rzero_conf::EtcdConf;
use tokio::sync::watch;

use super::pb::kv_client::KvClient;
use super::pb::watch_client::WatchClient;
use super::pb::watch_request::RequestUnion;
use super::pb::{RangeRequest, WatchCreateRequest, WatchRequest, event::EventType};
use super::{EtcdError, connect, prefix_end};
use crate::discovery::Endpoints;

const RETRY: Duration = Duration::from_secs(1);

/// Follows the servers registered under `conf.key`, until every receiver is gone.
pub(crate) fn resolve(conf: EtcdConf) -> Endpoints {
    let (tx, rx) = watch::channel(Vec::new());
    tokio::spawn(async move {
        let prefix = format!("{}/", conf.key).into_bytes();
        let mut known = BTreeMap::new();
        loop {
            tokio::select! {
                result = follow(&conf, &prefix, &mut known, &tx) => {
                    if let Err(e) = result {
                        tracing::warn!(key = %conf.key, "etcd resolver: {e}; keeping the last {} endpoints", known.len());
                    }
                }
                () = tx.closed() => return,
            }
            tokio::select! {
                () = tokio::time::sleep(RETRY) => {}
                () = tx.closed() => return,
            }
        }
    });
    rx
}

/// One session: range, then watch until the stream breaks.
async fn follow(
    conf: &EtcdConf,
    prefix: &[u8],
    known: &mut BTreeMap<Vec<u8>, String>,
    tx: &watch::Sender<Vec<String>>,
) -> Result<(), EtcdError> {
    let hosts = conf.hosts.join(",");
    let err = |status| EtcdError::Call {
        hosts: hosts.clone(),
        status,
    };
    let channel = connect(&conf.hosts)?;
    let range = KvClient::new(channel.clone())
        .range(RangeRequest {
            key: prefix.to_vec(),
            range_end: prefix_end(prefix),
            limit: 0,
            revision: 0,
        })
        .await
        .map_err(err)?
        .into_inner();
    known.clear();
    for kv in range.kvs {
        known.insert(kv.key, String::from_utf8_lossy(&kv.value).into_owned());
    }
    publish(known, tx);
    let revision = range.header.map(|h| h.revision).unwrap_or(0);

    let create = WatchRequest {
        request_union: Some(RequestUnion::CreateRequest(WatchCreateRequest {
            key: prefix.to_vec(),
            range_end: prefix_end(prefix),
            start_revision: revision + 1,
            progress_notify: false,
        })),
    };
    // The request side stays open: etcd ends a watch whose client half-closed.
    let requests = futures_util::StreamExt::chain(
        futures_util::stream::once(async move { create }),
        futures_util::stream::pending(),
    );
    let mut events = WatchClient::new(channel)
        .watch(requests)
        .await
        .map_err(err)?
        .into_inner();
    while let Some(resp) = events.message().await.map_err(err)? {
        if resp.canceled {
            return Err(err(tonic::Status::aborted(format!(
                "watch cancelled: {} (compacted at {})",
                resp.cancel_reason, resp.compact_revision
            ))));
        }
        for event in resp.events {
            let Some(kv) = event.kv else { continue };
            if event.r#type == EventType::Delete as i32 {
                known.remove(&kv.key);
            } else {
                known.insert(kv.key, String::from_utf8_lossy(&kv.value).into_owned());
            }
        }
        publish(known, tx);
    }
    Err(err(tonic::Status::unavailable("watch stream ended")))
}

fn publish(known: &BTreeMap<Vec<u8>, String>, tx: &watch::Sender<Vec<String>>) {
    let mut list: Vec<String> = known.values().cloned().collect();
    list.sort();
    list.dedup();
    tx.send_if_modified(|old| {
        let changed = *old != list;
        if changed {
            *old = list;
        }
        changed
    });
}
