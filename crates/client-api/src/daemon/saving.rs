//! Keeping `daemon.json` current: on every change (at most once a second), every
//! `save_interval` for the counters, and at shutdown after every torrent has stopped.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use client::TorrentSnapshot;

use super::Daemon;
use super::store::Saved;

impl Daemon {
    /// Writes `daemon.json` now.
    pub fn save(&self) -> std::io::Result<()> {
        let handles: Vec<(ids::InfoHash, Option<client::TorrentHandle>)> = self
            .entries()
            .iter()
            .map(|(h, e)| (*h, e.handle().cloned()))
            .collect();
        let live: BTreeMap<ids::InfoHash, TorrentSnapshot> = handles
            .into_iter()
            .filter_map(|(h, handle)| Some((h, handle?.snapshot())))
            .collect();
        let (maxdown, maxup) = self.global_rates();
        let torrents = self
            .entries()
            .iter()
            .map(|(h, e)| e.saved(*h, live.get(h)))
            .collect();
        self.store.save(&Saved {
            version: 0,
            maxdown,
            maxup,
            torrents,
        })
    }

    /// Saves whenever something changed (at most once a second) and every `interval`, until
    /// `shutdown`; then stops every torrent and saves a last time.
    pub async fn keep_saved(
        self: Arc<Self>,
        interval: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                () = self.dirty.notified() => {}
                () = tokio::time::sleep(interval) => {}
            }
            let d = self.clone();
            if let Ok(Err(e)) = tokio::task::spawn_blocking(move || d.save()).await {
                tracing::error!(error = %e, "cannot save the daemon's state");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        self.close().await;
    }

    /// Stops every torrent (keeping whether each should run) and saves. The torrents stop
    /// all at once: each may wait up to 3 s for its trackers to hear `stopped`.
    async fn close(self: &Arc<Self>) {
        let all: Vec<ids::InfoHash> = self.entries().keys().copied().collect();
        let mut stopping = tokio::task::JoinSet::new();
        for h in all {
            let d = self.clone();
            stopping.spawn(async move {
                let Some(op) = d.entries().get(&h).map(|e| e.op.clone()) else {
                    return;
                };
                let _op = op.lock().await;
                let want = d.entries().get(&h).is_some_and(|e| e.want_running);
                d.halt(h).await;
                if let Some(e) = d.entries().get_mut(&h) {
                    e.want_running = want;
                }
            });
        }
        while stopping.join_next().await.is_some() {}
        if let Err(e) = self.save() {
            tracing::error!(error = %e, "cannot save the daemon's state");
        }
        if let Some(dht) = &self.dht
            && let Err(e) = dht.save().await
        {
            tracing::warn!(error = %e, "cannot save the DHT state");
        }
    }
}
