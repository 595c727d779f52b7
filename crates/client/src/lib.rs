//! The nexsuj BitTorrent engine: download and seed over the peer wire protocol.
//!
//! - [`Session`]: listens (BEP 3 ports 6881–6889, IPv4 and IPv6), holds the torrents, the peer
//!   id (BEP 20 `-NX0001-`) and the session-wide rate limits; [`Session::snapshot`] shows
//!   everything for the HTTP API.
//! - [`TorrentHandle`]: one torrent — wait for completion, add peers, limits, recheck, stop.
//! - Inside: [`picker`] (rarest first, partial pieces first, sequential mode, endgame),
//!   [`choker`] (BEP 3: regular slots every 10 s, optimistic unchoke every 30 s, snubbed peers
//!   skipped), [`storage`] (positional I/O, SHA-1 checks off the async threads), [`resume`]
//!   (atomic snapshots and a journal), [`rate`] (token buckets), [`tracker`] (HTTP and UDP,
//!   BEP 12 tiers). Peers speak [`wire`] with the fast extension (BEP 6) and the extension
//!   protocol (BEP 10, ut_pex of BEP 11 except for private torrents, BEP 27).
//! - [`error`]: typed errors that carry their causes; [`error::chain`] prints one with them.
//!
//! ```no_run
//! # async fn demo() -> Result<(), client::ClientError> {
//! let torrent = metainfo::Torrent::from_bytes(&std::fs::read("a.torrent").unwrap()).unwrap();
//! let session = client::Session::new(client::SessionConfig::default()).await?;
//! let opts = client::AddOptions { dir: "downloads".into(), ..Default::default() };
//! let handle = session.add(torrent, opts).await?;
//! handle.wait_complete().await;
//! session.shutdown().await;
//! # Ok(()) }
//! ```

pub mod choker;
mod config;
mod counters;
pub mod dht;
pub mod error;
pub mod magnet;
mod net;
mod peer;
pub mod picker;
pub mod rate;
pub mod resume;
pub mod rng;
mod session;
mod snapshot;
pub mod storage;
mod torrent;
pub mod tracker;
mod utp;

pub use config::{AddOptions, Encryption, SessionConfig, Timing, TransportPolicy};
pub use counters::SessionCounters;
pub use error::{ClientError, MetadataError, TrackerError};
pub use session::Session;
pub use snapshot::{DiskStatus, PeerSnapshot, SessionSnapshot, TorrentSnapshot};
pub use storage::{Allocation, DiskFaults, FilePoolStats};
pub use torrent::TorrentHandle;
