//! Types shared by the HTTP and UDP forms of the tracker protocol.

use std::net::{IpAddr, SocketAddr};

use ids::{InfoHash, PeerId};

/// What a peer says it is doing (BEP 3 `event`; BEP 15 event codes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum AnnounceEvent {
    /// A regular announce (`event` absent or empty; UDP 0).
    #[default]
    None,
    /// The download just finished (UDP 1).
    Completed,
    /// The peer just joined (UDP 2).
    Started,
    /// The peer is leaving (UDP 3).
    Stopped,
}

/// The byte counters of BEP 3: `uploaded` is what the peer sent to others, `downloaded` what
/// it received, `left` what it still lacks (0 = seeder).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Transfer {
    /// Bytes sent to other peers so far.
    pub uploaded: u64,
    /// Bytes received so far.
    pub downloaded: u64,
    /// Bytes still missing.
    pub left: u64,
}

/// An announce, whichever protocol carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnounceRequest {
    /// The torrent.
    pub info_hash: InfoHash,
    /// The peer's id.
    pub peer_id: PeerId,
    /// The port the peer listens on.
    pub port: u16,
    /// Its counters.
    pub transfer: Transfer,
    /// What it is doing.
    pub event: AnnounceEvent,
    /// How many peers it wants (`numwant`; UDP `num_want`, -1 = default); `None` = default.
    pub numwant: Option<u32>,
    /// The address the peer claims (`ip`; UDP `ip address`, 0 = none); trackers honour it
    /// only when configured to.
    pub ip: Option<IpAddr>,
    /// The client's `key`: an opaque token that identifies it across address changes. HTTP
    /// clients send arbitrary bytes (aria2 sends binary); UDP sends 4 bytes.
    pub key: Option<Vec<u8>>,
}

/// One peer in an announce reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponsePeer {
    /// Where to reach it.
    pub addr: SocketAddr,
    /// Its id, for non-compact HTTP replies (BEP 3 dictionary peers) unless `no_peer_id`.
    pub peer_id: Option<PeerId>,
}

/// A successful announce reply, whichever protocol carries it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnnounceResponse {
    /// Seconds until the next regular announce.
    pub interval: u32,
    /// Seconds a client must wait at least (HTTP only).
    pub min_interval: Option<u32>,
    /// Seeders.
    pub complete: u32,
    /// Leechers.
    pub incomplete: u32,
    /// Peers to connect to (IPv4 and IPv6 mixed; the writers split them as BEP 7/23 want).
    pub peers: Vec<ResponsePeer>,
    /// BEP 24: the address the tracker saw the request come from.
    pub external_ip: Option<IpAddr>,
    /// A non-fatal message for the user (HTTP only).
    pub warning: Option<String>,
    /// An id the client must send back as `trackerid` (HTTP only).
    pub tracker_id: Option<Vec<u8>>,
}

/// Counts for one torrent in a scrape reply (BEP 48).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScrapeStats {
    /// Seeders.
    pub complete: u32,
    /// Completed downloads ever reported (`completed` events).
    pub downloaded: u32,
    /// Leechers.
    pub incomplete: u32,
}
