//! The HTTP tracker protocol: announce (BEP 3, BEP 7, BEP 23, BEP 24, BEP 27 passkeys) and
//! scrape (BEP 48), as pure functions over bytes.
//!
//! - Tracker side: [`parse_announce`] and [`parse_scrape`] read the query string (the bytes
//!   after `?`); [`write_announce`], [`write_failure`] and [`write_scrape`] append bencoded
//!   replies to a caller's buffer.
//! - Client side: [`write_announce_query`], [`parse_announce_reply`], [`parse_scrape_reply`].
//!
//! This is the tracker's hot path, so it does not allocate behind the caller's back: the
//! parsers percent-decode `info_hash` and `peer_id` straight into `[u8; 20]` and allocate only
//! the `key`, `trackerid` and `auth_key` values (and the scrape's vector) they return; the
//! writers append to the caller's reusable `Vec<u8>`, writing dictionary keys in sorted order
//! by hand, so nothing is allocated beyond that vector's growth. Errors are [`HttpError`]s
//! whose messages are meant to be sent to users as the `failure reason`.
//!
//! ```
//! use tracker_proto::http::{self, AnnounceReply};
//! use tracker_proto::common::AnnounceResponse;
//!
//! let query = b"info_hash=%12%34%56%78%9a%bc%de%f1%23%45%67%89%ab%cd%ef%12%34%56%78%9a\
//!     &peer_id=-LT2080-%01%02%03%04%05%06%07%08%09%0a%0b%0c&port=6881&left=0&event=started";
//! let ann = http::parse_announce(query).unwrap();
//! assert_eq!(ann.request.port, 6881);
//! assert!(ann.compact);
//!
//! let mut out = Vec::new();
//! let resp = AnnounceResponse { interval: 1800, ..Default::default() };
//! http::write_announce(&mut out, &resp, ann.compact, ann.no_peer_id);
//! assert_eq!(out, b"d8:completei0e10:incompletei0e8:intervali1800e5:peers0:e");
//! assert_eq!(http::parse_announce_reply(&out).unwrap(), AnnounceReply::Ok(resp));
//! ```

mod announce;
mod error;
mod percent;
mod query;
mod scrape;
#[cfg(test)]
mod tests;

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::common::{AnnounceRequest, AnnounceResponse};

pub use announce::{MAX_REPLY_PEERS, parse_announce_reply, write_announce, write_failure};
pub use error::HttpError;
pub use query::{MAX_PARAMS, MAX_QUERY_LEN, MAX_TOKEN_LEN, parse_announce, write_announce_query};
pub use scrape::{parse_scrape, parse_scrape_reply, write_scrape};

/// An HTTP announce (BEP 3): the request both protocols share plus what only HTTP carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnnounce {
    /// The announce itself (`info_hash`, `peer_id`, `port`, counters, `event`, `numwant`,
    /// `ip`, `key`).
    pub request: AnnounceRequest,
    /// `compact=1` (BEP 23): peers as packed bytes. Absent means true.
    pub compact: bool,
    /// `no_peer_id=1`: leave peer ids out of dictionary peers.
    pub no_peer_id: bool,
    /// `auth_key` or `passkey`: a private tracker's user token (BEP 27 sites), printable
    /// ASCII. Trackers that put it in the path instead ignore this.
    pub auth_key: Option<String>,
    /// `trackerid`: the `tracker id` a previous reply handed out.
    pub tracker_id: Option<Vec<u8>>,
    /// `ipv4` (BEP 7): the peer's IPv4 address, when it announces over IPv6.
    pub ipv4: Option<Ipv4Addr>,
    /// `ipv6` (BEP 7): the peer's IPv6 address, when it announces over IPv4.
    pub ipv6: Option<Ipv6Addr>,
}

/// A tracker's reply to an HTTP announce (BEP 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnnounceReply {
    /// The swarm: interval, counts and peers.
    Ok(AnnounceResponse),
    /// `failure reason`: the tracker refused the announce.
    Failure(String),
}
