//! The RC4 streams of an encrypted connection: keyed with SHA-1 of a label, the shared secret
//! and the info-hash, with the first 1024 bytes of keystream thrown away.

use rc4::consts::U20;
use rc4::{KeyInit, Rc4, StreamCipher};
use sha1::{Digest, Sha1};

/// Keystream bytes discarded before the first byte is encrypted.
const DISCARD: usize = 1024;

/// One direction's RC4 keystream.
pub struct Cipher(Rc4<U20>);

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher")
    }
}

impl Cipher {
    /// The stream keyed `SHA1(label, secret, skey)`, past its first 1024 bytes.
    pub(crate) fn new(label: &[u8; 4], secret: &[u8], skey: &[u8; 20]) -> Self {
        let key: [u8; 20] = Sha1::new()
            .chain_update(label)
            .chain_update(secret)
            .chain_update(skey)
            .finalize()
            .into();
        let mut rc4 = Rc4::<U20>::new(&key.into());
        rc4.apply_keystream(&mut [0u8; DISCARD]);
        Self(rc4)
    }

    /// Encrypts or decrypts `buf` in place (the same operation), advancing the stream.
    pub fn apply(&mut self, buf: &mut [u8]) {
        self.0.apply_keystream(buf);
    }
}

/// The initiator's stream (it encrypts with it; the responder decrypts) and the responder's.
pub(crate) fn pair(secret: &[u8], skey: &[u8; 20]) -> (Cipher, Cipher) {
    (
        Cipher::new(b"keyA", secret, skey),
        Cipher::new(b"keyB", secret, skey),
    )
}

/// `SHA1(label, parts…)`.
pub(crate) fn hash(label: &[u8], part: &[u8]) -> [u8; 20] {
    Sha1::new()
        .chain_update(label)
        .chain_update(part)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_stream_decrypts_what_its_twin_encrypted() {
        let (mut a, _) = pair(&[1; 96], &[2; 20]);
        let (mut a2, _) = pair(&[1; 96], &[2; 20]);
        let mut data = *b"the quick brown fox";
        a.apply(&mut data);
        assert_ne!(&data, b"the quick brown fox");
        a2.apply(&mut data);
        assert_eq!(&data, b"the quick brown fox");
    }

    #[test]
    fn rc4_matches_the_published_vector() {
        // RFC 6229: key 0x0102030405 (40 bits), keystream at offset 0.
        let mut rc4 = Rc4::<rc4::consts::U5>::new(&[1u8, 2, 3, 4, 5].into());
        let mut out = [0u8; 8];
        rc4.apply_keystream(&mut out);
        assert_eq!(out, [0xb2, 0x39, 0x63, 0x05, 0xf0, 0x3d, 0xc0, 0x27]);
    }
}
