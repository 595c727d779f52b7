//! Errors of reading a `.torrent` file.

/// Why a torrent file was refused. Each variant names the key path of the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetainfoError {
    /// The bytes are not valid bencode.
    #[error("not valid bencode: {0}")]
    Bencode(bencode::DecodeError),
    /// A required key is absent.
    #[error("missing key {key}")]
    MissingKey {
        /// Key path, e.g. `info.piece length`.
        key: String,
    },
    /// A key holds the wrong bencode type.
    #[error("{key} must be {expected}, found {found}")]
    WrongType {
        /// Key path.
        key: String,
        /// What it should be.
        expected: &'static str,
        /// What it is.
        found: &'static str,
    },
    /// A key has a value of the right type that is not allowed.
    #[error("{key} is invalid: {reason}")]
    InvalidValue {
        /// Key path.
        key: String,
        /// Why, for a person.
        reason: String,
    },
    /// A file path that could escape the download directory or cannot be a file name.
    #[error("unsafe file path {path:?} at {key}: {reason}")]
    UnsafePath {
        /// Key path of the path list or name.
        key: String,
        /// The path as given (lossy).
        path: String,
        /// Which rule it breaks.
        reason: PathProblem,
    },
    /// The v1 and v2 parts of a hybrid torrent describe different files.
    #[error("hybrid torrent is inconsistent: {0}")]
    HybridMismatch(String),
}

/// The rules a path component must follow so that a torrent can never write outside its folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathProblem {
    /// A file with no path components.
    #[error("the path is empty")]
    Empty,
    /// A component of zero length.
    #[error("a path component is empty")]
    EmptyComponent,
    /// `.` or `..`.
    #[error("a path component is \".\" or \"..\"")]
    DotComponent,
    /// `/` or `\` inside a component (also what makes a path absolute).
    #[error("a path component contains a separator")]
    Separator,
    /// A NUL byte.
    #[error("a path component contains a NUL byte")]
    Nul,
    /// Not valid UTF-8.
    #[error("a path component is not valid UTF-8")]
    NotUtf8,
    /// More components than allowed.
    #[error("the path is too deep")]
    TooDeep,
}

// Not `#[from]`: that would also make the decode error the `source`, and one-line error
// reports that print the chain would then say it twice.
impl From<bencode::DecodeError> for MetainfoError {
    fn from(e: bencode::DecodeError) -> Self {
        Self::Bencode(e)
    }
}

pub(crate) fn missing(key: impl Into<String>) -> MetainfoError {
    MetainfoError::MissingKey { key: key.into() }
}

pub(crate) fn invalid(key: impl Into<String>, reason: impl Into<String>) -> MetainfoError {
    MetainfoError::InvalidValue {
        key: key.into(),
        reason: reason.into(),
    }
}
