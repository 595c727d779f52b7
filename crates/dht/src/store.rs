//! The peers announced to us (`announce_peer`), per info-hash, each until [`PEER_TTL`] after
//! its last announce. Capped per torrent, in torrents and in total, so announces from anyone
//! cannot grow our memory; past a cap the oldest entry goes. BEP 51 samples come from here.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ids::InfoHash;

/// How long an announce lasts (libtorrent: 30 minutes; peers re-announce every 15 to 30).
pub const PEER_TTL: Duration = Duration::from_secs(30 * 60);

/// The caps of a [`PeerStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    /// Peers kept per torrent.
    pub per_torrent: usize,
    /// Torrents kept.
    pub torrents: usize,
    /// Peers kept over all torrents.
    pub total: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        Self {
            per_torrent: 500,
            torrents: 5_000,
            total: 100_000,
        }
    }
}

/// Announced peers by torrent.
#[derive(Debug, Clone, Default)]
pub struct PeerStore {
    torrents: HashMap<InfoHash, Vec<(SocketAddr, Instant)>>,
    total: usize,
    limits: StoreLimits,
}

impl PeerStore {
    /// An empty store.
    pub fn new(limits: StoreLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Peers stored.
    pub fn len(&self) -> usize {
        self.total
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Torrents with peers.
    pub fn torrents(&self) -> usize {
        self.torrents.len()
    }

    /// Records an announce.
    pub fn announce(&mut self, info_hash: InfoHash, peer: SocketAddr, now: Instant) {
        if !self.torrents.contains_key(&info_hash) && self.torrents.len() >= self.limits.torrents {
            // Make room by dropping the torrent whose newest announce is oldest.
            let stalest = self
                .torrents
                .iter()
                .min_by_key(|(_, peers)| peers.iter().map(|p| p.1).max())
                .map(|(h, _)| *h);
            if let Some(h) = stalest
                && let Some(gone) = self.torrents.remove(&h)
            {
                self.total -= gone.len();
            }
        }
        if self.total >= self.limits.total {
            self.expire(now);
            if self.total >= self.limits.total {
                return;
            }
        }
        let peers = self.torrents.entry(info_hash).or_default();
        if let Some(p) = peers.iter_mut().find(|p| p.0 == peer) {
            p.1 = now;
            return;
        }
        if peers.len() >= self.limits.per_torrent {
            if let Some(oldest) = peers.iter().enumerate().min_by_key(|(_, p)| p.1).map(|(i, _)| i) {
                peers.swap_remove(oldest);
                self.total -= 1;
            }
        }
        peers.push((peer, now));
        self.total += 1;
    }

    /// Up to `n` live peers of a torrent of one address family, from a random start.
    pub fn get(
        &self,
        info_hash: &InfoHash,
        ipv4: bool,
        n: usize,
        now: Instant,
        start: usize,
    ) -> Vec<SocketAddr> {
        let Some(peers) = self.torrents.get(info_hash) else {
            return Vec::new();
        };
        let live = |p: &&(SocketAddr, Instant)| {
            p.0.is_ipv4() == ipv4 && now.saturating_duration_since(p.1) < PEER_TTL
        };
        let len = peers.len().max(1);
        peers
            .iter()
            .cycle()
            .skip(start % len)
            .take(peers.len())
            .filter(live)
            .take(n)
            .map(|p| p.0)
            .collect()
    }

    /// Forgets announces older than [`PEER_TTL`].
    pub fn expire(&mut self, now: Instant) {
        let mut total = 0;
        self.torrents.retain(|_, peers| {
            peers.retain(|p| now.saturating_duration_since(p.1) < PEER_TTL);
            total += peers.len();
            !peers.is_empty()
        });
        self.total = total;
    }

    /// Up to `n` info-hashes with peers, from a random start (BEP 51 `samples`).
    pub fn sample(&self, n: usize, start: usize) -> Vec<InfoHash> {
        let len = self.torrents.len().max(1);
        self.torrents
            .keys()
            .cycle()
            .skip(start % len)
            .take(n.min(self.torrents.len()))
            .copied()
            .collect()
    }
}
