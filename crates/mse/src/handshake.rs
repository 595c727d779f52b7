//! The five steps of the handshake, as two state machines fed with whatever bytes arrive:
//!
//! 1. A → B: `Ya`, `PadA`
//! 2. B → A: `Yb`, `PadB`
//! 3. A → B: `HASH('req1', S)`, `HASH('req2', SKEY) xor HASH('req3', S)`,
//!    `ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA))`, `ENCRYPT(IA)`
//! 4. B → A: `ENCRYPT(VC, crypto_select, len(PadD), PadD)`, then B's stream
//! 5. A → B: A's stream
//!
//! A hostile peer can make either side buffer at most a public key, 512 bytes of padding, the
//! fields and a 64 KiB initial payload; a side that has not found its synchronisation marker
//! within the padding the protocol allows gives up.

use ids::InfoHash;

use crate::cipher::{Cipher, hash};
use crate::dh::{self, KEY_LEN, PRIVATE_LEN};

/// Longest padding a side may send before its marker or inside the encrypted fields.
pub const MAX_PAD: usize = 512;
/// The verification constant: 8 zero bytes, encrypted.
const VC: [u8; 8] = [0; 8];

/// A set of methods: bit 1 plaintext, bit 2 RC4 (`crypto_provide`, `crypto_select`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Methods(pub u32);

impl Methods {
    /// Plaintext after the handshake (only the handshake is obfuscated).
    pub const PLAINTEXT: Self = Self(1);
    /// RC4 for the whole connection.
    pub const RC4: Self = Self(2);
    /// Either.
    pub const BOTH: Self = Self(3);

    fn has(self, m: Method) -> bool {
        self.0 & m.bit() != 0
    }
}

/// What the connection runs under once the handshake is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The stream is plaintext.
    Plaintext,
    /// The stream is RC4-encrypted both ways.
    Rc4,
}

impl Method {
    fn bit(self) -> u32 {
        match self {
            Self::Plaintext => 1,
            Self::Rc4 => 2,
        }
    }

    fn from_select(bits: u32) -> Option<Self> {
        match bits {
            1 => Some(Self::Plaintext),
            2 => Some(Self::Rc4),
            _ => None,
        }
    }
}

/// Why a handshake failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MseError {
    /// Their Diffie–Hellman key is one no honest peer sends.
    #[error("the peer's public key is invalid")]
    BadKey,
    /// The marker after the padding never came.
    #[error("no synchronisation marker within the padding the protocol allows")]
    NoSync,
    /// The obfuscated info-hash is none of ours.
    #[error("the peer asks for a torrent we do not have")]
    UnknownTorrent,
    /// The decrypted verification constant is not zeros (wrong keys).
    #[error("the verification constant does not decrypt to zeros")]
    BadVc,
    /// Neither RC4 nor plaintext is acceptable to both.
    #[error("no method in common: the peer offers {offered:#x}, we allow {allowed:#x}")]
    NoCommonMethod {
        /// The peer's `crypto_provide`.
        offered: u32,
        /// Ours.
        allowed: u32,
    },
    /// The responder picked something we did not offer, or more than one method.
    #[error("the peer selected {0:#x}, which we did not offer")]
    BadSelect(u32),
    /// A padding length over [`MAX_PAD`].
    #[error("padding of {0} bytes (at most 512)")]
    PadTooLong(usize),
    /// Bytes after a failure or after the end.
    #[error("the handshake is already over")]
    Over,
}

/// The established connection.
#[derive(Debug)]
pub struct Established {
    /// RC4 or plaintext from here on.
    pub method: Method,
    /// The torrent the connection is for.
    pub skey: InfoHash,
    /// Encrypts what we send from now on (`None` for plaintext).
    pub encrypt: Option<Cipher>,
    /// Decrypts what we receive from now on (`None` for plaintext).
    pub decrypt: Option<Cipher>,
    /// The peer's stream already received, decrypted: for a responder, the initiator's
    /// initial payload (its BitTorrent handshake) and whatever followed it.
    pub received: Vec<u8>,
}

/// What one call produced: bytes to send, and the connection once established.
#[derive(Debug, Default)]
pub struct Progress {
    /// Write these to the peer.
    pub send: Vec<u8>,
    /// Set once the handshake is complete (nothing more is to be fed).
    pub done: Option<Established>,
}

/// `HASH('req2', SKEY)`: what a responder indexes its torrents by.
pub fn req2(skey: &InfoHash) -> [u8; 20] {
    hash(b"req2", &skey.0)
}

/// Whether a connection's first bytes are a plaintext BitTorrent handshake (`Some(true)`),
/// something else (`Some(false)`), or cannot tell yet (`None`: fewer than 20 bytes so far,
/// all of them matching).
pub fn looks_plaintext(first: &[u8]) -> Option<bool> {
    const PSTR: &[u8; 20] = b"\x13BitTorrent protocol";
    let n = first.len().min(PSTR.len());
    if first[..n] != PSTR[..n] {
        return Some(false);
    }
    (n == PSTR.len()).then_some(true)
}

fn xor20(a: &[u8; 20], b: &[u8; 20]) -> [u8; 20] {
    std::array::from_fn(|i| a[i] ^ b[i])
}

fn be16(b: &[u8]) -> usize {
    usize::from(u16::from_be_bytes([b[0], b[1]]))
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// The position of `needle` in the first `limit + needle.len()` bytes of `hay`; `Err` when it
/// cannot be there any more.
fn find_marker(hay: &[u8], needle: &[u8], limit: usize) -> Result<Option<usize>, MseError> {
    let end = hay.len().min(limit + needle.len());
    if let Some(i) = hay[..end].windows(needle.len()).position(|w| w == needle) {
        return Ok(Some(i));
    }
    if hay.len() >= limit + needle.len() {
        return Err(MseError::NoSync);
    }
    Ok(None)
}

/// The streams once keyed: `enc` for what we send, `dec` for what we receive.
struct Keys {
    enc: Cipher,
    dec: Cipher,
}

/// Finishes: decrypts the bytes left over under `method`.
fn establish(
    keys: Keys,
    method: Method,
    skey: InfoHash,
    mut received: Vec<u8>,
    rest: &mut Vec<u8>,
) -> Established {
    let Keys { enc, mut dec } = keys;
    let mut tail = std::mem::take(rest);
    if method == Method::Rc4 {
        dec.apply(&mut tail);
    }
    received.extend_from_slice(&tail);
    let rc4 = method == Method::Rc4;
    Established {
        method,
        skey,
        encrypt: rc4.then_some(enc),
        decrypt: rc4.then_some(dec),
        received,
    }
}

mod initiator;
mod responder;

pub use initiator::Initiator;
pub use responder::Responder;

#[cfg(test)]
mod tests;

/// Bytes a side sends first: its public key and its padding.
fn opening(private: &[u8; PRIVATE_LEN], pad: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(KEY_LEN + pad.len());
    out.extend_from_slice(&dh::public_key(private));
    out.extend_from_slice(&pad[..pad.len().min(MAX_PAD)]);
    out
}
