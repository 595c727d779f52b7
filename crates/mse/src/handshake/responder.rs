//! Side B: the one that accepted.

use ids::InfoHash;

use super::{
    Keys, MAX_PAD, Method, Methods, MseError, Progress, VC, be16, be32, establish, find_marker, opening,
    xor20,
};
use crate::cipher::{hash, pair};
use crate::dh::{self, KEY_LEN, PRIVATE_LEN};

enum State {
    /// Waiting for `Ya`.
    Key,
    /// Looking for `HASH('req1', S)` after `PadA`.
    Marker {
        secret: Box<[u8; KEY_LEN]>,
        marker: [u8; 20],
    },
    /// Reading the obfuscated info-hash.
    Skey {
        secret: Box<[u8; KEY_LEN]>,
    },
    /// Reading `VC`, `crypto_provide` and `len(PadC)`.
    Provide {
        skey: InfoHash,
        keys: Keys,
    },
    /// Skipping `PadC`, reading `len(IA)`.
    Pad {
        skey: InfoHash,
        keys: Keys,
        method: Method,
        len: usize,
    },
    /// Reading the initial payload.
    Payload {
        skey: InfoHash,
        keys: Keys,
        method: Method,
        len: usize,
    },
    Over,
}

/// The responder's handshake.
pub struct Responder {
    private: [u8; PRIVATE_LEN],
    pad: Vec<u8>,
    allowed: Methods,
    input: Vec<u8>,
    state: State,
}

impl std::fmt::Debug for Responder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Responder").finish_non_exhaustive()
    }
}

impl Responder {
    /// A responder accepting `allowed` (RC4 is chosen whenever both sides allow it), with
    /// `private` 20 random bytes and `pad` up to 512 random bytes.
    pub fn new(private: [u8; PRIVATE_LEN], pad: &[u8], allowed: Methods) -> Self {
        Self {
            private,
            pad: pad[..pad.len().min(MAX_PAD)].to_vec(),
            allowed,
            input: Vec::new(),
            state: State::Key,
        }
    }

    /// Feeds bytes received from the initiator; `lookup` names the torrent whose
    /// [`req2`](super::req2) hash is given.
    pub fn receive(
        &mut self,
        bytes: &[u8],
        lookup: impl Fn(&[u8; 20]) -> Option<InfoHash>,
    ) -> Result<Progress, MseError> {
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
                    progress
                        .send
                        .extend_from_slice(&opening(&self.private, &self.pad));
                    let marker = hash(b"req1", &secret);
                    self.state = State::Marker {
                        secret: Box::new(secret),
                        marker,
                    };
                }
                State::Marker { secret, marker } => match find_marker(&self.input, &marker, MAX_PAD)? {
                    Some(at) => {
                        self.input.drain(..at + marker.len());
                        self.state = State::Skey { secret };
                    }
                    None => {
                        self.state = State::Marker { secret, marker };
                        return Ok(progress);
                    }
                },
                State::Skey { secret } => {
                    if self.input.len() < 20 {
                        self.state = State::Skey { secret };
                        return Ok(progress);
                    }
                    let obfuscated: [u8; 20] = self.input[..20].try_into().unwrap_or([0; 20]);
                    self.input.drain(..20);
                    let skey = lookup(&xor20(&obfuscated, &hash(b"req3", &secret[..])))
                        .ok_or(MseError::UnknownTorrent)?;
                    let (a, b) = pair(&secret[..], &skey.0);
                    self.state = State::Provide {
                        skey,
                        keys: Keys { enc: b, dec: a },
                    };
                }
                State::Provide { skey, mut keys } => {
                    if self.input.len() < 14 {
                        self.state = State::Provide { skey, keys };
                        return Ok(progress);
                    }
                    let mut fields: Vec<u8> = self.input.drain(..14).collect();
                    keys.dec.apply(&mut fields);
                    if fields[..8] != VC {
                        return Err(MseError::BadVc);
                    }
                    let offered = Methods(be32(&fields[8..]));
                    let method = [Method::Rc4, Method::Plaintext]
                        .into_iter()
                        .find(|m| offered.has(*m) && self.allowed.has(*m))
                        .ok_or(MseError::NoCommonMethod {
                            offered: offered.0,
                            allowed: self.allowed.0,
                        })?;
                    let len = be16(&fields[12..]);
                    if len > MAX_PAD {
                        return Err(MseError::PadTooLong(len));
                    }
                    // Step 4: our half of the fields (no PadD); our stream follows.
                    let mut reply = Vec::with_capacity(14);
                    reply.extend_from_slice(&VC);
                    reply.extend_from_slice(&method.bit().to_be_bytes());
                    reply.extend_from_slice(&0u16.to_be_bytes());
                    keys.enc.apply(&mut reply);
                    progress.send.extend_from_slice(&reply);
                    self.state = State::Pad {
                        skey,
                        keys,
                        method,
                        len,
                    };
                }
                State::Pad {
                    skey,
                    mut keys,
                    method,
                    len,
                } => {
                    if self.input.len() < len + 2 {
                        self.state = State::Pad {
                            skey,
                            keys,
                            method,
                            len,
                        };
                        return Ok(progress);
                    }
                    let mut fields: Vec<u8> = self.input.drain(..len + 2).collect();
                    keys.dec.apply(&mut fields);
                    let len = be16(&fields[len..]);
                    self.state = State::Payload {
                        skey,
                        keys,
                        method,
                        len,
                    };
                }
                State::Payload {
                    skey,
                    mut keys,
                    method,
                    len,
                } => {
                    if self.input.len() < len {
                        self.state = State::Payload {
                            skey,
                            keys,
                            method,
                            len,
                        };
                        return Ok(progress);
                    }
                    // The initial payload is always RC4-encrypted, whatever comes after it.
                    let mut payload: Vec<u8> = self.input.drain(..len).collect();
                    keys.dec.apply(&mut payload);
                    progress.done = Some(establish(keys, method, skey, payload, &mut self.input));
                    return Ok(progress);
                }
                State::Over => return Err(MseError::Over),
            }
        }
    }
}
