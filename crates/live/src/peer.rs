//! The ids of live streaming: a channel is an [`InfoHash`] (seed 001: the SHA-1 of the stream's
//! URL), a viewer is a [`LivePeerId`] the tracker hands out.

use std::fmt;

use ids::InfoHash;
use sha1::{Digest, Sha1};

/// Longest `info_hash` value taken as a URL to hash.
pub const MAX_CHANNEL_TEXT: usize = 2048;

/// A viewer's id: 20 characters from `[0-9a-z]`, random, given by `/announce`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LivePeerId(String);

impl LivePeerId {
    /// Length of an id.
    pub const LEN: usize = 20;

    /// An id from 20 random bytes.
    pub fn from_random(bytes: [u8; Self::LEN]) -> Self {
        const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        Self(
            bytes
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(*b) % 36]))
                .collect(),
        )
    }

    /// An id as a client sends it back; `None` unless it has the shape of ours.
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == Self::LEN && s.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()))
            .then(|| Self(s.to_owned()))
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LivePeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why an `info_hash` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// Empty.
    #[error("info_hash is empty")]
    Empty,
    /// Over [`MAX_CHANNEL_TEXT`] bytes.
    #[error("info_hash is longer than {MAX_CHANNEL_TEXT} bytes")]
    TooLong,
}

/// The channel an `info_hash` parameter names: 40 hex digits are the id itself; anything else
/// is taken as the stream's URL and hashed (SHA-1), as the seed's players do.
pub fn channel_id(text: &str) -> Result<InfoHash, ChannelError> {
    if text.is_empty() {
        return Err(ChannelError::Empty);
    }
    if text.len() > MAX_CHANNEL_TEXT {
        return Err(ChannelError::TooLong);
    }
    if text.len() == 40
        && let Some(h) = InfoHash::from_hex(text)
    {
        return Ok(h);
    }
    Ok(InfoHash(Sha1::digest(text.as_bytes()).into()))
}

/// A viewer's device class (seed 001's `device`): peer lists prefer the asker's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Device {
    /// A phone or a tablet.
    Mobile,
    /// Anything else.
    Pc,
}

impl Device {
    /// `mobile` (any case) is mobile; anything else is a PC.
    pub fn parse(s: &str) -> Self {
        if s.eq_ignore_ascii_case("mobile") {
            Self::Mobile
        } else {
            Self::Pc
        }
    }

    /// The label used in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mobile => "mobile",
            Self::Pc => "pc",
        }
    }
}
