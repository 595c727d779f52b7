//! Lowercase hex out, either case in: the form info-hashes take in logs, file names and
//! magnet links.

use std::fmt;

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex of any bytes.
pub fn encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Writes lowercase hex of `bytes` without an intermediate `String`.
pub fn write(f: &mut impl fmt::Write, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|&b| {
        f.write_char(char::from(DIGITS[usize::from(b >> 4)]))?;
        f.write_char(char::from(DIGITS[usize::from(b & 15)]))
    })
}

/// Exactly `N` bytes from `2 * N` hex digits (either case); `None` for any other input.
pub fn decode<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.as_bytes();
    if s.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (slot, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        *slot = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

/// Bytes from any even number of hex digits (either case); `None` for anything else.
pub fn decode_vec(s: &str) -> Option<Vec<u8>> {
    let s = s.as_bytes();
    if s.len() % 2 != 0 {
        return None;
    }
    s.chunks_exact(2)
        .map(|pair| Some((digit(pair[0])? << 4) | digit(pair[1])?))
        .collect()
}

/// The value of one hex digit, either case.
pub fn digit(c: u8) -> Option<u8> {
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
    fn any_even_length() {
        assert_eq!(decode_vec("00fF10"), Some(vec![0, 255, 16]));
        assert_eq!(decode_vec(""), Some(vec![]));
        assert_eq!(decode_vec("abc"), None);
        assert_eq!(decode_vec("zz"), None);
    }

    #[test]
    fn round_trips_and_refuses_bad_input() {
        let bytes = [0x00, 0x0f, 0xa5, 0xff];
        assert_eq!(encode(&bytes), "000fa5ff");
        let mut s = String::new();
        write(&mut s, &bytes).unwrap();
        assert_eq!(s, "000fa5ff");
        assert_eq!(decode::<4>("000FA5ff"), Some(bytes));
        assert_eq!(decode::<4>("000fa5f"), None);
        assert_eq!(decode::<4>("000fa5fg"), None);
        assert_eq!(decode::<4>("000fa5ff00"), None);
    }
}
