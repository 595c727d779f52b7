//! Check-then-parse framing: a frame is only parsed once all of it is in the buffer, and its
//! length prefix is checked against [`Limits`] before anything waits for the rest.

use crate::error::WireError;
use crate::message::{BlockRequest, Message, id};

/// The block size every client requests (16 KiB).
pub const BLOCK_LEN: u32 = 16 * 1024;
/// The largest request cap [`Limits`] allows (128 KiB).
pub const MAX_REQUEST_LEN: u32 = 128 * 1024;
/// The smallest request cap [`Limits`] allows (16 KiB): every client may ask for 16 KiB.
pub const MIN_MAX_REQUEST_LEN: u32 = BLOCK_LEN;

/// Caps that keep a hostile peer from making us buffer or serve too much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    max_frame_len: usize,
    max_request_len: u32,
}

impl Default for Limits {
    /// Frames up to 256 KiB (a 128 KiB block, or a bitfield of 2 million pieces), requests
    /// up to 128 KiB.
    fn default() -> Self {
        Self {
            max_frame_len: 256 * 1024,
            max_request_len: MAX_REQUEST_LEN,
        }
    }
}

impl Limits {
    /// Limits for a torrent of `num_pieces` pieces: frames large enough for its bitfield and
    /// for blocks of `max_request_len`, which is clamped to 16 KiB..=128 KiB.
    pub fn for_torrent(num_pieces: usize, max_request_len: u32) -> Self {
        let max_request_len = max_request_len.clamp(MIN_MAX_REQUEST_LEN, MAX_REQUEST_LEN);
        let bitfield = 1 + num_pieces.div_ceil(8);
        let piece = 9 + max_request_len as usize;
        Self {
            max_frame_len: bitfield.max(piece).max(Self::default().max_frame_len),
            max_request_len,
        }
    }

    /// The longest frame accepted (length prefix value).
    pub fn max_frame_len(&self) -> usize {
        self.max_frame_len
    }

    /// The longest block that may be requested or sent.
    pub fn max_request_len(&self) -> u32 {
        self.max_request_len
    }
}

/// The outcome of a parse: not enough bytes yet, or a value and the bytes it used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed<T> {
    /// At least `needed` more bytes must arrive before anything can be said.
    Incomplete {
        /// How many more bytes are needed at least.
        needed: usize,
    },
    /// A whole value, `len` bytes long.
    Done {
        /// The value.
        value: T,
        /// Bytes consumed from the start of the buffer.
        len: usize,
    },
}

/// Appends the 13-byte header of a `piece` message whose block is `data_len` bytes; the
/// caller appends (or sends) the block itself, so it never has to be copied into a message.
pub fn write_piece_header(out: &mut Vec<u8>, index: u32, begin: u32, data_len: usize) {
    let len = u32::try_from(9 + data_len).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.push(id::PIECE);
    out.extend_from_slice(&index.to_be_bytes());
    out.extend_from_slice(&begin.to_be_bytes());
}

fn be32(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_be_bytes(w)
}

/// Decodes one framed message at the start of `buf`.
///
/// # Errors
///
/// A frame longer than the limit (known from its first 4 bytes), a payload whose length
/// does not fit its message type, a request/cancel/reject for 0 bytes or more than the
/// request cap, or a block longer than the request cap.
pub fn decode<'a>(buf: &'a [u8], limits: &Limits) -> Result<Parsed<Message<'a>>, WireError> {
    if buf.len() < 4 {
        return Ok(Parsed::Incomplete {
            needed: 4 - buf.len(),
        });
    }
    let len = be32(buf, 0) as usize;
    if len > limits.max_frame_len {
        return Err(WireError::FrameTooLong {
            len,
            limit: limits.max_frame_len,
        });
    }
    let Some(frame) = buf.get(4..4 + len) else {
        return Ok(Parsed::Incomplete {
            needed: 4 + len - buf.len(),
        });
    };
    let value = match frame.split_first() {
        None => Message::KeepAlive,
        Some((&kind, payload)) => body(kind, payload, limits)?,
    };
    Ok(Parsed::Done { value, len: 4 + len })
}

fn exact(kind: u8, payload: &[u8], expected: usize) -> Result<(), WireError> {
    if payload.len() == expected {
        return Ok(());
    }
    Err(WireError::InvalidLength {
        id: kind,
        expected,
        got: payload.len(),
    })
}

