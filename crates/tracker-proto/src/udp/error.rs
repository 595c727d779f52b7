//! Why a datagram is not a valid request or reply.

use super::{Action, MAX_SCRAPE_HASHES, MAX_URL_DATA, write_error};

/// A datagram that is not a valid BEP 15 request.
///
/// The messages are worded for the client's user, so a server can send them back as they are:
/// [`RequestError::write_reply`] writes the error packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
#[non_exhaustive]
pub struct RequestError {
    /// The request's transaction id, present whenever the datagram was long enough to hold one
    /// (16 bytes); without it a reply cannot be matched by the client and should not be sent.
    pub transaction_id: Option<u32>,
    /// What was wrong.
    pub kind: RequestErrorKind,
}

impl RequestError {
    pub(super) fn new(transaction_id: Option<u32>, kind: RequestErrorKind) -> Self {
        Self { transaction_id, kind }
    }

    /// Appends a BEP 15 error reply naming the problem, if there is a transaction id to answer;
    /// returns whether anything was written. Allocates nothing beyond growing `out`.
    pub fn write_reply(&self, out: &mut Vec<u8>) -> bool {
        match self.transaction_id {
            Some(transaction_id) => {
                write_error(out, transaction_id, &self.kind);
                true
            }
            None => false,
        }
    }
}

/// What was wrong with a request datagram.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestErrorKind {
    /// Shorter than the 16 bytes every request starts with.
    #[error("packet of {len} bytes is too short for a request (at least 16)")]
    TooShort {
        /// The datagram's length.
        len: usize,
    },
    /// Shorter than the fixed part of its action.
    #[error("packet too short for {action}: {len} bytes, need {need}")]
    TooShortFor {
        /// The action the datagram named.
        action: Action,
        /// The datagram's length.
        len: usize,
        /// The length that action needs.
        need: usize,
    },
    /// An action other than connect (0), announce (1) or scrape (2).
    #[error("unknown action {action}")]
    UnknownAction {
        /// The action number received.
        action: u32,
    },
    /// A connect request (action 0) whose first 8 bytes are not the BEP 15 magic number.
    #[error("connect request without the protocol id 0x41727101980 (got {got:#x})")]
    ProtocolId {
        /// The 8 bytes received, as a number.
        got: u64,
    },
    /// An announce event other than 0 to 3.
    #[error("invalid event {event}")]
    InvalidEvent {
        /// The event number received.
        event: u32,
    },
    /// A scrape without any info-hash.
    #[error("scrape of 0 info-hashes")]
    NoInfoHashes,
    /// A scrape whose info-hash list is not a multiple of 20 bytes.
    #[error("scrape with {len} bytes of info-hashes, not a multiple of 20")]
    ScrapeLength {
        /// Bytes after the 16-byte header.
        len: usize,
    },
    /// A scrape of more info-hashes than [`MAX_SCRAPE_HASHES`].
    #[error("scrape of {count} info-hashes, at most {max} allowed")]
    TooManyInfoHashes {
        /// How many were sent.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A BEP 41 option whose length byte or data runs past the end of the datagram.
    #[error("option {option} at byte {offset} runs past the end of the packet")]
    TruncatedOption {
        /// The option type.
        option: u8,
        /// Where the option starts in the datagram.
        offset: usize,
    },
    /// BEP 41 URL data longer than [`MAX_URL_DATA`] bytes, all chunks together.
    #[error("url data longer than {max} bytes")]
    UrlDataTooLong {
        /// The limit.
        max: usize,
    },
}

impl RequestErrorKind {
    pub(super) const fn too_many_hashes(count: usize) -> Self {
        Self::TooManyInfoHashes {
            count,
            max: MAX_SCRAPE_HASHES,
        }
    }

    pub(super) const fn url_data_too_long() -> Self {
        Self::UrlDataTooLong { max: MAX_URL_DATA }
    }
}

/// A datagram that is not a valid BEP 15 reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
#[non_exhaustive]
pub struct ResponseError {
    /// The reply's transaction id, present whenever the datagram held one (8 bytes), so the
    /// client can tell which request the broken reply answered.
    pub transaction_id: Option<u32>,
    /// What was wrong.
    pub kind: ResponseErrorKind,
}

impl ResponseError {
    pub(super) fn new(transaction_id: Option<u32>, kind: ResponseErrorKind) -> Self {
        Self { transaction_id, kind }
    }
}

/// What was wrong with a reply datagram.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseErrorKind {
    /// Shorter than the 8 bytes every reply starts with.
    #[error("packet of {len} bytes is too short for a reply (at least 8)")]
    TooShort {
        /// The datagram's length.
        len: usize,
    },
    /// Shorter than the fixed part of its action.
    #[error("packet too short for {action} reply: {len} bytes, need {need}")]
    TooShortFor {
        /// The action the datagram named.
        action: Action,
        /// The datagram's length.
        len: usize,
        /// The length that action needs.
        need: usize,
    },
    /// An action other than 0 to 3.
    #[error("unknown action {action}")]
    UnknownAction {
        /// The action number received.
        action: u32,
    },
    /// An announce reply whose peer list is not a whole number of entries.
    #[error("announce reply with {len} bytes of peers, not a multiple of {peer_len}")]
    PeerListLength {
        /// Bytes after the 20-byte header.
        len: usize,
        /// The entry size for the address family: 6 or 18.
        peer_len: usize,
    },
    /// A scrape reply whose counts are not a whole number of 12-byte entries.
    #[error("scrape reply with {len} bytes of counts, not a multiple of 12")]
    ScrapeLength {
        /// Bytes after the 8-byte header.
        len: usize,
    },
}
