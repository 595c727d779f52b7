//! The messages viewers exchange over a WebRTC data channel (seed 001, plus CDNBye's
//! `PIECE_NOT_FOUND`), as JSON text frames tagged by `event`; a piece's bytes follow its
//! `PIECE` header as `attachments` binary frames. Pure: the browser SDK mirrors this module
//! (`sdk/nexsuj-p2p.js`, `Piece` and `Assembler`), and the tests of both hold them together.

use serde::{Deserialize, Serialize};

/// Largest binary chunk after a `PIECE` header (browsers' data channels pass 64 KiB safely).
pub const MAX_CHUNK: usize = 64 * 1024;
/// Largest segment a peer offers or accepts.
pub const MAX_PIECE: usize = 64 * 1024 * 1024;

/// One data-channel message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Message {
    /// Asks for segment `sn`.
    Request {
        /// The segment's sequence number.
        sn: u64,
        /// Needed for playback soon: the peer answers it first.
        #[serde(default)]
        urgent: bool,
    },
    /// The header of a segment; `attachments` binary frames follow.
    Piece {
        /// How many binary frames follow.
        attachments: u32,
        /// The segment's URL, relative to the playlist.
        url: String,
        /// Its sequence number.
        sn: u64,
        /// Its size in bytes (the frames must add up to it).
        size: u64,
    },
    /// All frames of a segment arrived.
    PieceAck {
        /// The segment's URL.
        url: String,
        /// Its sequence number.
        sn: u64,
    },
    /// The peer does not have segment `sn` (any more): fetch it elsewhere at once.
    PieceNotFound {
        /// The segment's sequence number.
        sn: u64,
    },
    /// The sender closes the channel.
    Close,
    /// The sender hit an error.
    Error,
    /// The segments the sender holds.
    Bitfield {
        /// Their sequence numbers.
        field: Vec<u64>,
    },
    /// The sender now holds `sn`.
    Have {
        /// The segment's sequence number.
        sn: u64,
    },
    /// The sender no longer holds `sn`.
    Lost {
        /// The segment's sequence number.
        sn: u64,
    },
}

impl Message {
    /// The JSON text frame.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A text frame; `None` if it is not one of these messages.
    pub fn from_json(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

/// The frames that carry `bytes`: the header, then chunks of at most [`MAX_CHUNK`].
pub fn piece<'a>(url: &str, sn: u64, bytes: &'a [u8]) -> (Message, Vec<&'a [u8]>) {
    let chunks: Vec<&[u8]> = bytes.chunks(MAX_CHUNK).collect();
    (
        Message::Piece {
            attachments: chunks.len() as u32,
            url: url.to_owned(),
            sn,
            size: bytes.len() as u64,
        },
        chunks,
    )
}

/// Why a piece was thrown away (and fetched over HTTP instead).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PieceError {
    /// The header's size or chunk count cannot be right.
    #[error("implausible header: {size} bytes in {attachments} chunks")]
    BadHeader {
        /// The announced size.
        size: u64,
        /// The announced chunks.
        attachments: u32,
    },
    /// More bytes came than announced, or a chunk was too large.
    #[error("more bytes than announced")]
    Overflow,
    /// All chunks came and the bytes do not add up to the size.
    #[error("{got} bytes, {want} announced")]
    Short {
        /// Bytes received.
        got: u64,
        /// Bytes announced.
        want: u64,
    },
}

/// Collects the binary frames of one piece.
#[derive(Debug)]
pub struct Assembler {
    /// The segment's sequence number.
    pub sn: u64,
    /// The segment's URL.
    pub url: String,
    size: u64,
    left: u32,
    bytes: Vec<u8>,
}

impl Assembler {
    /// Starts on a `PIECE` header (a segment of 1 byte to [`MAX_PIECE`], in as many chunks
    /// as [`piece`] makes).
    pub fn new(url: String, sn: u64, size: u64, attachments: u32) -> Result<Self, PieceError> {
        // An empty segment is never valid: a peer that sends one has nothing to give.
        let fits =
            size > 0 && size <= MAX_PIECE as u64 && u64::from(attachments) == size.div_ceil(MAX_CHUNK as u64);
        if !fits {
            return Err(PieceError::BadHeader { size, attachments });
        }
        Ok(Self {
            sn,
            url,
            size,
            left: attachments,
            bytes: Vec::with_capacity(size as usize),
        })
    }

    /// Adds a binary frame; `Some` with the segment when it was the last.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Option<Vec<u8>>, PieceError> {
        if self.left == 0 || chunk.len() > MAX_CHUNK || (self.bytes.len() + chunk.len()) as u64 > self.size {
            return Err(PieceError::Overflow);
        }
        self.bytes.extend_from_slice(chunk);
        self.left -= 1;
        if self.left > 0 {
            return Ok(None);
        }
        if self.bytes.len() as u64 != self.size {
            return Err(PieceError::Short {
                got: self.bytes.len() as u64,
                want: self.size,
            });
        }
        Ok(Some(std::mem::take(&mut self.bytes)))
    }
}
