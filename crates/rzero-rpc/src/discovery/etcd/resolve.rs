//! The client side: read every key under `Key/`, then watch the prefix from the next
//! revision and apply puts and deletes as they come. When etcd goes away, the watch is
//! cancelled (e.g. after a compaction) or its watchdog finds it dead, the last list
//! stays published and the resolver starts over every second: calls to known endpoints
//! go on meanwhile.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rzero_conf::EtcdConf;
use tokio::sync::watch;

use super::pb::{RangeRequest, event::EventType};
use super::{Client, EtcdError, WatchStats, prefix_end, watch_from};
use crate::discovery::Endpoints;

const RETRY: Duration = Duration::from_secs(1);

/// Follows the servers registered under `conf.key`, until every receiver is gone.
pub(crate) fn resolve(conf: EtcdConf) -> Endpoints {
    match Client::new(&conf) {
        Ok(client) => follow(client, conf.key, Arc::default()),
        Err(e) => {
            // `Discovery::from_conf` builds the same client first, so this is a config
            // that skipped it (`Discovery::Etcd` made by hand): say so, find nothing.
            tracing::error!(key = %conf.key, "etcd resolver cannot start: {e}");
            watch::channel(Vec::new()).1
        }
    }
}

/// [`resolve`] with a client of its own; `stats` counts what its watches did.
pub(crate) fn follow(client: Client, key: String, stats: Arc<WatchStats>) -> Endpoints {
    let (tx, rx) = watch::channel(Vec::new());
    tokio::spawn(async move {
        let prefix = format!("{key}/").into_bytes();
        let mut known = BTreeMap::new();
        loop {
            tokio::select! {
                e = session(&client, &prefix, &mut known, &tx, &stats) => {
                    tracing::warn!(
                        %key,
                        "etcd resolver: {e}; keeping the last {} endpoints",
                        known.len()
                    );
                    client.reset();
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

/// One session: range, then watch until the watch fails.
async fn session(
    client: &Client,
    prefix: &[u8],
    known: &mut BTreeMap<Vec<u8>, String>,
    tx: &watch::Sender<Vec<String>>,
    stats: &WatchStats,
) -> EtcdError {
    let range = match client
        .range(RangeRequest {
            key: prefix.to_vec(),
            range_end: prefix_end(prefix),
            limit: 0,
            revision: 0,
        })
        .await
    {
        Ok(range) => range,
        Err(e) => return e,
    };
    known.clear();
    for kv in range.kvs {
        known.insert(kv.key, String::from_utf8_lossy(&kv.value).into_owned());
    }
    publish(known, tx);
    let revision = range.header.map(|h| h.revision).unwrap_or(0);
    watch_from(
        client,
        prefix,
        &prefix_end(prefix),
        revision + 1,
        stats,
        |events, _| {
            for event in events {
                let Some(kv) = event.kv else { continue };
                if event.r#type == EventType::Delete as i32 {
                    known.remove(&kv.key);
                } else {
                    known.insert(kv.key, String::from_utf8_lossy(&kv.value).into_owned());
                }
            }
            publish(known, tx);
        },
    )
    .await
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
