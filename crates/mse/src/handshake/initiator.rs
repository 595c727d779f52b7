//! Side A: the one that connected.

use ids::InfoHash;

use super::{
    Keys, MAX_PAD, Method, Methods, MseError, Progress, VC, be16, be32, establish, find_marker, opening,
    xor20,
};
use crate::cipher::{hash, pair};
use crate::dh::{self, KEY_LEN, PRIVATE_LEN};

enum State {
    /// Waiting for `Yb`.
    Key,
    /// Looking for `ENCRYPT(VC)` after `PadB`.
    Marker {
        keys: Keys,
        marker: [u8; 8],
    },
    /// Reading `crypto_select` and `len(PadD)`.
    Select {
        keys: Keys,
    },
    /// Skipping `PadD`.
    Pad {
        keys: Keys,
        method: Method,
        len: usize,
    },
    Over,
}

/// The initiator's handshake.
pub struct Initiator {
    skey: InfoHash,
    private: [u8; PRIVATE_LEN],
    provide: Methods,
    payload: Vec<u8>,
    input: Vec<u8>,
    state: State,
}

impl std::fmt::Debug for Initiator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Initiator")
            .field("skey", &self.skey)
            .finish_non_exhaustive()
    }
}

impl Initiator {
    /// Starts a handshake for torrent `skey` offering `provide`, with `payload` (our
    /// BitTorrent handshake, usually) sent as soon as the keys are known. `private` is 20
    /// random bytes and `pad` up to 512 random bytes. Returns the bytes to send first.
    pub fn new(
        skey: InfoHash,
        private: [u8; PRIVATE_LEN],
        pad: &[u8],
        provide: Methods,
        payload: &[u8],
    ) -> (Self, Vec<u8>) {
        let first = opening(&private, pad);
        let me = Self {
            skey,
            private,
            provide,
            payload: payload[..payload.len().min(usize::from(u16::MAX))].to_vec(),
            input: Vec::new(),
            state: State::Key,
        };
        (me, first)
    }

    /// Feeds bytes received from the responder.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<Progress, MseError> {
        self.input.extend_from_slice(bytes);
        let mut progress = Progress::default();
        loop {
            match std::mem::replace(&mut self.state, State::Over) {
                State::Key => {
                    if self.input.len() < KEY_LEN {
                        self.state = State::Key;
                        return Ok(progress);
                    }
                    let theirs: [u8; KEY_LEN] = self.input[..KEY_LEN].try_into().unwrap_or([0; KEY_LEN]);
                    self.input.drain(..KEY_LEN);
                    let secret = dh::shared_secret(&self.private, &theirs).ok_or(MseError::BadKey)?;
                    let (a, b) = pair(&secret, &self.skey.0);
                    let mut keys = Keys { enc: a, dec: b };
                    progress.send.extend_from_slice(&self.step3(&secret, &mut keys));
                    let mut marker = VC;
                    keys.dec.apply(&mut marker);
                    self.state = State::Marker { keys, marker };
                }
                State::Marker { keys, marker } => match find_marker(&self.input, &marker, MAX_PAD)? {
                    Some(at) => {
                        self.input.drain(..at + marker.len());
                        self.state = State::Select { keys };
                    }
                    None => {
                        self.state = State::Marker { keys, marker };
                        return Ok(progress);
                    }
                },
                State::Select { mut keys } => {
                    if self.input.len() < 6 {
                        self.state = State::Select { keys };
                        return Ok(progress);
                    }
                    let mut fields: Vec<u8> = self.input.drain(..6).collect();
                    keys.dec.apply(&mut fields);
                    let select = be32(&fields);
                    let method = Method::from_select(select)
                        .filter(|m| self.provide.has(*m))
                        .ok_or(MseError::BadSelect(select))?;
                    let len = be16(&fields[4..]);
                    if len > MAX_PAD {
                        return Err(MseError::PadTooLong(len));
                    }
                    self.state = State::Pad { keys, method, len };
                }
                State::Pad {
                    mut keys,
                    method,
                    len,
                } => {
                    if self.input.len() < len {
                        self.state = State::Pad { keys, method, len };
                        return Ok(progress);
                    }
                    let mut pad: Vec<u8> = self.input.drain(..len).collect();
                    keys.dec.apply(&mut pad);
                    progress.done = Some(establish(keys, method, self.skey, Vec::new(), &mut self.input));
                    return Ok(progress);
                }
                State::Over => return Err(MseError::Over),
            }
        }
    }

    /// Step 3: the synchronisation hash, the obfuscated info-hash, and the encrypted fields
    /// with the initial payload.
    fn step3(&self, secret: &[u8; KEY_LEN], keys: &mut Keys) -> Vec<u8> {
        let mut out = Vec::with_capacity(40 + 16 + self.payload.len());
        out.extend_from_slice(&hash(b"req1", secret));
        out.extend_from_slice(&xor20(&super::req2(&self.skey), &hash(b"req3", secret)));
        let at = out.len();
        out.extend_from_slice(&VC);
        out.extend_from_slice(&self.provide.0.to_be_bytes());
        out.extend_from_slice(&0u16.to_be_bytes()); // no PadC: the fields are encrypted already
        out.extend_from_slice(&(self.payload.len() as u16).to_be_bytes());
        out.extend_from_slice(&self.payload);
        keys.enc.apply(&mut out[at..]);
        out
    }
}
