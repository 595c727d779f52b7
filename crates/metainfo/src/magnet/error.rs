//! Why a magnet link was refused.

/// Why [`Magnet::parse`](super::Magnet::parse) refused a URI. Values quoted from the URI are
/// cut to 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MagnetError {
    /// The URI, or the same magnet as [`Magnet::to_uri`](super::Magnet::to_uri) writes it, is
    /// longer than [`MAX_URI_LEN`](super::MAX_URI_LEN).
    #[error("magnet uri is {len} bytes as given or re-encoded, more than the limit of {max}")]
    TooLong {
        /// Length of the URI in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The URI does not start with `magnet:?`.
    #[error("not a magnet uri: it must start with \"magnet:?\"")]
    NotMagnet,
    /// More `tr`, `ws` and `x.pe` parameters together than [`MAX_LIST_PARAMS`](super::MAX_LIST_PARAMS).
    #[error("magnet uri has more than {max} tr, ws and x.pe parameters")]
    TooManyParameters {
        /// The limit.
        max: usize,
    },
    /// Neither `xt=urn:btih:` nor `xt=urn:btmh:` is present.
    #[error("magnet uri has no info-hash: it needs xt=urn:btih: or xt=urn:btmh:")]
    NoInfoHash,
    /// A `%` not followed by two hex digits.
    #[error("parameter {param} has an invalid percent escape at byte {position}")]
    InvalidPercent {
        /// The parameter, e.g. `dn`.
        param: &'static str,
        /// Byte offset of the `%` within the raw value.
        position: usize,
    },
    /// The percent-decoded value is not UTF-8.
    #[error("parameter {param} is not valid utf-8 after percent-decoding")]
    NotUtf8 {
        /// The parameter, e.g. `dn`.
        param: &'static str,
    },
    /// A `urn:btih:` that is neither 40 hex nor 32 base32 characters long.
    #[error("urn:btih has {len} characters; expected 40 hex or 32 base32")]
    BtihLength {
        /// Its length in characters.
        len: usize,
    },
    /// A character that is not a hex digit in a hex info-hash.
    #[error("urn:{urn} has {found:?} at character {position}, which is not a hex digit")]
    InvalidHex {
        /// `btih` or `btmh`.
        urn: &'static str,
        /// Index of the character.
        position: usize,
        /// The character.
        found: char,
    },
    /// A character outside `A–Z 2–7` in a 32-character base32 `urn:btih:`.
    #[error("urn:btih has {found:?} at character {position}, which is not base32 (a-z, 2-7)")]
    InvalidBase32 {
        /// Index of the character.
        position: usize,
        /// The character.
        found: char,
    },
    /// A `urn:btmh:` that is not a well-formed multihash.
    #[error("urn:btmh is not a multihash: {reason}")]
    InvalidMultihash {
        /// What is wrong, for a person.
        reason: &'static str,
    },
    /// A `urn:btmh:` multihash of a function other than sha2-256 (BEP 52 uses only sha2-256).
    #[error("urn:btmh uses hash function {code:#x}; only sha2-256 (0x12) is supported")]
    UnsupportedMultihash {
        /// The multihash function code.
        code: u64,
    },
    /// A sha2-256 `urn:btmh:` whose digest is not 32 bytes.
    #[error("urn:btmh declares a {declared}-byte digest and holds {actual} bytes; sha2-256 needs 32")]
    MultihashLength {
        /// The length the multihash declares.
        declared: u64,
        /// The number of digest bytes present.
        actual: usize,
    },
    /// Two different info-hashes of the same kind.
    #[error("magnet uri has two different urn:{urn} info-hashes")]
    ConflictingInfoHash {
        /// `btih` or `btmh`.
        urn: &'static str,
    },
    /// An `xl` that is not a decimal number of bytes.
    #[error("xl must be a decimal byte count, found {value:?}")]
    InvalidExactLength {
        /// The value as given.
        value: String,
    },
    /// An `x.pe` that is not `host:port`, `ipv4:port` or `[ipv6]:port`.
    #[error("x.pe {value:?} is not host:port, ipv4:port or [ipv6]:port")]
    InvalidPeer {
        /// The value as given.
        value: String,
    },
    /// An `so` item that is not an index or an ascending inclusive range `a-b` (BEP 53).
    #[error("so item {item:?} is not a file index or an ascending range a-b")]
    InvalidSelection {
        /// The item as given.
        item: String,
    },
}

/// The first 64 characters of a quoted value, so an error never carries a huge string.
pub(super) fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}
