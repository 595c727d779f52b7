//! Percent-decoding straight into the caller's storage, on top of [`ids::percent`].
//!
//! Binary parameters (`info_hash`, `peer_id`, `key`, `trackerid`) keep `+` as the byte 0x2B:
//! libtorrent, Transmission, qBittorrent and aria2 percent-encode every byte outside the
//! unreserved set, so a bare `+` can only be a literal one. Text parameters (`event`, `ip`,
//! `auth_key`, numbers) follow HTML forms and read `+` as a space.

pub(super) use ids::percent::{BadEscape, Decoder, EncodeWriter, Plus, decode as decode_vec};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_into_counts_past_the_end() {
        let mut buf = [0u8; 2];
        assert_eq!(decode_into(b"%41%42%43", Plus::Literal, &mut buf), Ok(3));
        assert_eq!(&buf, b"AB");
    }

    #[test]
    fn decode_into_refuses_bad_escapes() {
        assert_eq!(
            decode_into(b"ab%4", Plus::Literal, &mut [0; 4]),
            Err(BadEscape { offset: 2 })
        );
    }
}
