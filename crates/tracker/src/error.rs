//! The tracker's errors: [`Refusal`], what a client is told when an announce or scrape is
//! refused (its text is the `failure reason`); [`QueueFull`], the accounting's backpressure;
//! [`ConfigError`] and [`ListError`], an unusable configuration or info-hash list; and
//! [`Error`], why the servers could not start.
//!
//! Messages include their cause (they are logged with `%e` and printed whole), so causes are
//! carried as fields, not as `source()`: a chain printer would repeat them.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::config::Mode;

/// Why an announce or scrape is refused; the text goes to the client as `failure reason`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The torrent is not tracked here.
    #[error("torrent not registered with this tracker")]
    UnregisteredTorrent,
    /// A private tracker needs a passkey.
    #[error("passkey required")]
    MissingPasskey,
    /// The passkey matches no (enabled) user.
    #[error("unknown or disabled passkey")]
    BadPasskey,
    /// The client software is not allowed.
    #[error("client not allowed")]
    BannedClient,
    /// The tracker holds as many swarms as it is allowed (`max_torrents`).
    #[error("tracker full: it tracks as many torrents as it may, please retry later")]
    TooManyTorrents,
    /// The client's address (IPv6: its /64) holds as many peer records as it may
    /// (`max_peers_per_ip`).
    #[error("too many peers from your address")]
    TooManyPeersFromAddress,
    /// The address named by `ip=` is another peer's.
    #[error("the address given in ip= belongs to another peer")]
    AddressTaken,
    /// Anything else, worded by the policy.
    #[error("{0}")]
    Other(String),
}

/// The accumulator is full: the site's flushes are not keeping up. The caller refuses the
/// announce (backpressure) rather than letting memory grow without bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("accounting queue full ({0} entries waiting for the database)")]
pub struct QueueFull(pub usize);

/// A CIDR that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CIDR {0:?} (expected e.g. 10.0.0.0/8 or ::1/128)")]
pub struct BadCidr(pub String);

/// The configuration cannot be used as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// An entry of `trusted_proxies` is not a CIDR.
    #[error("trusted_proxies: {0}")]
    BadCidr(BadCidr),
    /// `allow` and `deny` need the list they allow or deny.
    #[error("mode {mode} needs a list_file of info-hashes")]
    ListFileMissing {
        /// The mode asked for.
        mode: Mode,
    },
    /// `redis_url` cannot be used.
    #[error("redis_url: {0}")]
    StoreUrl(String),
}

impl From<BadCidr> for ConfigError {
    fn from(e: BadCidr) -> Self {
        Self::BadCidr(e)
    }
}

/// The info-hash list (`list_file`) could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListError {
    /// The file could not be read.
    #[error("cannot read the info-hash list {}: {error}", path.display())]
    Read {
        /// The list file.
        path: PathBuf,
        /// Why.
        error: io::Error,
    },
    /// A line is not an info-hash (a typo must not silently open or close a torrent).
    #[error("{}: line {line}: not a 40-digit hex info-hash: {text:?}", path.display())]
    BadLine {
        /// The list file.
        path: PathBuf,
        /// The line's number, from 1.
        line: usize,
        /// What the line holds (without its comment).
        text: String,
    },
}

/// The tracker's servers could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The info-hash list could not be read.
    #[error(transparent)]
    List(#[from] ListError),
    /// A listening address could not be bound.
    #[error("cannot bind {protocol} {address}: {error}")]
    Bind {
        /// `HTTP` or `UDP`.
        protocol: &'static str,
        /// The address asked for.
        address: SocketAddr,
        /// Why.
        error: io::Error,
    },
    /// The operating system refused something else (a thread, a socket option, randomness).
    #[error("{what}: {error}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// Why it failed.
        error: io::Error,
    },
}

impl Error {
    /// An [`Error::Io`] maker for `map_err`.
    pub(crate) fn io(what: &'static str) -> impl FnOnce(io::Error) -> Self {
        move |error| Self::Io { what, error }
    }
}
