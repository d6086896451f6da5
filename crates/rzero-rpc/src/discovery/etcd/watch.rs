//! One watch of a key or a range, with a watchdog, for the resolver and the config
//! center.
//!
//! A watch is a stream that may rightly stay silent for hours (nothing changes), which
//! is also what a dead one looks like. So the watch asks etcd for progress
//! notifications (`progress_notify`), and when it has heard nothing for
//! `Settings::watch_idle` the watchdog sends a `WatchProgressRequest` (etcd 3.4+),
//! which etcd answers at once with its current revision. No answer within
//! `RequestTimeout`: the watch is dead, and the caller starts over (range, then watch
//! from the next revision).

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;

use super::pb::watch_request::RequestUnion;
use super::pb::{Event, WatchCreateRequest, WatchProgressRequest, WatchRequest};
use super::{Client, EtcdError};

/// What watches did, for tests and logs.
#[derive(Debug, Default)]
pub(crate) struct WatchStats {
    /// Progress requests the watchdog sent.
    pub(crate) probes: AtomicU64,
    /// Answers of any kind etcd sent (events, progress, created).
    pub(crate) responses: AtomicU64,
    /// Answers that were progress only: no events, not the creation.
    pub(crate) progress: AtomicU64,
}

/// Watches `key`..`range_end` (`range_end` empty: `key` alone) from `start_revision`,
/// handing each batch of events and its revision to `on_events`, until the watch fails;
/// returns why. Never returns on its own otherwise: the caller bounds it by its own
/// lifetime.
pub(crate) async fn watch_from<F>(
    client: &Client,
    key: &[u8],
    range_end: &[u8],
    start_revision: i64,
    stats: &WatchStats,
    mut on_events: F,
) -> EtcdError
where
    F: FnMut(Vec<Event>, i64),
{
    let create = WatchRequest {
        request_union: Some(RequestUnion::CreateRequest(WatchCreateRequest {
            key: key.to_vec(),
            range_end: range_end.to_vec(),
            start_revision,
            progress_notify: true,
        })),
    };
    // The request side stays open while `requests` lives: etcd ends a watch whose
    // client half-closed. Room for the create and one probe.
    let (requests, outgoing) = mpsc::channel(2);
    if requests.try_send(create).is_err() {
        return client.status_error("watch", tonic::Status::internal("watch request queue"));
    }
    let outgoing = futures_util::stream::unfold(outgoing, |mut rx| async move {
        rx.recv().await.map(|request| (request, rx))
    });
    let mut events = match client.watch(outgoing).await {
        Ok(events) => events,
        Err(e) => return e,
    };
    let settings = client.settings().clone();
    let mut probing = false;
    loop {
        let wait = if probing {
            settings.request_timeout
        } else {
            settings.watch_idle
        };
        let response = match tokio::time::timeout(wait, events.message()).await {
            Ok(Ok(Some(response))) => response,
            Ok(Ok(None)) => {
                return client.status_error("watch", tonic::Status::unavailable("watch ended"));
            }
            Ok(Err(status)) => return client.status_error("watch", status),
            Err(_) if probing => {
                return EtcdError::Timeout {
                    hosts: client.hosts().to_owned(),
                    what: "watch (silent, and no answer to a progress request)",
                    after: settings.request_timeout,
                };
            }
            Err(_) => {
                stats.probes.fetch_add(1, Ordering::Relaxed);
                let probe = WatchRequest {
                    request_union: Some(RequestUnion::ProgressRequest(WatchProgressRequest {})),
                };
                if requests.try_send(probe).is_err() {
                    // The queue is full: the transport took nothing since the last
                    // probe, which is as dead as a watch gets.
                    return client.timeout_error("watch (requests not taken)");
                }
                probing = true;
                continue;
            }
        };
        probing = false;
        stats.responses.fetch_add(1, Ordering::Relaxed);
        if response.canceled {
            // etcd 3.4 cancels a watch created with a stale token as `permission denied`.
            if response.cancel_reason.contains("permission denied")
                || response.cancel_reason.contains("auth token")
            {
                client.forget_token();
            }
            return client.status_error(
                "watch",
                tonic::Status::aborted(format!(
                    "watch cancelled: {} (compacted at {})",
                    response.cancel_reason, response.compact_revision
                )),
            );
        }
        let revision = response.header.map(|h| h.revision).unwrap_or(0);
        if !response.events.is_empty() {
            on_events(response.events, revision);
        } else if !response.created {
            stats.progress.fetch_add(1, Ordering::Relaxed);
        }
    }
}
