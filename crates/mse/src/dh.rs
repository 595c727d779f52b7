//! The protocol's Diffie–Hellman exchange: the 768-bit prime every client uses, generator 2,
//! 160-bit private keys, public keys and the shared secret as 96 big-endian bytes.

use num_bigint::BigUint;

/// Bytes of a public key or a shared secret.
pub const KEY_LEN: usize = 96;
/// Bytes of a private key (160 bits, as libtorrent and transmission use).
pub const PRIVATE_LEN: usize = 20;

/// The prime P of the specification (big-endian).
const PRIME: [u8; KEY_LEN] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC9, 0x0F, 0xDA, 0xA2, 0x21, 0x68, 0xC2, 0x34, 0xC4,
    0xC6, 0x62, 0x8B, 0x80, 0xDC, 0x1C, 0xD1, 0x29, 0x02, 0x4E, 0x08, 0x8A, 0x67, 0xCC, 0x74, 0x02, 0x0B,
    0xBE, 0xA6, 0x3B, 0x13, 0x9B, 0x22, 0x51, 0x4A, 0x08, 0x79, 0x8E, 0x34, 0x04, 0xDD, 0xEF, 0x95, 0x19,
    0xB3, 0xCD, 0x3A, 0x43, 0x1B, 0x30, 0x2B, 0x0A, 0x6D, 0xF2, 0x5F, 0x14, 0x37, 0x4F, 0xE1, 0x35, 0x6D,
    0x6D, 0x51, 0xC2, 0x45, 0xE4, 0x85, 0xB5, 0x76, 0x62, 0x5E, 0x7E, 0xC6, 0xF4, 0x4C, 0x42, 0xE9, 0xA6,
    0x3A, 0x36, 0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x05, 0x63,
];

fn prime() -> BigUint {
    BigUint::from_bytes_be(&PRIME)
}

/// `n` as exactly [`KEY_LEN`] big-endian bytes (zero-padded on the left).
fn to_key(n: &BigUint) -> [u8; KEY_LEN] {
    let bytes = n.to_bytes_be();
    let mut out = [0u8; KEY_LEN];
    // n < P < 2^768, so it always fits.
    out[KEY_LEN - bytes.len()..].copy_from_slice(&bytes);
    out
}

/// Our public key `2^private mod P`.
pub fn public_key(private: &[u8; PRIVATE_LEN]) -> [u8; KEY_LEN] {
    let x = BigUint::from_bytes_be(private);
    to_key(&BigUint::from(2u8).modpow(&x, &prime()))
}

/// The shared secret `theirs^private mod P`; `None` when their key is one a peer cannot
/// honestly send (0, 1, P − 1 or beyond: each forces a known secret).
pub fn shared_secret(private: &[u8; PRIVATE_LEN], theirs: &[u8; KEY_LEN]) -> Option<[u8; KEY_LEN]> {
    let p = prime();
    let y = BigUint::from_bytes_be(theirs);
    let one = BigUint::from(1u8);
    if y <= one || y >= &p - &one {
        return None;
    }
    Some(to_key(&y.modpow(&BigUint::from_bytes_be(private), &p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_reach_the_same_secret() {
        let a = [7u8; PRIVATE_LEN];
        let b = [0x5au8; PRIVATE_LEN];
        let sa = shared_secret(&a, &public_key(&b)).unwrap();
        let sb = shared_secret(&b, &public_key(&a)).unwrap();
        assert_eq!(sa, sb);
        assert_ne!(sa, [0; KEY_LEN]);
    }

    #[test]
    fn small_keys_are_the_generator_power() {
        let mut one = [0u8; PRIVATE_LEN];
        one[PRIVATE_LEN - 1] = 10;
        let k = public_key(&one);
        assert_eq!(&k[..KEY_LEN - 2], &[0; KEY_LEN - 2][..]);
        assert_eq!(&k[KEY_LEN - 2..], &[0x04, 0x00], "2^10 = 1024");
    }

    #[test]
    fn trivial_public_keys_are_refused() {
        let a = [7u8; PRIVATE_LEN];
        let mut k = [0u8; KEY_LEN];
        assert!(shared_secret(&a, &k).is_none());
        k[KEY_LEN - 1] = 1;
        assert!(shared_secret(&a, &k).is_none());
        let mut p_minus_1 = PRIME;
        p_minus_1[KEY_LEN - 1] -= 1;
        assert!(shared_secret(&a, &p_minus_1).is_none());
        assert!(shared_secret(&a, &PRIME).is_none());
        assert!(shared_secret(&a, &[0xff; KEY_LEN]).is_none());
        k[KEY_LEN - 1] = 2;
        assert!(shared_secret(&a, &k).is_some());
    }
}
