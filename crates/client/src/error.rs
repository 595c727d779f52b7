//! Errors of the client engine. Each variant names what failed and carries its cause as a
//! [`source`](std::error::Error::source), not as text: callers print the chain (anyhow's
//! `{:#}`, or [`chain`] here), so a message never repeats its cause. [`ClientError`], which
//! users print as it is, spells out the chain of a [`MetadataError`] in its own message
//! instead (see there).

use std::error::Error;
use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use tracker_proto::http::HttpError;
use wire::WireError;

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
    Duplicate(ids::InfoHash),
    /// A magnet link's metadata could not be fetched. The message holds the whole chain of
    /// causes, and so the typed cause is not also reported as the `source`: callers print
    /// this error with `{}` as often as with `{:#}`, and the latter would repeat the chain.
    #[error("magnet metadata: {}", chain(.0))]
    Metadata(MetadataError),
    /// The torrent's name is the folder where the engine keeps its state (`.nexsuj`): its
    /// files could overwrite other torrents' resume data.
    #[error("torrent name {0:?} is reserved for the client's state folder")]
    ReservedName(String),
    /// The session is shutting down.
    #[error("the session is shut down")]
    Closed,
    /// The trackers' TLS settings cannot be used (the extra CA file, say).
    #[error("tracker TLS settings")]
    TrackerTls(#[source] TrackerError),
}

impl From<MetadataError> for ClientError {
    fn from(e: MetadataError) -> Self {
        Self::Metadata(e)
    }
}

