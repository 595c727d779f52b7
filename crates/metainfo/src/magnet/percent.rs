//! Percent-encoding of magnet parameter values (RFC 3986 §2.1).

pub(super) use crate::info_hash::hex_digit;

/// Escapes every byte of `s` outside the RFC 3986 unreserved set (`A–Z a–z 0–9 - . _ ~`) and
/// outside `keep`, as `%XX` with uppercase hex digits.
pub(super) fn encode(s: &str, keep: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if is_unreserved(b) || keep.contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(DIGITS[usize::from(b >> 4)]));
            out.push(char::from(DIGITS[usize::from(b & 15)]));
        }
    }
    out
}

/// Undoes `%XX` escapes, and turns `+` into a space when `plus_as_space` (form encoding, as
/// browsers write `dn`). On a malformed escape, returns the byte offset of its `%`.
pub(super) fn decode(s: &str, plus_as_space: bool) -> Result<Vec<u8>, usize> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_digit);
                let lo = bytes.get(i + 2).copied().and_then(hex_digit);
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err(i);
                };
                out.push((hi << 4) | lo);
                i += 3;
            }
            b'+' if plus_as_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(out)
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
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
