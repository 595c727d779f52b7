//! The DHT's 160-bit node ids (BEP 5) and the XOR metric on them. Info-hashes live in the
//! same space: a lookup for a torrent is a lookup for the node id equal to its info-hash.

use std::fmt;

use crate::{InfoHash, hex};

/// A DHT node id: 20 bytes, compared by XOR distance to a target.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub [u8; 20]);

/// The XOR of two ids, compared as a big-endian number: smaller is closer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Distance(pub [u8; 20]);

impl NodeId {
    /// The distance between two ids.
    pub fn distance(&self, other: &NodeId) -> Distance {
        let mut d = [0u8; 20];
        for (i, b) in d.iter_mut().enumerate() {
            *b = self.0[i] ^ other.0[i];
        }
        Distance(d)
    }

    /// How many leading bits `self` and `other` share (160 when equal): the index of the
    /// k-bucket `other` belongs to in a table centred on `self`.
    pub fn common_prefix(&self, other: &NodeId) -> u32 {
        self.distance(other).leading_zeros()
    }

    /// Bit `i` (0 is the most significant).
    pub fn bit(&self, i: u32) -> bool {
        i < 160 && self.0[(i / 8) as usize] & (0x80 >> (i % 8)) != 0
    }

    /// This id with bit `i` flipped and the bits after it taken from `rest` (a random id in
    /// the bucket that shares exactly `i` leading bits with `self`, for refreshing it).
    pub fn in_bucket(&self, i: u32, rest: &[u8; 20]) -> NodeId {
        let mut out = *rest;
        for bit in 0..i.min(160) {
            let byte = (bit / 8) as usize;
            let mask = 0x80 >> (bit % 8);
            out[byte] = (out[byte] & !mask) | (self.0[byte] & mask);
        }
        if i < 160 {
            let byte = (i / 8) as usize;
            let mask = 0x80 >> (i % 8);
            out[byte] = (out[byte] & !mask) | (!self.0[byte] & mask);
        }
        NodeId(out)
    }

    /// Lowercase hex, 40 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }
}

impl Distance {
    /// Leading zero bits (160 for a zero distance).
    pub fn leading_zeros(&self) -> u32 {
        let mut n = 0;
        for b in self.0 {
            if b != 0 {
                return n + b.leading_zeros();
            }
            n += 8;
        }
        n
    }
}

impl From<InfoHash> for NodeId {
    fn from(h: InfoHash) -> Self {
        NodeId(h.0)
    }
}

impl From<NodeId> for InfoHash {
    fn from(n: NodeId) -> Self {
        InfoHash(n.0)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NodeId(")?;
        hex::write(f, &self.0)?;
        f.write_str(")")
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        hex::write(f, &self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xor_metric() {
        let a = NodeId([0; 20]);
        let mut b = [0; 20];
        b[0] = 0x10;
        let b = NodeId(b);
        assert_eq!(a.distance(&a).leading_zeros(), 160);
        assert_eq!(a.common_prefix(&b), 3);
        assert!(b.bit(3) && !b.bit(2) && !b.bit(200));
        let mut c = [0; 20];
        c[19] = 1;
        assert!(a.distance(&NodeId(c)) < a.distance(&b), "closer by XOR");
        assert_eq!(a.distance(&b), b.distance(&a));
    }

    #[test]
    fn ids_in_a_bucket() {
        let own = NodeId([0xAB; 20]);
        for i in [0, 1, 7, 8, 100, 159] {
            let id = own.in_bucket(i, &[0x5C; 20]);
            assert_eq!(own.common_prefix(&id), i, "bucket {i}");
        }
    }
}
