//! The in-memory swarm store: every announce and scrape, HTTP or UDP, goes through it.
//!
//! - [`Swarms`]: the store, shared by all server workers. Torrents are split over
//!   [`SwarmConfig::shards`] shards, each a `Mutex` around a map from info-hash to swarm, chosen
//!   by the info-hash's first bytes; an announce locks exactly one shard, once.
//! - A swarm keeps its peers as compact fixed-size records (72 bytes) in two vectors, leechers
//!   and seeders, with an address → slot index for O(1) lookup and `swap_remove` deletion, so
//!   the seeder and leecher counts are simply the vectors' lengths.
//! - A peer is identified by its address (IP and announced port); a new peer id from the same
//!   address is the same client restarted and replaces the old record.
//! - Time is a parameter (seconds since tracker start), never read here: [`Swarms::expire`]
//!   drops the peers not seen for [`SwarmConfig::peer_timeout_secs`].
//!
//! ```
//! use std::net::SocketAddr;
//! use tracker::swarm::{Announce, SwarmConfig, Swarms};
//! use ids::{InfoHash, PeerId};
//! use tracker_proto::common::{AnnounceEvent, Transfer};
//!
//! let swarms = Swarms::new(SwarmConfig::default());
//! let mut peers = Vec::new();
//! let seeder = Announce {
//!     info_hash: InfoHash([7; 20]),
//!     peer_id: PeerId(*b"-NX0001-seeder000001"),
//!     addr: SocketAddr::from(([10, 0, 0, 1], 6881)),
//!     transfer: Transfer { uploaded: 0, downloaded: 0, left: 0 },
//!     event: AnnounceEvent::Started,
//!     numwant: 50,
//! };
//! swarms.announce(&seeder, 0, &mut peers);
//! assert!(peers.is_empty()); // nobody else yet
//!
//! let leecher = Announce {
//!     peer_id: PeerId(*b"-NX0001-leecher00001"),
//!     addr: SocketAddr::from(([10, 0, 0, 2], 6881)),
//!     transfer: Transfer { left: 1000, ..Default::default() },
//!     ..seeder
//! };
//! let outcome = swarms.announce(&leecher, 5, &mut peers);
//! assert_eq!((outcome.complete, outcome.incomplete), (1, 1));
//! assert_eq!(peers[0].addr, seeder.addr);
//! assert_eq!(swarms.expire(1804), 1); // the seeder was last seen at 0, the leecher at 5
//! ```

mod peer;
mod select;
pub mod shared;
mod store;
mod torrent;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;

use ids::{InfoHash, PeerId};
use tracker_proto::common::{AnnounceEvent, Transfer};

pub use store::Swarms;

/// How the swarm store is laid out and when peers expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwarmConfig {
    /// Number of shards (independent locks); more shards mean less contention between
    /// workers. 0 is treated as 1.
    pub shards: usize,
    /// A peer not seen for this many seconds is dropped by [`Swarms::expire`].
    pub peer_timeout_secs: u32,
    /// Completed counts kept for torrents whose swarm emptied, so that scrape's `downloaded`
    /// survives a quiet spell (BEP 48). Past this many torrents the oldest counts are lost;
    /// each costs about 40 bytes.
    pub retired_counts: usize,
    /// Most swarms held at once; an announce that would start one more is refused.
    pub max_torrents: usize,
    /// Most peer records from one address (IPv6: one /64) over all swarms; 0: no limit.
    pub max_peers_per_ip: usize,
    /// A regular announce (no event) of the same peer sooner than this many seconds after
    /// the one its counters were last taken from keeps the old counters as the baseline:
    /// private accounting credits nothing for it now, and the traffic is credited at the next
    /// announce that is not early. The tracker sets it to its `min interval`.
    pub min_credit_interval: u32,
}

impl Default for SwarmConfig {
    fn default() -> Self {
        Self {
            shards: 64,
            peer_timeout_secs: 1800,
            retired_counts: 1 << 20,
            max_torrents: 10_000_000,
            max_peers_per_ip: 5_000,
            min_credit_interval: 0,
        }
    }
}

/// One announce as the store sees it, whichever protocol carried it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Announce {
    /// The torrent.
    pub info_hash: InfoHash,
    /// The peer's id.
    pub peer_id: PeerId,
    /// The peer's IP, already canonical (IPv4-mapped IPv6 turned into IPv4 by the caller),
    /// and the port it announced. This is what identifies the peer within a swarm.
    pub addr: SocketAddr,
    /// Its counters.
    pub transfer: Transfer,
    /// What it is doing.
    pub event: AnnounceEvent,
    /// How many peers it wants, already capped by the caller.
    pub numwant: usize,
}

/// Why the store would not take an announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turned {
    /// It would start a swarm past [`SwarmConfig::max_torrents`].
    TooManyTorrents,
    /// Its address already has [`SwarmConfig::max_peers_per_ip`] records.
    TooManyPeersFromAddress,
    /// The address was only named by the client (`ip=`, `ipv4=`, `ipv6=`), and its record
    /// belongs to another peer id.
    AddressTaken,
}

/// A peer's byte counters as the store keeps them: what private-tracker accounting needs to
/// turn the next announce's absolute counters into deltas (`left` decides the list the
/// record sits in and is not kept).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Bytes uploaded, as last announced.
    pub uploaded: u64,
    /// Bytes downloaded, as last announced.
    pub downloaded: u64,
}

impl From<Transfer> for Traffic {
    fn from(t: Transfer) -> Self {
        Self {
            uploaded: t.uploaded,
            downloaded: t.downloaded,
        }
    }
}

/// What an announce did to its swarm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnnounceOutcome {
    /// Seeders in the swarm after the announce.
    pub complete: u32,
    /// Leechers in the swarm after the announce.
    pub incomplete: u32,
    /// The peer's counters at its previous announce, for private-tracker accounting deltas;
    /// `None` for a new peer or a restarted one (a new peer id from a known address: its
    /// counters start again from zero).
    pub previous: Option<Traffic>,
    /// Seconds since `previous` was taken (0 for a new peer).
    pub elapsed: u32,
    /// The announce came sooner than [`SwarmConfig::min_credit_interval`]: the baseline was
    /// kept, and nothing is to be credited for it.
    pub early: bool,
    /// Why the store refused the announce (the swarm is then unchanged).
    pub turned: Option<Turned>,
}

/// Sizes of the whole store, summed shard by shard (not an atomic snapshot across shards).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Torrents with at least one peer.
    pub torrents: usize,
    /// Peers with nothing left to download.
    pub seeders: usize,
    /// Peers still downloading.
    pub leechers: usize,
}
