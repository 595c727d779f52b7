//! The daemon's background work for one torrent: adding it to the engine, and fetching a
//! magnet link's metadata first.

use std::net::SocketAddr;
use std::sync::Arc;

use metainfo::Torrent;
use metainfo::magnet::{Magnet, PeerAddr};

use super::{Daemon, Run, store};

/// How often a running public torrent is announced in the DHT again (peers expire from the
/// nodes after 30 minutes).
const DHT_REANNOUNCE: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Adds the torrent to the engine, if it is still meant to start.
pub async fn start(daemon: Arc<Daemon>, info_hash: ids::InfoHash) {
    let Some(op) = daemon.entries().get(&info_hash).map(|e| e.op.clone()) else {
        return;
    };
    let _op = op.lock().await;
    let Ok(_permit) = daemon.adding.acquire().await else {
        return;
    };
    let ready = {
        let entries = daemon.entries();
        entries.get(&info_hash).and_then(|e| match (&e.run, &e.torrent) {
            (Run::Starting, Some(t)) if e.want_running => Some((
                t.clone(),
                client::AddOptions {
                    dir: e.dir.clone(),
                    download_rate: e.maxdown * 1024,
                    upload_rate: e.maxup * 1024,
                    peers: magnet_peers(e.magnet.as_deref()),
                    ..Default::default()
                },
            )),
            _ => None,
        })
    };
    let Some((torrent, opts)) = ready else { return };
    let added = daemon.session.add(Torrent::clone(&torrent), opts).await;
    let mut entries = daemon.entries();
    let Some(e) = entries.get_mut(&info_hash) else {
        // Removed meanwhile: cannot happen while we hold `op`, but stop it rather than leak.
        if let Ok(h) = added {
            tokio::spawn(async move { h.stop().await });
        }
        return;
    };
    match added {
        Ok(handle) => {
            // Public torrents are kept in the DHT while they run (never private ones, BEP 27).
            if let Some(dht) = daemon.dht.clone().filter(|_| !torrent.info.private) {
                let port = daemon.session.listen_addrs().first().map_or(0, |a| a.port());
                let announced = handle.clone();
                let task = tokio::spawn(async move {
                    client::dht::keep_announcing(dht, announced, port, DHT_REANNOUNCE).await;
                });
                e.dht_announce = Some(task.abort_handle());
            }
            e.run = Run::Running(handle);
        }
        Err(err) => {
            tracing::warn!(%info_hash, error = %client::error::chain(&err), "cannot start the torrent");
            e.error = Some(client::error::chain(&err));
            e.want_running = false;
            e.run = Run::Stopped;
        }
    }
}

/// The `x.pe` peers of a magnet link.
fn magnet_peers(link: Option<&str>) -> Vec<SocketAddr> {
    let Some(Ok(m)) = link.map(Magnet::parse) else {
        return Vec::new();
    };
    m.peers
        .iter()
        .filter_map(|p| match p {
            PeerAddr::Ip(a) => Some(*a),
            PeerAddr::Host { .. } => None,
        })
        .collect()
}

/// Fetches a magnet link's metadata, keeps it and starts the torrent.
pub async fn fetch(daemon: Arc<Daemon>, info_hash: ids::InfoHash, link: String) {
    let fetched = match Magnet::parse(&link) {
        Ok(magnet) => {
            let mut peers = magnet_peers(Some(&link));
            // A magnet that names no tracker and no peer has only the DHT to go on.
            if let (Some(dht), Some(ih), true) = (
                &daemon.dht,
                magnet.info_hash_v1,
                peers.is_empty() && magnet.trackers.is_empty(),
            ) {
                peers = client::dht::find_peers(dht, ih, daemon.metadata_timeout / 2).await;
            }
            daemon
                .session
                .fetch_metadata(&magnet, &peers, daemon.metadata_timeout)
                .await
                .map_err(|e| format!("cannot fetch the metadata: {}", client::error::chain(&e)))
        }
        Err(e) => Err(format!("not a magnet link: {e}")),
    };
    let kept = fetched.and_then(|t| {
        let bytes = store::torrent_file(t.info_bytes(), &t.trackers());
        daemon
            .store
            .write_torrent(info_hash, &bytes)
            .map(|()| t)
            .map_err(|e| format!("cannot keep the metadata: {e}"))
    });
    let start = {
        let mut entries = daemon.entries();
        let Some(e) = entries.get_mut(&info_hash) else {
            return;
        };
        if !matches!(e.run, Run::Metadata(_)) {
            return;
        }
        match kept {
            Ok(t) => {
                e.name = t.info.name.clone();
                e.torrent = Some(Arc::new(t));
                e.run = Run::Stopped;
                e.want_running
            }
            Err(why) => {
                tracing::warn!(%info_hash, error = %why, "magnet link not resolved");
                e.error = Some(why);
                e.want_running = false;
                e.run = Run::Stopped;
                false
            }
        }
    };
    if start {
        daemon.launch(info_hash);
    }
    daemon.changed();
}
