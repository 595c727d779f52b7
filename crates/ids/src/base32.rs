//! RFC 4648 base32 (alphabet `A–Z 2–7`, either case, no padding), the older spelling of
//! `urn:btih:` info-hashes in magnet links (BEP 9).

/// A character outside the base32 alphabet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadSymbol {
    /// Index of the character (in characters, not bytes).
    pub position: usize,
    /// The character.
    pub found: char,
}

/// Decodes unpadded base32; trailing bits that do not fill a byte are dropped.
pub fn decode(s: &str) -> Result<Vec<u8>, BadSymbol> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let mut acc: u16 = 0;
    let mut bits = 0u32;
    for (position, found) in s.chars().enumerate() {
        let v = symbol(found).ok_or(BadSymbol { position, found })?;
        acc = (acc << 5) | u16::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

fn symbol(c: char) -> Option<u8> {
    let b = u8::try_from(c).ok()?;
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a'),
        b'2'..=b'7' => Some(b - b'2' + 26),
        _ => None,
    }
}

/// Unpadded uppercase base32.
pub fn encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4648 §10 test vectors, padding removed.
    const VECTORS: &[(&str, &str)] = &[
        ("", ""),
        ("f", "MY"),
        ("fo", "MZXQ"),
        ("foo", "MZXW6"),
        ("foob", "MZXW6YQ"),
        ("fooba", "MZXW6YTB"),
        ("foobar", "MZXW6YTBOI"),
    ];

    #[test]
    fn rfc_4648_vectors() {
        for (plain, coded) in VECTORS {
            assert_eq!(encode(plain.as_bytes()), *coded);
            assert_eq!(decode(coded).unwrap(), plain.as_bytes());
            assert_eq!(decode(&coded.to_lowercase()).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn names_the_bad_symbol() {
        assert_eq!(
            decode("MZ1W"),
            Err(BadSymbol {
                position: 2,
                found: '1'
            })
        );
        assert_eq!(
            decode("MZé"),
            Err(BadSymbol {
                position: 2,
                found: 'é'
            })
        );
        assert_eq!(
            decode("MZ=="),
            Err(BadSymbol {
                position: 2,
                found: '='
            })
        );
    }
}
