//! Why a peer's bytes were refused. Every error means: disconnect that peer.

/// A protocol violation by the remote peer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The handshake does not start with `\x13BitTorrent protocol`.
    #[error("not a BitTorrent handshake")]
    BadProtocol,
    /// A frame's length prefix exceeds [`Limits::max_frame_len`](crate::Limits).
    #[error("frame of {len} bytes exceeds the limit of {limit}")]
    FrameTooLong {
        /// The announced length.
        len: usize,
        /// The configured limit.
        limit: usize,
    },
    /// A message whose length does not fit its type.
    #[error("message {id} has {got} payload bytes, expected {expected}")]
    InvalidLength {
        /// The message id.
        id: u8,
        /// What the type requires (a minimum for variable-length messages).
        expected: usize,
        /// What came.
        got: usize,
    },
    /// A request (or reject/cancel) for zero bytes or more than the request cap.
    #[error("request for {len} bytes outside 1..={limit}")]
    RequestSize {
        /// The requested length.
        len: u32,
        /// The configured cap.
        limit: u32,
    },
    /// A block in a `piece` message longer than the request cap.
    #[error("block of {len} bytes exceeds the limit of {limit}")]
    BlockTooLong {
        /// The block's length.
        len: usize,
        /// The configured cap.
        limit: u32,
    },
    /// A bitfield of the wrong size or with spare bits set.
    #[error("bitfield of {got} bytes for {pieces} pieces (or spare bits set)")]
    BadBitfield {
        /// Its length in bytes.
        got: usize,
        /// The torrent's piece count.
        pieces: usize,
    },
    /// A bencoded extension message that is not what its BEP says.
    #[error("invalid {what}: {reason}")]
    InvalidExtension {
        /// Which message.
        what: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}