/// Why a magnet link's info dictionary could not be fetched (BEP 9).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    /// Every peer the sources named was asked, and none gave it.
    #[error("every peer failed; last error")]
    EveryPeerFailed(#[source] LastError),
    /// The time allowed ran out.
    #[error("timed out; last error")]
    TimedOut(#[source] LastError),
    /// A peer sent a dictionary whose hash matched but that is not a valid `info`.
    #[error("the info dictionary is not valid")]
    InvalidInfo(#[source] metainfo::MetainfoError),
}

/// The last thing that went wrong while fetching metadata.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LastError {
    /// No source named any peer.
    #[error("no peers found")]
    NoPeersFound,
    /// A fetch task panicked or was cancelled.
    #[error("a fetch task failed")]
    TaskFailed(#[source] tokio::task::JoinError),
    /// A peer failed.
    #[error("{addr}")]
    Peer {
        /// The peer.
        addr: SocketAddr,
        /// What it did.
        #[source]
        error: FetchError,
    },
}

/// Why one peer did not hand over a magnet's info dictionary.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// No connection or handshake.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The connection broke or the peer broke the protocol.
    #[error(transparent)]
    Frames(#[from] FrameError),
    /// The peer took longer than allowed.
    #[error("timed out")]
    Timeout,
    /// The peer does not speak the extension protocol (BEP 10).
    #[error("no extension protocol")]
    NoExtensionProtocol,
    /// Its extension handshake could not be read.
    #[error("bad extension handshake")]
    BadExtensionHandshake(#[source] WireError),
    /// Its extension handshake names no ut_metadata.
    #[error("no ut_metadata")]
    NoUtMetadata,
    /// Its extension handshake has no `metadata_size`.
    #[error("no metadata_size")]
    NoMetadataSize,
    /// `metadata_size` is 0 or larger than [`MAX_METADATA`](crate::magnet::MAX_METADATA).
    #[error("metadata_size {0} out of range")]
    SizeOutOfRange(u64),
    /// A ut_metadata message came before the extension handshake.
    #[error("metadata before the handshake")]
    MetadataBeforeHandshake,
    /// A ut_metadata message could not be read.
    #[error("bad ut_metadata message")]
    BadMessage(#[source] WireError),
    /// A piece gave another `total_size` than the handshake.
    #[error("total_size changed from {expected} to {got}")]
    TotalSizeChanged {
        /// The handshake's `metadata_size`.
        expected: u64,
        /// The piece's `total_size`.
        got: u64,
    },
    /// A piece past the end, or of the wrong length.
    #[error("metadata piece {piece} of the wrong size")]
    WrongPieceSize {
        /// The piece.
        piece: u32,
    },
    /// The peer rejected everything we asked for.
    #[error("request rejected")]
    Rejected,
    /// The whole dictionary's SHA-1 is not the info-hash.
    #[error("metadata does not match the info-hash")]
    HashMismatch,
}

/// Why an outgoing connection did not get as far as a matching handshake.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The TCP connect took too long.
    #[error("connect timed out")]
    Timeout,
    /// The TCP connect failed.
    #[error("connect failed")]
    Connect(#[source] io::Error),
    /// Our handshake could not be sent.
    #[error("write failed")]
    Write(#[source] io::Error),
    /// No valid handshake came back.
    #[error("no handshake")]
    Handshake(#[source] HandshakeError),
    /// The peer answered for another torrent.
    #[error("another torrent")]
    OtherTorrent,
    /// The encryption handshake failed.
    #[error("encryption handshake")]
    Encryption(#[source] EncryptionError),
}

/// Why an MSE/PE handshake failed, or a connection was refused for its encryption.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncryptionError {
    /// The peer broke the protocol, or we share no method with it.
    #[error(transparent)]
    Protocol(#[from] mse::MseError),
    /// Reading failed.
    #[error("read failed")]
    Read(#[source] io::Error),
    /// Writing failed.
    #[error("write failed")]
    Write(#[source] io::Error),
    /// The peer closed the connection (as a plaintext-only peer does).
    #[error("closed by the peer")]
    Closed,
    /// The handshake took too long.
    #[error("timed out")]
    Timeout,
    /// The peer answered our key with a plaintext BitTorrent handshake.
    #[error("the peer speaks plaintext only")]
    PlaintextPeer,
    /// A plaintext peer, and encryption is required.
    #[error("plaintext refused: encryption is required")]
    PlaintextRefused,
    /// An encrypted peer, and encryption is disabled.
    #[error("encrypted connection refused: encryption is disabled")]
    EncryptedRefused,
    /// The BitTorrent handshake inside names another torrent than the encryption did.
    #[error("the handshake names another torrent than the encryption handshake")]
    WrongTorrent,
}

impl ConnectError {
    /// True when trying again soon may work: the peer could not be reached or did not
    /// answer (one that has just added the torrent, say). A peer that answered for another
    /// torrent will not change its mind.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Connect(_) | Self::Handshake(_))
    }
}

/// Why a peer's handshake could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// None came in time.
    #[error("timed out")]
    Timeout,
    /// The connection failed.
    #[error("read failed")]
    Read(#[source] io::Error),
    /// The connection closed before a whole handshake came.
    #[error("closed by the peer")]
    Closed,
    /// Not a BitTorrent handshake.
    #[error("invalid handshake")]
    Invalid(#[source] WireError),
}

/// Why reading a peer's framed messages stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The socket failed.
    #[error("read failed")]
    Read(#[source] io::Error),
    /// Writing to the socket failed.
    #[error("write failed")]
    Write(#[source] io::Error),
    /// The peer closed the connection.
    #[error("closed by the peer")]
    Closed,
    /// A frame broke the wire protocol.
    #[error("protocol violation")]
    Protocol(#[source] WireError),
}

/// Why a tracker announce or scrape failed (shown in the tracker's status with its causes,
/// see [`chain`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrackerError {
    /// A URL the client cannot use (shown without its path and query, which may hold a
    /// passkey).
    #[error("unsupported tracker url {0}")]
    BadUrl(String),
    /// The torrent has no tracker.
    #[error("no trackers")]
    NoTrackers,
    /// An HTTP tracker's URL has no `/announce` to turn into a scrape URL (BEP 48).
    #[error("the url has no /announce to scrape")]
    NoScrape,
    /// The tracker's host name resolved to no address.
    #[error("network error: {host} has no address")]
    NoAddress {
        /// The host name.
        host: String,
    },
    /// The network failed.
    #[error("network error")]
    Network(#[source] io::Error),
    /// An HTTP status other than 200, without a bencoded body.
    #[error("network error: HTTP {0}")]
    HttpStatus(u16),
    /// The TLS handshake with an HTTPS tracker failed (its certificate, say).
    #[error("TLS: {0}")]
    Tls(String),
    /// The extra CA file cannot be used.
    #[error("CA file {}: {why}", path.display())]
    Ca {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        why: String,
    },
    /// More than three redirects.
    #[error("too many redirects")]
    TooManyRedirects,
    /// A redirect to another scheme (HTTPS to HTTP would reveal the passkey) or no URL.
    #[error("refused redirect to {0}")]
    BadRedirect(String),
    /// No answer in time.
    #[error("timed out")]
    Timeout,
    /// The reply could not be understood.
    #[error("invalid reply")]
    Invalid(#[from] ReplyError),
    /// The tracker refused (`failure reason` or a UDP error).
    #[error("tracker says: {0}")]
    Refused(String),
}

/// What is wrong with a tracker's reply.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyError {
    /// More than [`MAX_REPLY`](crate::tracker::MAX_REPLY) bytes.
    #[error("reply larger than 2 MiB")]
    TooLarge,
    /// The headers never end.
    #[error("no end of headers")]
    NoEndOfHeaders,
    /// The status line has no status code.
    #[error("bad status line")]
    BadStatusLine,
    /// The chunked body is malformed.
    #[error("bad chunked body")]
    BadChunkedBody,
    /// The bencoded body is not an announce or scrape reply.
    #[error("bad bencoded reply")]
    Http(#[source] HttpError),
    /// A UDP reply of another kind than the request.
    #[error("unexpected reply {0}")]
    Unexpected(&'static str),
    /// A scrape reply without the torrent.
    #[error("torrent missing from scrape")]
    NotInScrape,
}

/// An error and its causes on one line, `what: why: root cause`: for logs and for the
/// tracker status, where no `{:#}` formatter joins them.
pub fn chain(e: &(dyn Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let _ = write!(out, ": {c}");
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_names_every_cause_once() {
        let e = ClientError::Metadata(MetadataError::EveryPeerFailed(LastError::Peer {
            addr: "192.0.2.1:6881".parse().unwrap(),
            error: FetchError::Connect(ConnectError::Connect(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "refused",
            ))),
        }));
        assert_eq!(
            chain(&e),
            "magnet metadata: every peer failed; last error: 192.0.2.1:6881: connect failed: \
             refused"
        );
        assert!(ConnectError::Handshake(HandshakeError::Closed).is_transient());
        assert!(!ConnectError::OtherTorrent.is_transient());
    }
}
