//! BEP 42: node ids bound to the node's IP address, so that one host cannot choose ids next to
//! a torrent and hide it. The first 21 bits of the id are the CRC32-C of the masked address
//! with three random bits `r` mixed in, and the id's last byte holds `r`. Addresses of local
//! networks (and loopback) are exempt: any id is valid for them.
//!
//! Like libtorrent by default, nexsuj *prefers* such ids and does not *enforce* them: a node
//! whose id fits its address may take the place of one whose id does not (see
//! [`crate::table`]), and our own id is derived from our external address once enough nodes
//! agree on what it is (see [`ExternalIp`]).

use std::collections::HashMap;
use std::net::IpAddr;

use ids::NodeId;

const V4_MASK: [u8; 4] = [0x03, 0x0f, 0x3f, 0xff];
const V6_MASK: [u8; 8] = [0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff];

/// CRC32-C (Castagnoli, reflected polynomial 0x82F63B78), bit by bit: it runs once per new id
/// and per node inserted, a few bytes each time.
pub fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Whether BEP 42 leaves `ip` alone: loopback, private, link-local and unspecified addresses.
pub fn is_exempt(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified(),
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || v6.to_ipv4_mapped().is_some_and(|v4| is_exempt(IpAddr::V4(v4)))
        }
    }
}

/// The 32-bit prefix source for `ip` with random bits `r` (0–7).
fn prefix(ip: IpAddr, r: u8) -> u32 {
    let mut bytes = [0u8; 8];
    let n = match ip {
        IpAddr::V4(v4) => {
            for (i, (o, m)) in v4.octets().iter().zip(V4_MASK).enumerate() {
                bytes[i] = o & m;
            }
            4
        }
        IpAddr::V6(v6) => {
            for (i, (o, m)) in v6.octets().iter().zip(V6_MASK).enumerate() {
                bytes[i] = o & m;
            }
            8
        }
    };
    bytes[0] |= (r & 7) << 5;
    crc32c(&bytes[..n])
}

/// A node id for a node at `ip`: 21 bits from the address, the rest from `random` (whose
/// last byte becomes the id's last byte and gives `r`).
pub fn id_for(ip: IpAddr, random: [u8; 20]) -> NodeId {
    let mut id = random;
    let crc = prefix(ip, random[19]).to_be_bytes();
    id[0] = crc[0];
    id[1] = crc[1];
    id[2] = (crc[2] & 0xf8) | (random[2] & 0x07);
    NodeId(id)
}

/// Whether `id` fits `ip` (always, for an exempt address).
pub fn is_valid(id: &NodeId, ip: IpAddr) -> bool {
    if is_exempt(ip) {
        return true;
    }
    let crc = prefix(ip, id.0[19]).to_be_bytes();
    id.0[0] == crc[0] && id.0[1] == crc[1] && (id.0[2] & 0xf8) == (crc[2] & 0xf8)
}

/// Votes from the nodes that answer us on what our external address is (BEP 42's `ip`
/// field). One vote per voter address; after [`ExternalIp::VOTES`] votes the address most
/// named wins.
#[derive(Debug, Default, Clone)]
pub struct ExternalIp {
    votes: HashMap<IpAddr, IpAddr>,
    decided: Option<IpAddr>,
}

impl ExternalIp {
    /// Votes needed before deciding.
    pub const VOTES: usize = 5;
    /// Voters remembered; beyond that the oldest decision stands until the votes are reset.
    const MAX_VOTERS: usize = 64;

    /// Records that `voter` (a node we queried, not a querier: those could be spoofed) sees
    /// us at `seen`. Returns the new external address when the decision changes.
    pub fn vote(&mut self, voter: IpAddr, seen: IpAddr) -> Option<IpAddr> {
        if self.votes.len() >= Self::MAX_VOTERS && !self.votes.contains_key(&voter) {
            self.votes.clear();
        }
        self.votes.insert(voter, seen);
        if self.votes.len() < Self::VOTES {
            return None;
        }
        let mut counts: HashMap<IpAddr, usize> = HashMap::new();
        for ip in self.votes.values() {
            *counts.entry(*ip).or_default() += 1;
        }
        let (best, n) = counts.into_iter().max_by_key(|(ip, n)| (*n, *ip))?;
        if n * 2 <= self.votes.len() || self.decided == Some(best) {
            return None;
        }
        self.decided = Some(best);
        Some(best)
    }

    /// The address decided on, if any.
    pub fn get(&self) -> Option<IpAddr> {
        self.decided
    }
}
