//! The one error type of the HTTP tracker protocol.

/// Why an HTTP announce or scrape (or a tracker's reply to one) was refused.
///
/// Request errors are worded for users: a tracker sends `to_string()` back as the BEP 3
/// `failure reason` (see [`write_failure`](super::write_failure)). Parameter names are the
/// wire names (`info_hash`, `passkey`, …), so a user can tell which part of the URL is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The query string is longer than the parser accepts.
    #[error("query too long ({len} bytes, limit {limit})")]
    QueryTooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The query has more `&`-separated parameters than the parser accepts.
    #[error("too many parameters (limit {limit})")]
    TooManyParams {
        /// The limit.
        limit: usize,
    },
    /// A required parameter is absent.
    #[error("missing parameter: {name}")]
    MissingParam {
        /// Its wire name.
        name: &'static str,
    },
    /// A parameter that may appear once appears twice.
    #[error("duplicate parameter: {name}")]
    DuplicateParam {
        /// Its wire name.
        name: &'static str,
    },
    /// A `%` not followed by two hex digits.
    #[error("invalid percent-encoding in {name}")]
    InvalidPercentEncoding {
        /// The parameter's wire name.
        name: &'static str,
    },
    /// A binary parameter of fixed size (`info_hash`, `peer_id`) has the wrong length.
    #[error("{name} must be {expected} bytes, got {got}")]
    InvalidLength {
        /// The parameter's wire name.
        name: &'static str,
        /// The required length.
        expected: usize,
        /// The length after percent-decoding.
        got: usize,
    },
    /// A parameter is longer than the parser accepts (`key`, `trackerid`, `auth_key`).
    #[error("{name} too long ({len} bytes, limit {limit})")]
    TooLong {
        /// The parameter's wire name.
        name: &'static str,
        /// Its length after percent-decoding.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// A numeric parameter is not a non-negative decimal integer that fits its type.
    #[error("invalid number in {name}")]
    InvalidNumber {
        /// The parameter's wire name.
        name: &'static str,
    },
    /// `port=0`.
    #[error("port must be between 1 and 65535")]
    InvalidPort,
    /// An `event` other than `started`, `completed`, `stopped` or empty.
    #[error("unknown event (expected started, completed or stopped)")]
    InvalidEvent,
    /// A flag (`compact`, `no_peer_id`) other than `0` or `1`.
    #[error("invalid value for {name} (expected 0 or 1)")]
    InvalidFlag {
        /// The parameter's wire name.
        name: &'static str,
    },
    /// A passkey with bytes outside printable ASCII.
    #[error("invalid {name}: only printable ascii characters are allowed")]
    InvalidAuthKey {
        /// The wire name used (`auth_key` or `passkey`).
        name: &'static str,
    },
    /// A scrape asks for more torrents than the tracker allows at once (BEP 48).
    #[error("too many info_hash parameters (limit {limit})")]
    TooManyInfoHashes {
        /// The limit.
        limit: usize,
    },
    /// Client side: the tracker's reply is not bencode.
    #[error("malformed tracker reply: {0}")]
    Bencode(#[from] bencode::DecodeError),
    /// Client side: the tracker's reply is bencode but not a valid announce or scrape reply.
    #[error("invalid tracker reply: {field} {problem}")]
    InvalidReply {
        /// The key (or `reply` for the top level).
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// Client side: the reply lists more peers than a client accepts.
    #[error("tracker reply has more than {limit} peers")]
    TooManyPeers {
        /// The limit.
        limit: usize,
    },
    /// Client side: a scrape reply carrying a `failure reason` (announce replies return
    /// [`AnnounceReply::Failure`](super::AnnounceReply::Failure) instead).
    #[error("tracker refused the scrape: {reason}")]
    Refused {
        /// The tracker's `failure reason`.
        reason: String,
    },
}
