//! The handshake (BEP 3): `\x13BitTorrent protocol`, 8 reserved bytes, info-hash, peer id.

use ids::{InfoHash, PeerId};

use crate::error::WireError;
use crate::frame::Parsed;

/// The protocol string, with its length byte in front.
pub const PROTOCOL: &[u8; 20] = b"\x13BitTorrent protocol";

/// Length of a handshake on the wire.
pub const HANDSHAKE_LEN: usize = 68;

/// The 8 reserved bytes: capability bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Reserved(pub [u8; 8]);

impl Reserved {
    /// BEP 10 extension protocol: byte 5, bit 0x10.
    pub const EXTENSION_PROTOCOL: (usize, u8) = (5, 0x10);
    /// BEP 6 fast extension: byte 7, bit 0x04.
    pub const FAST: (usize, u8) = (7, 0x04);
    /// BEP 5 DHT: byte 7, bit 0x01.
    pub const DHT: (usize, u8) = (7, 0x01);

    /// The bits nexsuj sends: extension protocol and fast extension.
    pub const fn nexsuj() -> Self {
        let mut r = [0u8; 8];
        r[Self::EXTENSION_PROTOCOL.0] |= Self::EXTENSION_PROTOCOL.1;
        r[Self::FAST.0] |= Self::FAST.1;
        Self(r)
    }

    /// True when the bit `(byte, mask)` is set.
    pub const fn has(&self, bit: (usize, u8)) -> bool {
        self.0[bit.0] & bit.1 != 0
    }

    /// The same bits with `(byte, mask)` set.
    pub const fn with(mut self, bit: (usize, u8)) -> Self {
        self.0[bit.0] |= bit.1;
        self
    }

    /// The peer supports the fast extension (BEP 6).
    pub const fn fast(&self) -> bool {
        self.has(Self::FAST)
    }

    /// The peer supports the extension protocol (BEP 10).
    pub const fn extension_protocol(&self) -> bool {
        self.has(Self::EXTENSION_PROTOCOL)
    }
}

/// A peer's handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Handshake {
    /// Capability bits.
    pub reserved: Reserved,
    /// The torrent (a v2 torrent sends the first 20 bytes of its SHA-256 info-hash).
    pub info_hash: InfoHash,
    /// The sender's peer id.
    pub peer_id: PeerId,
}

impl Handshake {
    /// The 68 bytes on the wire.
    pub fn to_bytes(&self) -> [u8; HANDSHAKE_LEN] {
        let mut out = [0u8; HANDSHAKE_LEN];
        out[..20].copy_from_slice(PROTOCOL);
        out[20..28].copy_from_slice(&self.reserved.0);
        out[28..48].copy_from_slice(&self.info_hash.0);
        out[48..68].copy_from_slice(&self.peer_id.0);
        out
    }

    /// Appends the handshake to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bytes());
    }

    /// Parses a handshake at the start of `buf`. The protocol string is checked as soon as
    /// its bytes are there, so a stranger is refused without waiting for 68 bytes.
    pub fn parse(buf: &[u8]) -> Result<Parsed<Self>, WireError> {
        let seen = buf.len().min(PROTOCOL.len());
        if buf[..seen] != PROTOCOL[..seen] {
            return Err(WireError::BadProtocol);
        }
        let Some(bytes) = buf.get(..HANDSHAKE_LEN) else {
            return Ok(Parsed::Incomplete {
                needed: HANDSHAKE_LEN - buf.len(),
            });
        };
        let mut hs = Self {
            reserved: Reserved([0; 8]),
            info_hash: InfoHash([0; 20]),
            peer_id: PeerId([0; 20]),
        };
        hs.reserved.0.copy_from_slice(&bytes[20..28]);
        hs.info_hash.0.copy_from_slice(&bytes[28..48]);
        hs.peer_id.0.copy_from_slice(&bytes[48..68]);
        Ok(Parsed::Done {
            value: hs,
            len: HANDSHAKE_LEN,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_early_refusal() {
        let hs = Handshake {
            reserved: Reserved::nexsuj(),
            info_hash: InfoHash([1; 20]),
            peer_id: PeerId(*b"-NX0001-abcdefghijkl"),
        };
        let bytes = hs.to_bytes();
        assert!(hs.reserved.fast() && hs.reserved.extension_protocol());
        assert!(!hs.reserved.has(Reserved::DHT));
        assert_eq!(Handshake::parse(&bytes), Ok(Parsed::Done { value: hs, len: 68 }));
        assert_eq!(
            Handshake::parse(&bytes[..30]),
            Ok(Parsed::Incomplete { needed: 38 })
        );
        assert_eq!(
            Handshake::parse(b"\x13BitTorrent"),
            Ok(Parsed::Incomplete { needed: 57 })
        );
        assert_eq!(Handshake::parse(b"GET / HTTP/1.1"), Err(WireError::BadProtocol));
        assert_eq!(Handshake::parse(b""), Ok(Parsed::Incomplete { needed: 68 }));
    }
}
