//! The ids shared by every nexsuj crate, at the bottom of the stack so that a torrent has one
//! info-hash type from the `.torrent` file to the tracker's swarm table and the peer handshake.
//!
//! - [`InfoHash`]: the 20 bytes a torrent is known by on the wire and at trackers (the SHA-1
//!   of `info` for v1 and hybrid torrents, the truncated SHA-256 for v2-only ones, BEP 52).
//! - [`InfoHashV2`]: the full 32-byte SHA-256 info-hash of BEP 52.
//! - [`PeerId`]: the 20 bytes a client picks for itself (BEP 20).
//! - [`NodeId`]: a DHT node's 160-bit id (BEP 5), with the XOR [`Distance`] to a target.
//! - [`hex`], [`base32`] and [`percent`]: the text forms they travel in (magnet links, tracker
//!   queries, file names of state, logs).
//!
//! ```
//! use ids::InfoHash;
//! let h = InfoHash::of_info(b"");
//! assert_eq!(h.to_string(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
//! assert_eq!(InfoHash::from_hex(&h.to_hex()), Some(h));
//! assert_eq!(InfoHash::from_base32(&ids::base32::encode(&h.0)), Some(h));
//! ```

pub mod base32;
pub mod base64;
pub mod compact;
pub mod hex;
mod node_id;
pub mod percent;

use std::fmt;

use sha1::Digest;

pub use node_id::{Distance, NodeId};

/// The 20-byte info-hash of a torrent: SHA-1 of the exact `info` bytes for v1 and hybrid
/// torrents, or the first 20 bytes of the SHA-256 for v2-only ones ([`InfoHashV2::truncated`]),
/// which is what trackers and the handshake carry (BEP 52).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct InfoHash(pub [u8; 20]);

/// The 32-byte v2 info-hash (SHA-256 of the exact `info` bytes, BEP 52).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InfoHashV2(pub [u8; 32]);

/// The 20-byte peer id a client picks for itself (BEP 20 conventions for its prefix).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(pub [u8; 20]);

/// Hashes the 20 bytes alone: the derived impl would also hash the array's length, which is
/// always 20 (a tracker hashes an info-hash on every announce).
impl std::hash::Hash for InfoHash {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write(&self.0);
    }
}

impl InfoHash {
    /// Hashes the raw bytes of an `info` dictionary with SHA-1 (the v1 info-hash).
    pub fn of_info(raw_info: &[u8]) -> Self {
        Self(sha1::Sha1::digest(raw_info).into())
    }

    /// Lowercase hex, 40 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    /// Parses 40 hex digits (either case).
    pub fn from_hex(s: &str) -> Option<Self> {
        hex::decode(s).map(Self)
    }

    /// Parses 32 base32 characters (either case, unpadded), the older magnet spelling.
    pub fn from_base32(s: &str) -> Option<Self> {
        let bytes = base32::decode(s).ok()?;
        (s.len() == 32).then_some(())?;
        bytes.try_into().ok().map(Self)
    }

    /// Appends the 20 bytes percent-encoded, as a tracker query carries them.
    pub fn percent_encode_into(&self, out: &mut String) {
        percent::encode_into(out, &self.0);
    }
}

impl InfoHashV2 {
    /// Hashes the raw bytes of an `info` dictionary with SHA-256.
    pub fn of_info(raw_info: &[u8]) -> Self {
        Self(sha2::Sha256::digest(raw_info).into())
    }

    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    /// Parses 64 hex digits (either case).
    pub fn from_hex(s: &str) -> Option<Self> {
        hex::decode(s).map(Self)
    }

    /// The first 20 bytes, which stand for a v2 torrent where a 20-byte hash is expected
    /// (tracker announces, the peer handshake).
    pub fn truncated(&self) -> InfoHash {
        let mut out = [0u8; 20];
        out.copy_from_slice(&self.0[..20]);
        InfoHash(out)
    }
}

impl PeerId {
    /// Lowercase hex, 40 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    /// Appends the 20 bytes percent-encoded, as a tracker query carries them.
    pub fn percent_encode_into(&self, out: &mut String) {
        percent::encode_into(out, &self.0);
    }
}

impl fmt::Debug for InfoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InfoHash(")?;
        hex::write(f, &self.0)?;
        f.write_str(")")
    }
}

impl fmt::Display for InfoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        hex::write(f, &self.0)
    }
}

impl fmt::Debug for InfoHashV2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InfoHashV2(")?;
        hex::write(f, &self.0)?;
        f.write_str(")")
    }
}

impl fmt::Display for InfoHashV2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        hex::write(f, &self.0)
    }
}

/// A peer id shows as text where its bytes are printable (most start `-XX1234-`).
impl fmt::Debug for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PeerId({:?})", String::from_utf8_lossy(&self.0))
    }
}

impl From<[u8; 20]> for InfoHash {
    fn from(bytes: [u8; 20]) -> Self {
        Self(bytes)
    }
}

impl From<[u8; 20]> for PeerId {
    fn from(bytes: [u8; 20]) -> Self {
        Self(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let h = InfoHash([0xab; 20]);
        assert_eq!(InfoHash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(InfoHash::from_hex(&h.to_hex().to_uppercase()), Some(h));
        assert_eq!(InfoHash::from_hex("abc"), None);
        assert_eq!(InfoHash::from_hex(&"g".repeat(40)), None);
        assert_eq!(format!("{h:?}"), format!("InfoHash({})", "ab".repeat(20)));
    }

    #[test]
    fn known_digests() {
        assert_eq!(
            InfoHash::of_info(b"").to_hex(),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert_eq!(
            InfoHashV2::of_info(b"").to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            InfoHashV2::of_info(b"").truncated().0,
            InfoHashV2::of_info(b"").0[..20]
        );
    }

    #[test]
    fn base32_needs_exactly_32_characters() {
        let h = InfoHash([0x5a; 20]);
        let b32 = base32::encode(&h.0);
        assert_eq!(InfoHash::from_base32(&b32), Some(h));
        assert_eq!(InfoHash::from_base32(&b32.to_lowercase()), Some(h));
        assert_eq!(InfoHash::from_base32(&b32[..31]), None);
        assert_eq!(InfoHash::from_base32(&format!("{b32}A")), None);
    }

    #[test]
    fn percent_form_escapes_binary_bytes() {
        let mut s = String::new();
        PeerId(*b"-NX0100-ab\x00\xff~.-_1234").percent_encode_into(&mut s);
        assert_eq!(s, "-NX0100-ab%00%FF~.-_1234");
    }
}
