//! ut_metadata (BEP 9): the info dictionary in 16 KiB pieces, each a bencoded header with the
//! data appended.

use bencode::{DecodeOptions, Value, write_bytes, write_int};

use crate::error::WireError;

/// Every metadata piece but the last is this long.
pub const METADATA_PIECE_LEN: usize = 16 * 1024;

/// One ut_metadata message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataMessage<'a> {
    /// `msg_type` 0: asks for a piece.
    Request {
        /// Piece index.
        piece: u32,
    },
    /// `msg_type` 1: a piece and the total size.
    Data {
        /// Piece index.
        piece: u32,
        /// Length of the whole info dictionary.
        total_size: u64,
        /// The piece's bytes.
        data: &'a [u8],
    },
    /// `msg_type` 2: the sender will not send that piece.
    Reject {
        /// Piece index.
        piece: u32,
    },
}

fn bad(reason: &'static str) -> WireError {
    WireError::InvalidExtension {
        what: "ut_metadata message",
        reason,
    }
}

impl<'a> MetadataMessage<'a> {
    /// Parses an extended message payload.
    pub fn parse(payload: &'a [u8]) -> Result<Self, WireError> {
        let (head, rest) = DecodeOptions::lenient()
            .max_depth(4)
            .decode_prefix(payload)
            .map_err(|_| bad("not bencode"))?;
        let field = |k: &[u8]| head.get(k).and_then(Value::as_int);
        let piece = field(b"piece")
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| bad("no piece"))?;
        match field(b"msg_type") {
            Some(0) => Ok(Self::Request { piece }),
            Some(1) => {
                let total_size = field(b"total_size")
                    .and_then(|n| u64::try_from(n).ok())
                    .ok_or_else(|| bad("no total_size"))?;
                if rest.len() > METADATA_PIECE_LEN {
                    return Err(bad("piece longer than 16 KiB"));
                }
                Ok(Self::Data {
                    piece,
                    total_size,
                    data: rest,
                })
            }
            Some(2) => Ok(Self::Reject { piece }),
            _ => Err(bad("unknown msg_type")),
        }
    }

    /// Appends the payload (header, then data for [`MetadataMessage::Data`]) to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        let (kind, piece) = match *self {
            Self::Request { piece } => (0, piece),
            Self::Data { piece, .. } => (1, piece),
            Self::Reject { piece } => (2, piece),
        };
        out.push(b'd');
        write_bytes(out, b"msg_type");
        write_int(out, kind);
        write_bytes(out, b"piece");
        write_int(out, i64::from(piece));
        if let Self::Data { total_size, data, .. } = self {
            write_bytes(out, b"total_size");
            write_int(out, i64::try_from(*total_size).unwrap_or(i64::MAX));
            out.push(b'e');
            out.extend_from_slice(data);
        } else {
            out.push(b'e');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for m in [
            MetadataMessage::Request { piece: 3 },
            MetadataMessage::Reject { piece: 0 },
            MetadataMessage::Data {
                piece: 1,
                total_size: 20_000,
                data: b"d4:name",
            },
        ] {
            let mut out = Vec::new();
            m.write(&mut out);
            assert_eq!(MetadataMessage::parse(&out), Ok(m));
        }
        assert!(MetadataMessage::parse(b"d8:msg_typei9e5:piecei0ee").is_err());
    }
}
