//! The BitTorrent tracker protocol for nexsuj, as pure functions over bytes (no sockets).
//!
//! - [`http`]: announce and scrape query strings (BEP 3; binary `info_hash`/`peer_id`
//!   percent-decoded) and bencoded replies: compact peers (BEP 23), `peers6` (BEP 7),
//!   `external ip` (BEP 24), dictionary peers, scrape `files` (BEP 48), `failure reason`.
//! - [`udp`]: the packets of BEP 15 (connect, announce, scrape, error) and the URL data
//!   option of BEP 41, so that a private passkey travels over UDP too.
//! - [`common`]: the announce request and reply both protocols share.
//!
//! ```
//! use ids::InfoHash;
//! use tracker_proto::common::AnnounceEvent;
//! let ev = AnnounceEvent::default();
//! assert_eq!(ev, AnnounceEvent::None);
//! assert_eq!(InfoHash([0xab; 20]).to_string().len(), 40);
//! ```

pub mod common;
pub mod http;
pub mod udp;
