//! Why a peer connection ends (logged at debug level with its causes).

use std::io;

use wire::WireError;

use crate::error::FrameError;

/// Why a connection ends.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Closed {
    /// Reading failed, the peer hung up, or it broke the protocol.
    #[error(transparent)]
    Frames(#[from] FrameError),
    /// The torrent's end of the command channel is gone.
    #[error("torrent stopped")]
    TorrentStopped,
    /// The torrent told the peer to go (a ban, a stop, a disk pause).
    #[error("closed by the torrent")]
    ByTorrent,
    /// The peer's entry left the torrent's table.
    #[error("unregistered")]
    Unregistered,
    /// The peer did not read what we queued for it.
    #[error("send queue full")]
    SendQueueFull,
    /// A `have` for a piece the torrent does not have.
    #[error("have for piece {piece}, past the end")]
    HaveOutOfRange {
        /// The piece.
        piece: u32,
    },
    /// A bitfield of the wrong length, or with spare bits set.
    #[error("bad bitfield")]
    BadBitfield(#[source] WireError),
    /// Neither side wants anything from the other.
    #[error("both seeds")]
    BothSeeds,
    /// A block could not be written (held until a retry writes it; the torrent pauses).
    #[error("disk write failed")]
    DiskWrite(#[source] io::Error),
    /// Nothing came for three minutes.
    #[error("idle for 3 minutes")]
    Idle,
}
