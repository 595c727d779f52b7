//! The compact fixed-size peer record and its address key.

use std::net::{IpAddr, Ipv6Addr, SocketAddr, SocketAddrV6};

use ids::PeerId;
use tracker_proto::common::ResponsePeer;

use super::Traffic;

/// A peer's IP and port in 18 bytes (a `SocketAddr` takes 32): IPv4 is stored IPv4-mapped.
///
/// The caller canonicalises addresses (an IPv4-mapped IPv6 address arrives as IPv4), so the
/// mapped form is unambiguous here. IPv6 flow info and scope id are not kept: they mean
/// nothing to a remote peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PeerAddr([u8; 18]);

impl PeerAddr {
    /// The compact form of `addr`.
    pub(crate) fn new(addr: SocketAddr) -> Self {
        let ip = match addr.ip() {
            IpAddr::V4(v4) => v4.to_ipv6_mapped(),
            IpAddr::V6(v6) => v6,
        };
        let mut bytes = [0; 18];
        bytes[..16].copy_from_slice(&ip.octets());
        bytes[16..].copy_from_slice(&addr.port().to_be_bytes());
        Self(bytes)
    }

    /// Back to a `SocketAddr` (IPv4 for a mapped address).
    pub(crate) fn get(self) -> SocketAddr {
        let [ip @ .., p0, p1] = self.0;
        let port = u16::from_be_bytes([p0, p1]);
        match ip {
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d] => SocketAddr::from(([a, b, c, d], port)),
            _ => SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(ip), port, 0, 0)),
        }
    }
}

/// What the store keeps of one peer (64 bytes on 64-bit targets).
///
/// Whether it is a seeder is not stored: it is implied by the list the record sits in (the
/// seeders announced `left=0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PeerRecord {
    /// Its counters at its last announce (returned as [`super::AnnounceOutcome::previous`]).
    pub(crate) traffic: Traffic,
    /// When it last announced, in seconds since tracker start.
    pub(crate) last_seen: u32,
    /// When `traffic` was taken (an early announce keeps the older counters).
    pub(crate) traffic_at: u32,
    /// Where it listens; the key of the record within its swarm.
    pub(crate) addr: PeerAddr,
    /// Its id, handed out with it.
    pub(crate) peer_id: PeerId,
    /// Its `completed` event was counted already (so it is counted at most once).
    pub(crate) completed: bool,
}

impl PeerRecord {
    /// The record as it goes into an announce reply.
    pub(crate) fn response(&self) -> ResponsePeer {
        ResponsePeer {
            addr: self.addr.get(),
            peer_id: Some(self.peer_id),
        }
    }
}

/// Where a record lives in its swarm: which list (the top bit: 1 = seeders) and the index in
/// it, packed into 4 bytes to keep the address index small.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot(u32);

const SEEDER_BIT: u32 = 1 << 31;

impl Slot {
    /// The slot at `index` of the seeder list (`seeder`) or of the leecher list.
    ///
    /// A swarm never holds 2^31 peers (that would be 150 GB of records), so the index fits.
    pub(crate) fn new(seeder: bool, index: usize) -> Self {
        let index = u32::try_from(index).unwrap_or(u32::MAX) & !SEEDER_BIT;
        Self(if seeder { index | SEEDER_BIT } else { index })
    }

    /// The record is in the seeder list.
    pub(crate) fn is_seeder(self) -> bool {
        self.0 & SEEDER_BIT != 0
    }

    /// Its index within its list.
    pub(crate) fn index(self) -> usize {
        (self.0 & !SEEDER_BIT) as usize
    }
}
