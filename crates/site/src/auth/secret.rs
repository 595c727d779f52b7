//! Random secrets (passkeys, session tokens, e-mailed codes) from the operating system's
//! generator, and comparisons whose time does not depend on where two values differ.

use sha2::{Digest, Sha256};

use crate::error::SiteError;

/// `N` random bytes.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], SiteError> {
    rng::os_bytes().map_err(|e| SiteError::Random(e.to_string()))
}

/// Lowercase hex of `bytes` (the workspace's one hex writer).
pub use ids::hex::encode as hex;

/// A fresh passkey: 32 random hex digits (128 bits).
pub fn new_passkey() -> Result<String, SiteError> {
    Ok(hex(&random_bytes::<16>()?))
}

/// A fresh session token: 64 hex digits (256 bits).
pub fn new_token() -> Result<String, SiteError> {
    Ok(hex(&random_bytes::<32>()?))
}

/// A six-digit code, uniform over 000000–999999.
pub fn new_code() -> Result<String, SiteError> {
    loop {
        let n = u32::from_le_bytes(random_bytes::<4>()?);
        // Reject the top sliver so that every code is equally likely.
        if n < 4_294_000_000 {
            return Ok(format!("{:06}", n % 1_000_000));
        }
    }
}

/// SHA-256 of `s` in hex (how session tokens are stored).
pub fn sha256_hex(s: &str) -> String {
    hex(&Sha256::digest(s.as_bytes()))
}

/// Equality of two byte strings in time that depends only on their lengths.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Whether `s` looks like a passkey (32 hex digits).
pub fn is_passkey_shaped(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let pk = new_passkey().unwrap();
        assert!(is_passkey_shaped(&pk));
        assert_ne!(pk, new_passkey().unwrap());
        assert_eq!(new_token().unwrap().len(), 64);
        let code = new_code().unwrap();
        assert_eq!(code.len(), 6);
        assert!(code.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(hex(&[0, 0xab, 0xff]), "00abff");
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
        assert!(!is_passkey_shaped("xyz"));
    }
}
