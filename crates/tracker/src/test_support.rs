//! Test doubles shared by the crate's unit tests.

use ids::{InfoHash, PeerId};
use tracker_proto::common::{AnnounceEvent, AnnounceRequest, Transfer};

use crate::access::{AccessPolicy, AccessRequest, Refusal, UserId};

/// A started announce for torrent `[7; 20]` by peer `peer` (id `[peer; 20]`, port
/// 6881 + peer) with `left` bytes to go.
pub(crate) fn request(peer: u8, left: u64) -> AnnounceRequest {
    AnnounceRequest {
        info_hash: InfoHash([7; 20]),
        peer_id: PeerId([peer; 20]),
        port: 6881 + u16::from(peer),
        transfer: Transfer {
            uploaded: 0,
            downloaded: 0,
            left,
        },
        event: AnnounceEvent::Started,
        numwant: None,
        ip: None,
        key: None,
    }
}

/// A stand-in for the site: one passkey, one registered torrent.
pub(crate) struct Site;

impl AccessPolicy for Site {
    fn check_announce(&self, req: &AccessRequest<'_>) -> Result<Option<UserId>, Refusal> {
        let user = match req.passkey {
            None => return Err(Refusal::MissingPasskey),
            Some("alice") => UserId(1),
            Some("bob") => UserId(2),
            Some(_) => return Err(Refusal::BadPasskey),
        };
        if req.info_hash.0 != [7; 20] {
            return Err(Refusal::UnregisteredTorrent);
        }
        Ok(Some(user))
    }

    fn check_scrape(&self, info_hash: &InfoHash, _: Option<&str>) -> Result<(), Refusal> {
        if info_hash.0 == [7; 20] {
            Ok(())
        } else {
            Err(Refusal::UnregisteredTorrent)
        }
    }
}
