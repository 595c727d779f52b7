//! Tests of the swarm store: one module per concern, helpers here.

mod lifecycle;
mod model;
mod rules;
mod sampling;
mod threads;

use std::net::{Ipv6Addr, SocketAddr};

use ids::{InfoHash, PeerId};
use tracker_proto::common::{AnnounceEvent, Transfer};

use super::{Announce, SwarmConfig, Swarms};

/// An info-hash for torrent `n`; its first bytes vary, so torrents spread over the shards.
pub(super) fn hash(n: u32) -> InfoHash {
    let mut h = [0x5a; 20];
    h[..4].copy_from_slice(&n.wrapping_mul(0x9E37_79B9).to_le_bytes());
    h[16..].copy_from_slice(&n.to_le_bytes());
    InfoHash(h)
}

/// A peer id for client `n`.
pub(super) fn peer_id(n: u32) -> PeerId {
    let mut id = *b"-NX0001-000000000000";
    id[16..].copy_from_slice(&n.to_be_bytes());
    PeerId(id)
}

/// The address of peer `n`: an IPv4 address, or for odd `n` above 1000 an IPv6 one.
pub(super) fn addr(n: u32) -> SocketAddr {
    let port = 6881 + (n % 7) as u16;
    if n > 1000 && n % 2 == 1 {
        let [a, b, c, d] = n.to_be_bytes();
        let ip = Ipv6Addr::new(
            0x2001,
            0xdb8,
            0,
            0,
            0,
            0,
            u16::from_be_bytes([a, b]),
            u16::from_be_bytes([c, d]),
        );
        SocketAddr::from((ip, port))
    } else {
        SocketAddr::from((n.to_be_bytes(), port))
    }
}

/// A regular announce of peer `p` (peer id `p`) in torrent `t`, leeching, wanting 50 peers.
pub(super) fn leecher(t: u32, p: u32) -> Announce {
    Announce {
        info_hash: hash(t),
        peer_id: peer_id(p),
        addr: addr(p),
        transfer: Transfer {
            uploaded: u64::from(p),
            downloaded: 10,
            left: 100,
        },
        event: AnnounceEvent::None,
        numwant: 50,
    }
}

/// The same as [`leecher`] with nothing left.
pub(super) fn seeder(t: u32, p: u32) -> Announce {
    Announce {
        transfer: Transfer {
            left: 0,
            ..leecher(t, p).transfer
        },
        ..leecher(t, p)
    }
}

/// `a` with `event`.
pub(super) fn with(a: Announce, event: AnnounceEvent) -> Announce {
    Announce { event, ..a }
}

/// A store with the default config and a few shards.
pub(super) fn store() -> Swarms {
    Swarms::new(SwarmConfig {
        shards: 4,
        ..SwarmConfig::default()
    })
}
