//! Errors of decoding and encoding.

use std::fmt;

/// One step of a key path: a dictionary key or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    /// A dictionary key (shown lossily as UTF-8).
    Key(Box<[u8]>),
    /// A list index.
    Index(usize),
}

/// Where in the value tree an error happened, outermost first, e.g. `info.files[3].path`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPath(Vec<PathSegment>);

impl KeyPath {
    /// The segments, outermost first.
    pub fn segments(&self) -> &[PathSegment] {
        &self.0
    }

    /// True at the top level.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                PathSegment::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    write!(f, "{}", String::from_utf8_lossy(k))?;
                }
                PathSegment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// What went wrong while decoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended inside a value.
    #[error("truncated input: expected {expected}")]
    UnexpectedEof {
        /// What the decoder was looking for.
        expected: &'static str,
    },
    /// A byte that cannot start or continue a value here.
    #[error("unexpected byte 0x{found:02x}: expected {expected}")]
    UnexpectedByte {
        /// The byte found.
        found: u8,
        /// What the decoder was looking for.
        expected: &'static str,
    },
    /// `i-0e`.
    #[error("negative zero (i-0e) is not allowed")]
    NegativeZero,
    /// `i03e`.
    #[error("integer with a leading zero")]
    IntegerLeadingZero,
    /// `ie` or `i-e`.
    #[error("integer without digits")]
    EmptyInteger,
    /// An integer outside the range of i64.
    #[error("integer does not fit in 64 bits")]
    IntegerOverflow,
    /// `03:abc`.
    #[error("string length with a leading zero")]
    LengthLeadingZero,
    /// A string length too large to represent.
    #[error("string length does not fit in memory")]
    LengthOverflow,
    /// A dictionary key that is not a byte string.
    #[error("dictionary key is not a string")]
    NonStringKey,
    /// A key that sorts before the key preceding it.
    #[error("dictionary keys out of order: {key:?} after {previous:?}")]
    UnsortedKey {
        /// The offending key (lossy UTF-8).
        key: String,
        /// The key before it.
        previous: String,
    },
    /// A key that appears twice in one dictionary.
    #[error("duplicate dictionary key {key:?}")]
    DuplicateKey {
        /// The repeated key (lossy UTF-8).
        key: String,
    },
    /// Bytes left over after the top-level value.
    #[error("{count} trailing bytes after the value")]
    TrailingBytes {
        /// How many bytes were left.
        count: usize,
    },
    /// Lists or dictionaries nested deeper than allowed.
    #[error("nesting deeper than {limit} levels")]
    DepthLimit {
        /// The configured limit.
        limit: usize,
    },
    /// A string longer than allowed.
    #[error("string of {len} bytes exceeds the limit of {limit}")]
    StringTooLong {
        /// The declared length.
        len: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The whole input is larger than allowed.
    #[error("input of {len} bytes exceeds the limit of {limit}")]
    InputTooLarge {
        /// The input length.
        len: usize,
        /// The configured limit.
        limit: usize,
    },
    /// A value of the wrong type for the target (serde).
    #[error("expected {expected}, found {found}")]
    WrongType {
        /// What the target wanted.
        expected: &'static str,
        /// What the input held.
        found: &'static str,
    },
    /// Any other error raised by a `Deserialize` implementation.
    #[error("{0}")]
    Custom(String),
}

/// A decoding error: what, at which byte offset, under which key path.
///
/// Boxed, so that the decoder's `Result`s stay small on the hot path where nothing fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(Box<ErrorInner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct ErrorInner {
    kind: DecodeErrorKind,
    offset: Option<usize>,
    path: KeyPath,
}

impl DecodeError {
    pub(crate) fn new(kind: DecodeErrorKind, offset: usize) -> Self {
        Self(Box::new(ErrorInner {
            kind,
            offset: Some(offset),
            path: KeyPath::default(),
        }))
    }

    pub(crate) fn without_offset(kind: DecodeErrorKind) -> Self {
        Self(Box::new(ErrorInner {
            kind,
            offset: None,
            path: KeyPath::default(),
        }))
    }

    /// What went wrong.
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.0.kind
    }

    /// Byte offset in the input where the problem was found, when known.
    pub fn offset(&self) -> Option<usize> {
        self.0.offset
    }

    /// Key path of the value that failed, outermost first.
    pub fn path(&self) -> &KeyPath {
        &self.0.path
    }

    /// Errors bubble up from the innermost value, so segments are pushed inner-first and
    /// put in order once, by `finish_path`.
    pub(crate) fn push_segment(mut self, seg: PathSegment) -> Self {
        self.0.path.0.push(seg);
        self
    }

    pub(crate) fn finish_path(mut self) -> Self {
        self.0.path.0.reverse();
        self
    }

    pub(crate) fn set_offset_if_unknown(&mut self, offset: usize) {
        if self.0.offset.is_none() {
            self.0.offset = Some(offset);
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.kind)?;
        if let Some(off) = self.0.offset {
            write!(f, " at byte {off}")?;
        }
        if !self.0.path.is_empty() {
            write!(f, " (in {})", self.0.path)?;
        }
        Ok(())
    }
}

impl std::error::Error for DecodeError {}

impl serde::de::Error for DecodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self::without_offset(DecodeErrorKind::Custom(msg.to_string()))
    }
}

/// An encoding error: a value that bencode cannot represent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// Floats have no bencode form.
    #[error("floating-point numbers cannot be bencoded")]
    Float,
    /// An unsigned integer above i64::MAX.
    #[error("integer {0} does not fit in 64 signed bits")]
    IntegerOverflow(u64),
    /// A dictionary key that is not a string or bytes.
    #[error("dictionary keys must be strings or bytes")]
    NonStringKey,
    /// The same key twice in one map.
    #[error("duplicate dictionary key {0:?}")]
    DuplicateKey(String),
    /// `None` or `()` where a value is required (a list element, the top level).
    #[error("no value to encode (None or unit outside a dictionary)")]
    Missing,
    /// Any other error raised by a `Serialize` implementation.
    #[error("{0}")]
    Custom(String),
}

impl serde::ser::Error for EncodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self::Custom(msg.to_string())
    }
}
