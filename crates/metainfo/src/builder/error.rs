//! Errors from scanning, hashing and encoding a new torrent.

use std::io;
use std::path::PathBuf;

/// Why a torrent could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Reading a file or a directory failed.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A file grew or shrank between the scan and the end of hashing.
    #[error("{} changed size while it was being hashed (it had {expected} bytes)", path.display())]
    FileChanged {
        /// The file.
        path: PathBuf,
        /// Its size when it was scanned.
        expected: u64,
    },
    /// A piece length that is not a power of two of at least 16 KiB.
    #[error("piece length {got} is not a power of two of at least 16384 bytes")]
    BadPieceLength {
        /// The length asked for.
        got: u64,
    },
    /// A directory without any regular file in it.
    #[error("no files to include under {}", path.display())]
    NoFiles {
        /// The directory.
        path: PathBuf,
    },
    /// Every file is empty, so there is nothing to hash.
    #[error("{} holds no data (every file is empty)", path.display())]
    EmptyContent {
        /// The file or directory.
        path: PathBuf,
    },
    /// A file or directory name that is not valid UTF-8 (torrent paths are UTF-8).
    #[error("path is not valid UTF-8: {}", path.display())]
    NonUtf8Path {
        /// The offending path.
        path: PathBuf,
    },
    /// The path has no final component to name the torrent after (such as `/`).
    #[error("cannot name a torrent after {}", path.display())]
    NoName {
        /// The path.
        path: PathBuf,
    },
    /// More data than a torrent can describe: sizes must fit in a bencode integer and piece
    /// indices in 32 bits.
    #[error("content of {size} bytes is too large for a torrent with {piece_length}-byte pieces")]
    TooLarge {
        /// Total size, padding included.
        size: u64,
        /// The piece length.
        piece_length: u64,
    },
    /// The hashing threads could not be started.
    #[error("cannot start the hashing threads: {0}")]
    ThreadPool(#[from] rayon::ThreadPoolBuildError),
    /// The metainfo could not be bencoded.
    #[error("cannot encode the torrent: {0}")]
    Encode(#[from] bencode::EncodeError),
}

impl BuildError {
    /// An [`BuildError::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
