//! Session and torrent settings, with defaults that need no file.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::storage::Allocation;

/// Settings of a [`Session`](crate::Session).
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Addresses to listen on. Empty: `[::]` (IPv6 and, dual-stack, IPv4), or `0.0.0.0`
    /// where IPv6 is unavailable.
    pub listen_addrs: Vec<IpAddr>,
    /// First and last port to try (BEP 3: 6881, then up to 6889). `(0, 0)`: any free port.
    pub ports: (u16, u16),
    /// Most peer connections in the whole session.
    pub max_connections: usize,
    /// Most peer connections per torrent.
    pub max_peers_per_torrent: usize,
    /// Upload slots per torrent: peers unchoked at a time, the optimistic one included.
    pub upload_slots: usize,
    /// Session-wide download limit in bytes per second (0 = none).
    pub download_rate: u64,
    /// Session-wide upload limit in bytes per second (0 = none).
    pub upload_rate: u64,
    /// Timers of the choker, trackers and resume snapshots.
    pub timing: Timing,
    /// Our `v` in the extension handshake.
    pub client_name: String,
    /// Memory for assembling pieces, in bytes: a piece assembled in memory is hashed without
    /// being read back and written in one call. Pieces started beyond it are written block by
    /// block and hashed from disk.
    pub piece_memory: u64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            listen_addrs: Vec::new(),
            ports: (6881, 6889),
            max_connections: 200,
            max_peers_per_torrent: 50,
            upload_slots: 4,
            download_rate: 0,
            upload_rate: 0,
            timing: Timing::default(),
            client_name: format!("nexsuj {}", env!("CARGO_PKG_VERSION")),
            piece_memory: 32 << 20,
        }
    }
}

/// Timers (BEP 3's choking periods; tracker retry backoff; resume snapshots).
#[derive(Debug, Clone)]
pub struct Timing {
    /// Regular unchoke round (BEP 3: 10 s).
    pub choke_interval: Duration,
    /// Optimistic unchoke rotation (BEP 3: 30 s).
    pub optimistic_interval: Duration,
    /// A peer that sent nothing for this long while we waited on it is snubbed.
    pub snub_timeout: Duration,
    /// First retry after a failed announce; doubles up to `tracker_retry_max`.
    pub tracker_retry_min: Duration,
    /// Longest wait between announce retries.
    pub tracker_retry_max: Duration,
    /// How long to wait for one UDP tracker reply (then once more with twice the time).
    pub udp_timeout: Duration,
    /// How often the resume snapshot is rewritten while pieces arrive.
    pub resume_interval: Duration,
    /// How often peers are told about our other peers (ut_pex, BEP 11: once a minute).
    pub pex_interval: Duration,
    /// Wait before reconnecting to a peer that failed or went away; doubles with each
    /// failure, up to 64 times.
    pub reconnect_delay: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            choke_interval: Duration::from_secs(10),
            optimistic_interval: Duration::from_secs(30),
            snub_timeout: Duration::from_secs(60),
            tracker_retry_min: Duration::from_secs(15),
            tracker_retry_max: Duration::from_secs(1800),
            udp_timeout: Duration::from_secs(5),
            resume_interval: Duration::from_secs(30),
            reconnect_delay: Duration::from_secs(2),
            pex_interval: Duration::from_secs(60),
        }
    }
}

/// How to add one torrent.
#[derive(Debug, Clone, Default)]
pub struct AddOptions {
    /// The directory that holds (or will hold) the torrent's file or folder.
    pub dir: PathBuf,
    /// Download pieces in order (for streaming) instead of rarest first.
    pub sequential: bool,
    /// Hash every piece on disk before starting, ignoring resume state.
    pub recheck: bool,
    /// Download limit for this torrent in bytes per second (0 = none).
    pub download_rate: u64,
    /// Upload limit for this torrent in bytes per second (0 = none).
    pub upload_rate: u64,
    /// Sparse or preallocated files.
    pub allocation: Allocation,
    /// Peers to connect to besides those the trackers name.
    pub peers: Vec<SocketAddr>,
    /// Do not contact the torrent's trackers (peers given directly only).
    pub no_trackers: bool,
}
