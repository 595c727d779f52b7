//! Read-only views of the session for status displays and the HTTP API (seed 004's
//! `/alldata` fields: bitfields, rates, totals, wasted bytes, trackers, peers).

use std::net::SocketAddr;
use std::time::SystemTime;

use crate::tracker::TrackerStatus;

/// The whole session.
#[derive(Debug, Clone)]
pub struct SessionSnapshot {
    /// Where the session listens.
    pub listen: Vec<SocketAddr>,
    /// Our peer id.
    pub peer_id: [u8; 20],
    /// Session-wide download rate (bytes/s).
    pub down_rate: u64,
    /// Session-wide upload rate (bytes/s).
    pub up_rate: u64,
    /// Each torrent.
    pub torrents: Vec<TorrentSnapshot>,
}

/// One torrent.
#[derive(Debug, Clone)]
pub struct TorrentSnapshot {
    /// The torrent's name.
    pub name: String,
    /// The v1 info-hash.
    pub info_hash: [u8; 20],
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
    /// Pieces that failed their hash check.
    pub hash_failures: u64,
    /// Peers banned for sending bad data.
    pub banned: usize,
    /// Trackers and their status.
    pub trackers: Vec<TrackerStatus>,
    /// Connected peers.
    pub peers: Vec<PeerSnapshot>,
}

/// One connected peer.
#[derive(Debug, Clone)]
pub struct PeerSnapshot {
    /// Its peer id.
    pub id: [u8; 20],
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
}
