//! Percent-encoding (RFC 3986 §2.1): tracker queries carry info-hashes and peer ids this way,
//! magnet links their names and URLs.

use crate::hex;

/// A `%` not followed by two hex digits, at this byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadEscape {
    /// Byte offset of the `%`.
    pub offset: usize,
}

/// What a `+` decodes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plus {
    /// `+` is the byte 0x2B: binary values (`info_hash`, `peer_id`), which clients escape in
    /// full, so a bare `+` can only be a literal one.
    Literal,
    /// `+` is a space: text values written by HTML forms and browsers.
    Space,
}

/// RFC 3986 §2.3: the bytes that never need escaping.
pub fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Appends `bytes` with every byte outside the unreserved set written as `%XX` (upper case).
pub fn encode_into(out: &mut String, bytes: &[u8]) {
    encode_keeping(out, bytes, &[]);
}

/// Like [`encode_into`], but the bytes in `keep` stay as they are too (`:` and `/` in a URL).
pub fn encode_keeping(out: &mut String, bytes: &[u8], keep: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if is_unreserved(b) || keep.contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(DIGITS[usize::from(b >> 4)]));
            out.push(char::from(DIGITS[usize::from(b & 15)]));
        }
    }
}

/// A [`std::fmt::Write`] that percent-encodes what is written into it, so a value can be
/// formatted straight into a query string without a temporary `String`.
pub struct EncodeWriter<'a>(pub &'a mut String);

impl std::fmt::Write for EncodeWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        encode_into(self.0, s.as_bytes());
        Ok(())
    }
}

/// Iterates over the decoded bytes of one raw value.
pub struct Decoder<'a> {
    raw: &'a [u8],
    pos: usize,
    plus: Plus,
}

impl<'a> Decoder<'a> {
    /// Decodes `raw`, reading `+` as `plus` says.
    pub fn new(raw: &'a [u8], plus: Plus) -> Self {
        Self { raw, pos: 0, plus }
    }
}

impl Iterator for Decoder<'_> {
    type Item = Result<u8, BadEscape>;

    fn next(&mut self) -> Option<Self::Item> {
        let b = *self.raw.get(self.pos)?;
        let offset = self.pos;
        self.pos += 1;
        Some(match b {
            b'%' => {
                let hi = self.raw.get(self.pos).copied().and_then(hex::digit);
                let lo = self.raw.get(self.pos + 1).copied().and_then(hex::digit);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => {
                        self.pos += 2;
                        Ok(hi << 4 | lo)
                    }
                    _ => Err(BadEscape { offset }),
                }
            }
            b'+' if self.plus == Plus::Space => Ok(b' '),
            b => Ok(b),
        })
    }
}

/// Decodes a whole value into a new vector.
pub fn decode(raw: &[u8], plus: Plus) -> Result<Vec<u8>, BadEscape> {
    let mut out = Vec::with_capacity(raw.len());
    for b in Decoder::new(raw, plus) {
        out.push(b?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes_and_plus() {
        let raw = b"a%2Fb%2fc+d";
        assert_eq!(decode(raw, Plus::Literal), Ok(b"a/b/c+d".to_vec()));
        assert_eq!(decode(raw, Plus::Space), Ok(b"a/b/c d".to_vec()));
    }

    #[test]
    fn refuses_bad_escapes_and_says_where() {
        for (raw, offset) in [
            (&b"%G1"[..], 0),
            (b"%", 0),
            (b"%4", 0),
            (b"ab%4", 2),
            (b"%%41", 0),
            (b"x%1G", 1),
        ] {
            assert_eq!(decode(raw, Plus::Literal), Err(BadEscape { offset }), "{raw:?}");
        }
    }

    #[test]
    fn encodes_all_but_unreserved_and_kept() {
        let mut s = String::new();
        encode_into(&mut s, b"aZ9-._~ +/%\x00\xff");
        assert_eq!(s, "aZ9-._~%20%2B%2F%25%00%FF");
        let mut s = String::new();
        encode_keeping(&mut s, b"http://a b", b":/");
        assert_eq!(s, "http://a%20b");
    }
}