fn block(kind: u8, payload: &[u8], limits: &Limits) -> Result<BlockRequest, WireError> {
    exact(kind, payload, 12)?;
    let r = BlockRequest {
        index: be32(payload, 0),
        begin: be32(payload, 4),
        length: be32(payload, 8),
    };
    if r.length == 0 || r.length > limits.max_request_len {
        return Err(WireError::RequestSize {
            len: r.length,
            limit: limits.max_request_len,
        });
    }
    Ok(r)
}

fn body<'a>(kind: u8, payload: &'a [u8], limits: &Limits) -> Result<Message<'a>, WireError> {
    let none = |m: Message<'a>| exact(kind, payload, 0).map(|()| m);
    let int = |f: fn(u32) -> Message<'a>| exact(kind, payload, 4).map(|()| f(be32(payload, 0)));
    match kind {
        id::CHOKE => none(Message::Choke),
        id::UNCHOKE => none(Message::Unchoke),
        id::INTERESTED => none(Message::Interested),
        id::NOT_INTERESTED => none(Message::NotInterested),
        id::HAVE_ALL => none(Message::HaveAll),
        id::HAVE_NONE => none(Message::HaveNone),
        id::HAVE => int(Message::Have),
        id::SUGGEST => int(Message::Suggest),
        id::ALLOWED_FAST => int(Message::AllowedFast),
        id::BITFIELD => Ok(Message::Bitfield(payload)),
        id::REQUEST => block(kind, payload, limits).map(Message::Request),
        id::CANCEL => block(kind, payload, limits).map(Message::Cancel),
        id::REJECT => block(kind, payload, limits).map(Message::Reject),
        id::PIECE => {
            let Some(data) = payload.get(8..) else {
                return Err(WireError::InvalidLength {
                    id: kind,
                    expected: 8,
                    got: payload.len(),
                });
            };
            if data.len() > limits.max_request_len as usize {
                return Err(WireError::BlockTooLong {
                    len: data.len(),
                    limit: limits.max_request_len,
                });
            }
            Ok(Message::Piece {
                index: be32(payload, 0),
                begin: be32(payload, 4),
                data,
            })
        }
        id::PORT => {
            exact(kind, payload, 2)?;
            Ok(Message::Port(u16::from_be_bytes([payload[0], payload[1]])))
        }
        id::EXTENDED => match payload.split_first() {
            Some((&ext, rest)) => Ok(Message::Extended {
                id: ext,
                payload: rest,
            }),
            None => Err(WireError::InvalidLength {
                id: kind,
                expected: 1,
                got: 0,
            }),
        },
        other => Ok(Message::Unknown { id: other, payload }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(bytes: &[u8]) -> Result<Parsed<Message<'_>>, WireError> {
        decode(bytes, &Limits::default())
    }

    #[test]
    fn caps_are_checked_before_waiting() {
        // 16 MiB announced with only 5 bytes present: refused at once, not buffered.
        assert!(matches!(
            frame(&[1, 0, 0, 0, 7]),
            Err(WireError::FrameTooLong { .. })
        ));
        let mut req = Vec::new();
        Message::Request(BlockRequest {
            index: 0,
            begin: 0,
            length: MAX_REQUEST_LEN + 1,
        })
        .write(&mut req);
        assert!(matches!(frame(&req), Err(WireError::RequestSize { .. })));
        assert!(matches!(
            frame(&[0, 0, 0, 2, 0, 0]),
            Err(WireError::InvalidLength { id: 0, .. })
        ));
        assert_eq!(
            frame(&[0, 0, 0, 0]),
            Ok(Parsed::Done {
                value: Message::KeepAlive,
                len: 4
            })
        );
        assert_eq!(
            frame(&[0, 0, 0, 2, 99, 1, 5]),
            Ok(Parsed::Done {
                value: Message::Unknown {
                    id: 99,
                    payload: &[1]
                },
                len: 6
            })
        );
    }

    #[test]
    fn limits_clamp_the_request_cap() {
        assert_eq!(Limits::for_torrent(10, 1).max_request_len(), MIN_MAX_REQUEST_LEN);
        assert_eq!(
            Limits::for_torrent(10, u32::MAX).max_request_len(),
            MAX_REQUEST_LEN
        );
        assert_eq!(
            Limits::for_torrent(80_000_000, BLOCK_LEN).max_frame_len(),
            10_000_001
        );
    }
}
