//! Percent-encoding of magnet parameter values (RFC 3986 §2.1), on top of [`ids::percent`].

use ids::percent::{self, Plus};

/// Escapes every byte of `s` outside the RFC 3986 unreserved set (`A–Z a–z 0–9 - . _ ~`) and
/// outside `keep`, as `%XX` with uppercase hex digits.
pub(super) fn encode(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    percent::encode_keeping(&mut out, s.as_bytes(), keep);
    out
}

/// Undoes `%XX` escapes, and turns `+` into a space when `plus_as_space` (form encoding, as
/// browsers write `dn`). On a malformed escape, returns the byte offset of its `%`.
pub(super) fn decode(s: &str, plus_as_space: bool) -> Result<Vec<u8>, usize> {
    let plus = if plus_as_space { Plus::Space } else { Plus::Literal };
    percent::decode(s.as_bytes(), plus).map_err(|e| e.offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_outside_unreserved() {
        assert_eq!(
            encode("a b+c&d=e%f~g.h-i_j", b""),
            "a%20b%2Bc%26d%3De%25f~g.h-i_j"
        );
        assert_eq!(encode("é", b""), "%C3%A9");
        assert_eq!(encode("[::1]:80", b":[]"), "[::1]:80");
    }

    #[test]
    fn decodes_escapes_and_plus() {
        assert_eq!(decode("a+b%20c%2b", true).unwrap(), b"a b c+");
        assert_eq!(decode("a+b", false).unwrap(), b"a+b");
        assert_eq!(decode("%C3%a9", false).unwrap(), "é".as_bytes());
    }

    #[test]
    fn reports_bad_escapes() {
        assert_eq!(decode("ab%", false), Err(2));
        assert_eq!(decode("ab%4", false), Err(2));
        assert_eq!(decode("x%zz", false), Err(1));
        assert_eq!(decode("%%41", false), Err(0));
    }
}
