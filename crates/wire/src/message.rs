//! Peer messages (BEP 3 ids 0–8, BEP 5 `port`, BEP 6 fast extension, BEP 10 `extended`),
//! borrowed from the receive buffer and written into a caller's buffer.

/// Message ids.
pub mod id {
    /// BEP 3: choke.
    pub const CHOKE: u8 = 0;
    /// BEP 3: unchoke.
    pub const UNCHOKE: u8 = 1;
    /// BEP 3: interested.
    pub const INTERESTED: u8 = 2;
    /// BEP 3: not interested.
    pub const NOT_INTERESTED: u8 = 3;
    /// BEP 3: have.
    pub const HAVE: u8 = 4;
    /// BEP 3: bitfield.
    pub const BITFIELD: u8 = 5;
    /// BEP 3: request.
    pub const REQUEST: u8 = 6;
    /// BEP 3: piece.
    pub const PIECE: u8 = 7;
    /// BEP 3: cancel.
    pub const CANCEL: u8 = 8;
    /// BEP 5: DHT port.
    pub const PORT: u8 = 9;
    /// BEP 6: suggest piece.
    pub const SUGGEST: u8 = 13;
    /// BEP 6: have all.
    pub const HAVE_ALL: u8 = 14;
    /// BEP 6: have none.
    pub const HAVE_NONE: u8 = 15;
    /// BEP 6: reject request.
    pub const REJECT: u8 = 16;
    /// BEP 6: allowed fast.
    pub const ALLOWED_FAST: u8 = 17;
    /// BEP 10: extended.
    pub const EXTENDED: u8 = 20;
}

/// A block of a piece: `request`, `cancel` and `reject` carry one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlockRequest {
    /// Piece index.
    pub index: u32,
    /// Byte offset inside the piece.
    pub begin: u32,
    /// Number of bytes.
    pub length: u32,
}

/// One message, borrowing its variable-length parts from the buffer it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    /// A zero-length frame.
    KeepAlive,
    /// 0: no data will be sent until unchoke.
    Choke,
    /// 1: requests will be served.
    Unchoke,
    /// 2: the sender wants data.
    Interested,
    /// 3: the sender wants nothing.
    NotInterested,
    /// 4: the sender has this piece.
    Have(u32),
    /// 5: the pieces the sender has (raw bytes, checked against the piece count by
    /// [`Bitfield::from_bytes`](crate::Bitfield::from_bytes)).
    Bitfield(&'a [u8]),
    /// 6: asks for a block.
    Request(BlockRequest),
    /// 7: a block of data.
    Piece {
        /// Piece index.
        index: u32,
        /// Byte offset inside the piece.
        begin: u32,
        /// The data.
        data: &'a [u8],
    },
    /// 8: withdraws a request.
    Cancel(BlockRequest),
    /// 9 (BEP 5): the sender's DHT port.
    Port(u16),
    /// 13 (BEP 6): the sender suggests downloading this piece.
    Suggest(u32),
    /// 14 (BEP 6): the sender has every piece.
    HaveAll,
    /// 15 (BEP 6): the sender has no piece.
    HaveNone,
    /// 16 (BEP 6): a request that will not be served.
    Reject(BlockRequest),
    /// 17 (BEP 6): this piece may be requested even while choked.
    AllowedFast(u32),
    /// 20 (BEP 10): an extension message; id 0 is the extension handshake.
    Extended {
        /// The extended message id the receiver assigned (0 = handshake).
        id: u8,
        /// Its payload (usually bencoded).
        payload: &'a [u8],
    },
    /// Any other id: BEP 3 says to ignore it.
    Unknown {
        /// The id.
        id: u8,
        /// Its payload.
        payload: &'a [u8],
    },
}

fn header(out: &mut Vec<u8>, payload_len: usize, id: u8) {
    // Payloads that reach the writer come from our own buffers, far below 4 GiB.
    let len = u32::try_from(payload_len + 1).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.push(id);
}

fn block(out: &mut Vec<u8>, id: u8, r: &BlockRequest) {
    header(out, 12, id);
    out.extend_from_slice(&r.index.to_be_bytes());
    out.extend_from_slice(&r.begin.to_be_bytes());
    out.extend_from_slice(&r.length.to_be_bytes());
}

fn with_u32(out: &mut Vec<u8>, id: u8, n: u32) {
    header(out, 4, id);
    out.extend_from_slice(&n.to_be_bytes());
}

impl Message<'_> {
    /// Appends the framed message (length prefix included) to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        match *self {
            Self::KeepAlive => out.extend_from_slice(&[0; 4]),
            Self::Choke => header(out, 0, id::CHOKE),
            Self::Unchoke => header(out, 0, id::UNCHOKE),
            Self::Interested => header(out, 0, id::INTERESTED),
            Self::NotInterested => header(out, 0, id::NOT_INTERESTED),
            Self::Have(i) => with_u32(out, id::HAVE, i),
            Self::Bitfield(bits) => {
                header(out, bits.len(), id::BITFIELD);
                out.extend_from_slice(bits);
            }
            Self::Request(r) => block(out, id::REQUEST, &r),
            Self::Piece { index, begin, data } => {
                crate::frame::write_piece_header(out, index, begin, data.len());
                out.extend_from_slice(data);
            }
            Self::Cancel(r) => block(out, id::CANCEL, &r),
            Self::Port(p) => {
                header(out, 2, id::PORT);
                out.extend_from_slice(&p.to_be_bytes());
            }
            Self::Suggest(i) => with_u32(out, id::SUGGEST, i),
            Self::HaveAll => header(out, 0, id::HAVE_ALL),
            Self::HaveNone => header(out, 0, id::HAVE_NONE),
            Self::Reject(r) => block(out, id::REJECT, &r),
            Self::AllowedFast(i) => with_u32(out, id::ALLOWED_FAST, i),
            Self::Extended { id: ext, payload } => {
                header(out, 1 + payload.len(), id::EXTENDED);
                out.push(ext);
                out.extend_from_slice(payload);
            }
            Self::Unknown { id: other, payload } => {
                header(out, payload.len(), other);
                out.extend_from_slice(payload);
            }
        }
    }

    /// The framed length of this message (what [`write`](Self::write) appends).
    pub fn wire_len(&self) -> usize {
        4 + match self {
            Self::KeepAlive => 0,
            Self::Choke | Self::Unchoke | Self::Interested | Self::NotInterested => 1,
            Self::HaveAll | Self::HaveNone => 1,
            Self::Have(_) | Self::Suggest(_) | Self::AllowedFast(_) => 5,
            Self::Bitfield(b) => 1 + b.len(),
            Self::Request(_) | Self::Cancel(_) | Self::Reject(_) => 13,
            Self::Piece { data, .. } => 9 + data.len(),
            Self::Port(_) => 3,
            Self::Extended { payload, .. } => 2 + payload.len(),
            Self::Unknown { payload, .. } => 1 + payload.len(),
        }
    }
}
