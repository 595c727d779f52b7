//! Errors of the client engine.

use std::io;
use std::path::PathBuf;

/// What went wrong in the engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// A file or directory could not be created, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// No listen port could be bound.
    #[error("cannot listen on any of ports {first}..={last}: {source}")]
    Listen {
        /// First port tried.
        first: u16,
        /// Last port tried.
        last: u16,
        /// The last error.
        source: io::Error,
    },
    /// The torrent has no v1 piece hashes (v2-only torrents need the v2 wire protocol).
    #[error("v2-only torrents are not supported yet; use a v1 or hybrid torrent")]
    V2Only,
    /// The same torrent was added twice.
    #[error("torrent {0} is already in the session")]
    Duplicate(String),
    /// A magnet link's metadata could not be fetched.
    #[error("magnet metadata: {0}")]
    Metadata(String),
    /// The torrent's name is the folder where the engine keeps its state (`.nexsuj`): its
    /// files could overwrite other torrents' resume data.
    #[error("torrent name {0:?} is reserved for the client's state folder")]
    ReservedName(String),
    /// The session is shutting down.
    #[error("the session is shut down")]
    Closed,
}

/// Why a tracker announce or scrape failed (shown in the tracker's status).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrackerError {
    /// A URL the client cannot use.
    #[error("unsupported tracker url {0}")]
    BadUrl(String),
    /// The network failed.
    #[error("network error: {0}")]
    Network(String),
    /// No answer in time.
    #[error("timed out")]
    Timeout,
    /// The reply could not be understood.
    #[error("invalid reply: {0}")]
    Invalid(String),
    /// The tracker refused (`failure reason` or a UDP error).
    #[error("tracker says: {0}")]
    Refused(String),
}
