//! Info-hashes: SHA-1 of the `info` bytes (v1) and SHA-256 of the same bytes (v2, BEP 52).

use std::fmt;

use sha1::Digest;

/// The 20-byte v1 info-hash (SHA-1 of the exact `info` bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InfoHashV1(pub [u8; 20]);

/// The 32-byte v2 info-hash (SHA-256 of the exact `info` bytes, BEP 52).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InfoHashV2(pub [u8; 32]);

impl InfoHashV1 {
    /// Hashes the raw bytes of an `info` dictionary.
    pub fn of_info(raw_info: &[u8]) -> Self {
        Self(sha1::Sha1::digest(raw_info).into())
    }

    /// Lowercase hex, 40 characters.
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }

    /// Parses 40 hex digits (either case).
    pub fn from_hex(s: &str) -> Option<Self> {
        from_hex(s).map(Self)
    }
}

impl InfoHashV2 {
    /// Hashes the raw bytes of an `info` dictionary.
    pub fn of_info(raw_info: &[u8]) -> Self {
        Self(sha2::Sha256::digest(raw_info).into())
    }

    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }

    /// Parses 64 hex digits (either case).
    pub fn from_hex(s: &str) -> Option<Self> {
        from_hex(s).map(Self)
    }

    /// The first 20 bytes, which stand for a v2 torrent where a 20-byte hash is expected
    /// (tracker announces, the peer handshake).
    pub fn truncated(&self) -> InfoHashV1 {
        let mut out = [0u8; 20];
        out.copy_from_slice(&self.0[..20]);
        InfoHashV1(out)
    }
}

impl fmt::Debug for InfoHashV1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InfoHashV1({})", self.to_hex())
    }
}

impl fmt::Display for InfoHashV1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for InfoHashV2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InfoHashV2({})", self.to_hex())
    }
}

impl fmt::Display for InfoHashV2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Lowercase hex of any bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Exactly `N` bytes from `2 * N` hex digits.
pub fn from_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.as_bytes();
    if s.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        out[i] = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
    }
    Some(out)
}

/// The value of one hex digit, either case.
pub(crate) fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let h = InfoHashV1([0xab; 20]);
        assert_eq!(InfoHashV1::from_hex(&h.to_hex()), Some(h));
        assert_eq!(InfoHashV1::from_hex(&h.to_hex().to_uppercase()), Some(h));
        assert_eq!(InfoHashV1::from_hex("abc"), None);
        assert_eq!(InfoHashV1::from_hex(&"g".repeat(40)), None);
    }

    #[test]
    fn known_digests() {
        assert_eq!(
            InfoHashV1::of_info(b"").to_hex(),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert_eq!(
            InfoHashV2::of_info(b"").to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
