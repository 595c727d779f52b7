//! [`TorrentHandle`]: what a user of the session holds for one torrent.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::oneshot;

use super::{Event, TorrentShared};
use crate::snapshot::{PeerSnapshot, TorrentSnapshot};

/// A torrent in a session. Cheap to clone.
#[derive(Debug, Clone)]
pub struct TorrentHandle {
    shared: Arc<TorrentShared>,
}

impl TorrentHandle {
    pub(crate) fn new(shared: Arc<TorrentShared>) -> Self {
        Self { shared }
    }

    /// The v1 info-hash.
    pub fn info_hash(&self) -> ids::InfoHash {
        self.shared.meta.info_hash
    }

    /// True when every piece is verified.
    pub fn is_complete(&self) -> bool {
        self.shared.is_complete()
    }

    /// Waits until every piece is verified.
    pub async fn wait_complete(&self) {
        let mut rx = self.shared.complete.subscribe();
        let _ = rx.wait_for(|c| *c).await;
    }

    /// Connects to these peers (as well as those the trackers name).
    pub fn add_peers(&self, peers: Vec<SocketAddr>) {
        self.shared.event(Event::AddPeers(peers));
    }

    /// Changes this torrent's limits, bytes per second (0 = none).
    pub fn set_rate_limits(&self, download: u64, upload: u64) {
        self.shared.down.set_rate(download);
        self.shared.up.set_rate(upload);
    }

    /// Switches sequential downloading on or off.
    pub fn set_sequential(&self, on: bool) {
        self.shared.lock().picker.set_sequential(on);
    }

    /// Fetches these pieces before any other, lowest first (a stream's window ahead of its
    /// reader), or none.
    pub fn set_focus(&self, pieces: Option<std::ops::Range<u32>>) {
        self.shared.lock().picker.set_focus(pieces);
    }

    /// Whether piece `i` is verified.
    pub fn has_piece(&self, i: u32) -> bool {
        self.shared.lock().picker.have().get(i as usize)
    }

    /// Waits until piece `i` is verified. Never returns for a piece that does not exist or
    /// if the torrent stops first: callers bound the wait.
    pub async fn wait_piece(&self, i: u32) {
        loop {
            let verified = self.shared.verified.notified();
            tokio::pin!(verified);
            verified.as_mut().enable();
            if self.has_piece(i) {
                return;
            }
            verified.await;
        }
    }

    /// Reads `len` bytes at `begin` of verified piece `piece` from disk.
    pub async fn read(&self, piece: u32, begin: u32, len: usize) -> std::io::Result<Vec<u8>> {
        let storage = self.shared.storage.clone();
        tokio::task::spawn_blocking(move || {
            let mut buf = vec![0; len];
            storage.read(piece, begin, &mut buf).map(|()| buf)
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// The piece length of the torrent.
    pub fn piece_length(&self) -> u64 {
        self.shared.meta.info.piece_length
    }

    /// Hashes every piece on disk again: pieces that fail are downloaded again, pieces that
    /// pass count as verified. Returns when the check is done.
    pub async fn recheck(&self) {
        let (tx, rx) = oneshot::channel();
        self.shared.event(Event::Recheck(tx));
        let _ = rx.await;
    }

    /// Disconnects its peers, saves resume state, tells the trackers and removes the torrent
    /// from the session.
    pub async fn stop(&self) {
        let (tx, rx) = oneshot::channel();
        self.shared.event(Event::Stop(tx));
        let _ = rx.await;
    }

    /// The current state.
    pub fn snapshot(&self) -> TorrentSnapshot {
        let t = &self.shared;
        let s = t.lock();
        let have = s.picker.have();
        let missing = have.len() - have.count();
        let peers = s
            .peers
            .values()
            .map(|p| {
                let useful = if missing == 0 {
                    0
                } else {
                    p.pieces.ones().filter(|&i| !have.get(i)).count()
                };
                PeerSnapshot {
                    id: p.id,
                    addr: p.addr,
                    client: p.client.clone(),
                    bitfield: p.pieces.as_bytes().to_vec(),
                    have_pieces: p.pieces.count(),
                    down_rate: p.stats.down_rate.load(Ordering::Relaxed),
                    up_rate: p.stats.up_rate.load(Ordering::Relaxed),
                    downloaded: p.stats.downloaded.load(Ordering::Relaxed),
                    uploaded: p.stats.uploaded.load(Ordering::Relaxed),
                    connected: true,
                    relevance: if missing == 0 {
                        0.0
                    } else {
                        useful as f64 / missing as f64
                    },
                    am_choking: p.am_choking,
                    am_interested: p.stats.flags.am_interested(),
                    peer_choking: p.stats.flags.peer_choking(),
                    peer_interested: p.peer_interested,
                    snubbed: p.stats.flags.snubbed(),
                    outgoing: p.outgoing,
                    encryption: p.crypto.as_str(),
                    transport: p.transport,
                    send_queue: p.stats.send_queue.load(Ordering::Relaxed),
                    send_queue_peak: p.stats.send_queue_peak.load(Ordering::Relaxed),
                }
            })
            .collect();
        TorrentSnapshot {
            name: t.meta.info.name.clone(),
            info_hash: t.meta.info_hash,
            bitfield: have.as_bytes().to_vec(),
            num_pieces: have.len(),
            have_pieces: have.count(),
            total_size: t.meta.total_len,
            left: s.picker.left().min(t.meta.total_len),
            started: t.started,
            downloaded: t.totals.downloaded.load(Ordering::Relaxed),
            uploaded: t.totals.uploaded.load(Ordering::Relaxed),
            wasted: t.totals.wasted.load(Ordering::Relaxed),
            down_rate: t.totals.down_rate.load(Ordering::Relaxed),
            up_rate: t.totals.up_rate.load(Ordering::Relaxed),
            complete: have.is_full(),
            checking: t.checking.load(Ordering::Relaxed),
            error: s.error.clone(),
            disk: s.disk.status(),
            hash_failures: s.hash_failures,
            banned: s.banned.len(),
            known_peers: s.known.len(),
            trackers: t.tiers.lock().map(|x| x.statuses()).unwrap_or_default(),
            peers,
        }
    }
}
