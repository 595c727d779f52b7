//! Session and torrent settings, with defaults that need no file.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::storage::{Allocation, DiskFaults};

/// Settings of a [`Session`](crate::Session).
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Addresses to listen on. Empty: `[::]` (IPv6 and, dual-stack, IPv4), or `0.0.0.0`
    /// where IPv6 is unavailable.
    pub listen_addrs: Vec<IpAddr>,
    /// First and last port to try (BEP 3: 6881, then up to 6889). `(0, 0)`: any free port.
    pub ports: (u16, u16),
    /// Most peer connections in the whole session, counted from the first byte: half-open
    /// ones (connecting, handshaking) take a slot too. An incoming connection that finds
    /// none is closed at once.
    pub max_connections: usize,
    /// Most peer connections per torrent.
    pub max_peers_per_torrent: usize,
    /// Most peer addresses a torrent keeps (from trackers, PEX and the user); past it the
    /// worst are dropped: most failed first, then lowest BEP 40 priority. Default 2,000
    /// (libtorrent's `max_peerlist_size` is 3,000).
    pub max_known_peers: usize,
    /// Most bytes queued for sending to one peer (default 1 MiB; at least 64 KiB plus the
    /// torrent's bitfield). Optional answers (ut_metadata pieces, blocks) stop at half of
    /// it and are rejected, the peer's messages are not read past three quarters, and a
    /// peer whose queue would go past it is disconnected: a peer that never reads cannot
    /// grow our memory.
    pub max_send_queue: usize,
    /// Raise the soft limit on open files (`RLIMIT_NOFILE`) to the hard limit when the
    /// session starts, so that `max_connections` sockets and the file pool fit (Unix).
    pub raise_fd_limit: bool,
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
    /// Most files the session keeps open at once, over all its torrents (libtorrent's
    /// `file_pool_size`). The least recently used idle file is closed to open another, so a
    /// torrent of any number of files needs at most this many descriptors. The default leaves
    /// room for the peer sockets under the usual limit of 1,024 descriptors per process.
    pub file_pool_size: usize,
    /// Simulated free space for the torrents' writes, shared by them as a disk is (tests and
    /// drills of the disk-full handling); `None`, the default, writes as usual.
    pub disk_faults: Option<DiskFaults>,
    /// Message stream encryption (MSE/PE) of peer connections.
    pub encryption: Encryption,
    /// A PEM file of certificates HTTPS trackers may be signed by, besides the Mozilla roots
    /// (a private deployment's own CA, a test's).
    pub tracker_ca: Option<PathBuf>,
    /// Which transports peer connections use.
    pub transport: TransportPolicy,
}

/// Which transports peer connections use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransportPolicy {
    /// TCP only: no UDP socket for peers.
    Tcp,
    /// uTP only (BEP 29), in and out.
    Utp,
    /// Both accepted; outgoing connections try uTP first (as libtorrent prefers it) and TCP
    /// when uTP gets no answer.
    #[default]
    Both,
}

impl TransportPolicy {
    /// The name used in flags and config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Utp => "utp",
            Self::Both => "both",
        }
    }

    /// Whether uTP is used at all.
    pub fn utp(self) -> bool {
        self != Self::Tcp
    }
}

impl std::str::FromStr for TransportPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tcp" => Ok(Self::Tcp),
            "utp" => Ok(Self::Utp),
            "both" => Ok(Self::Both),
            _ => Err(format!("transport must be tcp, utp or both, not {s:?}")),
        }
    }
}

impl std::fmt::Display for TransportPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether peer connections are encrypted (MSE/PE, as libtorrent and transmission speak it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encryption {
    /// Plaintext only: encrypted peers are refused.
    Disabled,
    /// Both accepted; outgoing connections try encryption first (RC4 or plaintext, as the
    /// peer picks) and plaintext once more if the peer refuses it. libtorrent's default.
    #[default]
    Enabled,
    /// RC4 only: plaintext peers, and encrypted ones that pick plaintext, are refused.
    Required,
}

impl Encryption {
    /// The name used in flags and config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disabled => "disabled",
            Self::Enabled => "enabled",
            Self::Required => "required",
        }
    }
}

impl std::str::FromStr for Encryption {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "disabled" => Ok(Self::Disabled),
            "enabled" => Ok(Self::Enabled),
            "required" => Ok(Self::Required),
            _ => Err(format!(
                "encryption must be disabled, enabled or required, not {s:?}"
            )),
        }
    }
}

impl std::fmt::Display for Encryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            listen_addrs: Vec::new(),
            ports: (6881, 6889),
            max_connections: 200,
            max_peers_per_torrent: 50,
            max_known_peers: 2000,
            max_send_queue: 1 << 20,
            raise_fd_limit: true,
            upload_slots: 4,
            download_rate: 0,
            upload_rate: 0,
            timing: Timing::default(),
            client_name: format!("nexsuj {}", env!("CARGO_PKG_VERSION")),
            piece_memory: 32 << 20,
            file_pool_size: 256,
            disk_faults: None,
            encryption: Encryption::Enabled,
            tracker_ca: None,
            transport: TransportPolicy::Both,
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
    /// Pause after a failed `accept` (out of file descriptors, say); doubles with each
    /// failure in a row up to `accept_backoff_max`, so the accept loop does not spin.
    pub accept_backoff_min: Duration,
    /// Longest pause between failed `accept` calls.
    pub accept_backoff_max: Duration,
    /// First retry of the writes that failed (a full disk) and paused a torrent; doubles
    /// with each failed retry up to `disk_retry_max`.
    pub disk_retry_min: Duration,
    /// Longest wait between retries of failed writes.
    pub disk_retry_max: Duration,
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
            accept_backoff_min: Duration::from_millis(10),
            accept_backoff_max: Duration::from_secs(1),
            pex_interval: Duration::from_secs(60),
            disk_retry_min: Duration::from_secs(10),
            disk_retry_max: Duration::from_secs(600),
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
