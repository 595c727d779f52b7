//! Percent-decoding straight into the caller's storage, and percent-encoding (RFC 3986).
//!
//! Binary parameters (`info_hash`, `peer_id`, `key`, `trackerid`) keep `+` as the byte 0x2B:
//! libtorrent, Transmission, qBittorrent and aria2 percent-encode every byte outside the
//! unreserved set, so a bare `+` can only be a literal one. Text parameters (`event`, `ip`,
//! `auth_key`, numbers) follow HTML forms and read `+` as a space.

/// A `%` not followed by two hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BadEscape;

/// Whether `+` decodes to a space (text) or stays `+` (binary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Plus {
    /// Binary parameters: `+` is 0x2B.
    Literal,
    /// Text parameters: `+` is a space.
    Space,
}

/// Iterates over the decoded bytes of one raw parameter value.
pub(super) struct Decoder<'a> {
    raw: &'a [u8],
    pos: usize,
    plus: Plus,
}

impl<'a> Decoder<'a> {
    pub(super) fn new(raw: &'a [u8], plus: Plus) -> Self {
        Self { raw, pos: 0, plus }
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

impl Iterator for Decoder<'_> {
    type Item = Result<u8, BadEscape>;

    fn next(&mut self) -> Option<Self::Item> {
        let b = *self.raw.get(self.pos)?;
        self.pos += 1;
        Some(match b {
            b'%' => {
                let hi = self.raw.get(self.pos).copied().and_then(hex);
                let lo = self.raw.get(self.pos + 1).copied().and_then(hex);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => {
                        self.pos += 2;
                        Ok(hi << 4 | lo)
                    }
                    _ => Err(BadEscape),
                }
            }
            b'+' if self.plus == Plus::Space => Ok(b' '),
            b => Ok(b),
        })
    }
}

/// Decodes into `buf` and returns the decoded length, which may exceed `buf.len()` (the
/// bytes past the end are counted, not stored), so callers can report the real length.
pub(super) fn decode_into(raw: &[u8], plus: Plus, buf: &mut [u8]) -> Result<usize, BadEscape> {
    let mut n = 0;
    for b in Decoder::new(raw, plus) {
        let b = b?;
        if let Some(slot) = buf.get_mut(n) {
            *slot = b;
        }
        n += 1;
    }
    Ok(n)
}

/// Decodes into a new vector of exactly the decoded length.
pub(super) fn decode_vec(raw: &[u8], plus: Plus) -> Result<Vec<u8>, BadEscape> {
    let len = decode_into(raw, plus, &mut [])?;
    let mut out = Vec::with_capacity(len);
    for b in Decoder::new(raw, plus) {
        out.push(b?);
    }
    Ok(out)
}

/// RFC 3986 section 2.3: the bytes that never need escaping.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Appends `bytes` with every byte outside the unreserved set written as `%XX` (upper case).
pub(super) fn encode(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if is_unreserved(b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
}

/// A [`std::fmt::Write`] that percent-encodes what is written into it, so an address can be
/// formatted straight into a query string without a temporary `String`.
pub(super) struct EncodeWriter<'a>(pub(super) &'a mut String);

impl std::fmt::Write for EncodeWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        encode(self.0, s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes_and_plus() {
        let raw = b"a%2Fb%2fc+d";
        assert_eq!(decode_vec(raw, Plus::Literal), Ok(b"a/b/c+d".to_vec()));
        assert_eq!(decode_vec(raw, Plus::Space), Ok(b"a/b/c d".to_vec()));
    }

    #[test]
    fn refuses_bad_escapes() {
        for raw in [&b"%G1"[..], b"%", b"%4", b"ab%4", b"%%41", b"%1G"] {
            assert_eq!(decode_vec(raw, Plus::Literal), Err(BadEscape), "{raw:?}");
        }
    }

    #[test]
    fn decode_into_counts_past_the_end() {
        let mut buf = [0u8; 2];
        assert_eq!(decode_into(b"%41%42%43", Plus::Literal, &mut buf), Ok(3));
        assert_eq!(&buf, b"AB");
    }

    #[test]
    fn encodes_all_but_unreserved() {
        let mut s = String::new();
        encode(&mut s, b"aZ9-._~ +/%\x00\xff");
        assert_eq!(s, "aZ9-._~%20%2B%2F%25%00%FF");
    }
}
