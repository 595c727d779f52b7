//! Tests of the HTTP tracker protocol: query parsing, exact reply bytes, and property tests.

mod props;
mod query;
mod replies;
mod scrape;

use super::*;
use crate::common::{AnnounceEvent, AnnounceRequest, Transfer};
use ids::{InfoHash, PeerId};

/// `%00%01…%13`: an info-hash of bytes 0..20, fully encoded.
pub(super) const HASH: &str = "%00%01%02%03%04%05%06%07%08%09%0A%0B%0C%0D%0E%0F%10%11%12%13";
/// A libtorrent-style peer id: the prefix in clear, then 12 encoded bytes.
pub(super) const PEER: &str = "-LT2080-%8a%fd%11%a9k%ad%b5%a3%16%40%e5%0c";

pub(super) fn hash_bytes() -> [u8; 20] {
    std::array::from_fn(|i| i as u8)
}

/// The minimal valid query followed by `extra`.
pub(super) fn query(extra: &str) -> String {
    format!("info_hash={HASH}&peer_id={PEER}&port=6881&left=0{extra}")
}

pub(super) fn ok(extra: &str) -> HttpAnnounce {
    parse_announce(query(extra).as_bytes()).unwrap()
}

pub(super) fn err(q: &str) -> String {
    parse_announce(q.as_bytes()).unwrap_err().to_string()
}

/// An announce with every optional field empty.
pub(super) fn minimal(info_hash: [u8; 20], peer_id: [u8; 20], port: u16) -> HttpAnnounce {
    HttpAnnounce {
        request: AnnounceRequest {
            info_hash: InfoHash(info_hash),
            peer_id: PeerId(peer_id),
            port,
            transfer: Transfer::default(),
            event: AnnounceEvent::None,
            numwant: None,
            ip: None,
            key: None,
        },
        compact: true,
        no_peer_id: false,
        auth_key: None,
        tracker_id: None,
        ipv4: None,
        ipv6: None,
    }
}
