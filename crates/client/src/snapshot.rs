//! Read-only views of the session for status displays and the HTTP API (seed 004's
//! `/alldata` fields: bitfields, rates, totals, wasted bytes, trackers, peers).

use std::net::SocketAddr;
use std::time::SystemTime;

use crate::storage::FilePoolStats;
use crate::tracker::TrackerStatus;

/// The whole session.
#[derive(Debug, Clone)]
pub struct SessionSnapshot {
    /// Where the session listens.
    pub listen: Vec<SocketAddr>,
    /// Our peer id.
    pub peer_id: ids::PeerId,
    /// Session-wide download rate (bytes/s).
    pub down_rate: u64,
    /// Session-wide upload rate (bytes/s).
    pub up_rate: u64,
    /// Each torrent.
    pub torrents: Vec<TorrentSnapshot>,
    /// Connections open, and the networking limits at work (refusals, drops, errors).
    pub counters: crate::SessionCounters,
    /// The session's open files (the pool every torrent's reads and writes go through).
    pub files: FilePoolStats,
}

/// One torrent.
#[derive(Debug, Clone)]
pub struct TorrentSnapshot {
    /// The torrent's name.
    pub name: String,
    /// The v1 info-hash.
    pub info_hash: ids::InfoHash,
    /// The verified pieces as a BEP 3 bitfield.
    pub bitfield: Vec<u8>,
    /// Number of pieces (bits that count in `bitfield`).
    pub num_pieces: usize,
    /// Verified pieces.
    pub have_pieces: usize,
    /// Size of the content.
    pub total_size: u64,
    /// Bytes still missing.
    pub left: u64,
    /// When the torrent was added.
    pub started: SystemTime,
    /// Payload bytes received and kept since it was added.
    pub downloaded: u64,
    /// Payload bytes sent since it was added.
    pub uploaded: u64,
    /// Bytes received but thrown away: failed hash checks, duplicates, unrequested blocks.
    pub wasted: u64,
    /// Download rate (bytes/s).
    pub down_rate: u64,
    /// Upload rate (bytes/s).
    pub up_rate: u64,
    /// Every piece is verified.
    pub complete: bool,
    /// A hash check of the data on disk is running.
    pub checking: bool,
    /// The last error that stopped the torrent, if any.
    pub error: Option<String>,
    /// Disk write errors, and whether one keeps the torrent paused.
    pub disk: DiskStatus,
    /// Pieces that failed their hash check.
    pub hash_failures: u64,
    /// Peers banned for sending bad data.
    pub banned: usize,
    /// Peer addresses known (at most `SessionConfig::max_known_peers` not in use).
    pub known_peers: usize,
    /// Trackers and their status.
    pub trackers: Vec<TrackerStatus>,
    /// Connected peers.
    pub peers: Vec<PeerSnapshot>,
}

/// A torrent's disk writes. A write that fails (a full disk) pauses the torrent: its peers are
/// disconnected, the data is held in memory and written again with backoff, then it resumes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiskStatus {
    /// Paused by a failed write until a retry succeeds.
    pub paused: bool,
    /// The error that paused it.
    pub error: Option<String>,
    /// Writes that failed since the torrent was added.
    pub write_errors: u64,
    /// Retries of held writes since the torrent was added.
    pub retries: u64,
    /// Bytes waiting in memory for a retry to write them.
    pub held_bytes: u64,
}

/// One connected peer.
#[derive(Debug, Clone)]
pub struct PeerSnapshot {
    /// Its peer id.
    pub id: ids::PeerId,
    /// Its address.
    pub addr: SocketAddr,
    /// Its client name from the extension handshake.
    pub client: Option<String>,
    /// Its pieces as a bitfield.
    pub bitfield: Vec<u8>,
    /// How many pieces it has.
    pub have_pieces: usize,
    /// Rate from it (bytes/s).
    pub down_rate: u64,
    /// Rate to it (bytes/s).
    pub up_rate: u64,
    /// Payload bytes from it.
    pub downloaded: u64,
    /// Payload bytes to it.
    pub uploaded: u64,
    /// Always true in a snapshot (the API's `connected`).
    pub connected: bool,
    /// Share of the pieces we miss that it has, 0 to 1.
    pub relevance: f64,
    /// We choke it.
    pub am_choking: bool,
    /// We want its data.
    pub am_interested: bool,
    /// It chokes us.
    pub peer_choking: bool,
    /// It wants our data.
    pub peer_interested: bool,
    /// It stopped sending while we waited on it.
    pub snubbed: bool,
    /// We connected to it (not it to us).
    pub outgoing: bool,
    /// `plaintext`, `obfuscated` (MSE handshake, plaintext after) or `rc4`.
    pub encryption: &'static str,
    /// `tcp` or `utp`.
    pub transport: &'static str,
    /// Bytes queued for it and not yet sent, and the most there ever were: both stay under
    /// `SessionConfig::max_send_queue`.
    pub send_queue: u64,
    /// See `send_queue`.
    pub send_queue_peak: u64,
}
