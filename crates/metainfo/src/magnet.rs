//! Magnet links: BEP 9 (`magnet:?xt=urn:btih:…`), BEP 53 (`so=` file selection) and the
//! BEP 52 v2 form (`xt=urn:btmh:1220…`), parsed and formatted.
//!
//! ```
//! use metainfo::magnet::Magnet;
//!
//! let m = Magnet::parse("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=Some+Name").unwrap();
//! assert_eq!(m.display_name.as_deref(), Some("Some Name"));
//! assert_eq!(m.to_uri(), "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=Some%20Name");
//! ```

mod error;
mod parse;
mod percent;
#[cfg(test)]
mod tests;

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

pub use error::MagnetError;

use ids::{InfoHash, InfoHashV2};

/// The longest URI [`Magnet::parse`] accepts, in bytes (64 KiB).
pub const MAX_URI_LEN: usize = 64 * 1024;

/// The most `tr`, `ws` and `x.pe` parameters together that [`Magnet::parse`] accepts.
pub const MAX_LIST_PARAMS: usize = 1000;

/// A magnet link (BEP 9), with the v2 info-hash of BEP 52 and the file selection of BEP 53.
///
/// [`Magnet::parse`] accepts indexed keys (`xt.1`, `tr.2`, …) as their plain form, ignores
/// unknown keys (keys are case-sensitive), pairs without `=` and unknown `xt` URNs, keeps the
/// first `dn` and `xl`, appends every `so`, and drops repeated trackers, web seeds and peers.
/// `parse(m.to_uri()) == m` for every `m` that parse returns, and for every `m` with an
/// info-hash, no repeats in its lists, valid [`PeerAddr`]s, ascending ranges, and no v6 flow
/// label (a `SocketAddrV6` flowinfo has no textual form).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Magnet {
    /// The v1 info-hash: `xt=urn:btih:` with 40 hex or 32 base32 characters (BEP 9).
    pub info_hash_v1: Option<InfoHash>,
    /// The v2 info-hash: `xt=urn:btmh:1220…`, a sha2-256 multihash (BEP 52).
    pub info_hash_v2: Option<InfoHashV2>,
    /// `dn`: the display name, a suggestion for naming the download.
    pub display_name: Option<String>,
    /// `tr`: tracker URLs, in the order given.
    pub trackers: Vec<String>,
    /// `ws`: web seed URLs (BEP 19).
    pub web_seeds: Vec<String>,
    /// `x.pe`: peers to contact directly (BEP 9).
    pub peers: Vec<PeerAddr>,
    /// `xl`: the total size in bytes.
    pub exact_length: Option<u64>,
    /// `so`: the files to download, by index in the torrent's file list (BEP 53). Empty means all.
    pub select_only: Vec<FileSelection>,
}

/// A peer address from `x.pe` (BEP 9): `ipv4:port`, `[ipv6]:port` or `hostname:port`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PeerAddr {
    /// An IP literal with a port.
    Ip(SocketAddr),
    /// A host name to resolve. Parsing produces this only for names of ASCII letters, digits,
    /// `-`, `.` and `_` that are not IP literals.
    Host {
        /// The host name.
        host: String,
        /// The port.
        port: u16,
    },
}

/// One item of a BEP 53 `so` list: a file index or an inclusive range of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileSelection {
    /// A single file index, `so=3`.
    Index(usize),
    /// The files `start..=end`, written `so=start-end`. Parsing requires `start <= end`.
    Range(usize, usize),
}

impl Magnet {
    /// Parses a magnet URI (BEP 9, 52, 53); see [`Magnet`] for what is accepted.
    pub fn parse(uri: &str) -> Result<Magnet, MagnetError> {
        parse::parse(uri)
    }

    /// A magnet with these info-hashes and nothing else.
    pub fn from_info_hashes(v1: Option<InfoHash>, v2: Option<InfoHashV2>) -> Magnet {
        Magnet {
            info_hash_v1: v1,
            info_hash_v2: v2,
            ..Magnet::default()
        }
    }

    /// The URI: `magnet:?xt=urn:btih:…&xt=urn:btmh:1220…&dn=…&xl=…&tr=…&ws=…&x.pe=…&so=…`, with
    /// text values percent-encoded outside the RFC 3986 unreserved set. Same as `to_string()`.
    pub fn to_uri(&self) -> String {
        let mut parts = Vec::new();
        if let Some(h) = self.info_hash_v1 {
            parts.push(format!("xt=urn:btih:{}", h.to_hex()));
        }
        if let Some(h) = self.info_hash_v2 {
            parts.push(format!("xt=urn:btmh:1220{}", h.to_hex()));
        }
        if let Some(dn) = &self.display_name {
            parts.push(format!("dn={}", percent::encode(dn, b"")));
        }
        if let Some(xl) = self.exact_length {
            parts.push(format!("xl={xl}"));
        }
        parts.extend(
            self.trackers
                .iter()
                .map(|t| format!("tr={}", percent::encode(t, b""))),
        );
        parts.extend(
            self.web_seeds
                .iter()
                .map(|w| format!("ws={}", percent::encode(w, b""))),
        );
        // Brackets and colons stay readable, as other clients write them; a v6 scope `%` is escaped.
        parts.extend(
            self.peers
                .iter()
                .map(|p| format!("x.pe={}", percent::encode(&p.to_string(), b":[]"))),
        );
        if !self.select_only.is_empty() {
            let items: Vec<String> = self.select_only.iter().map(FileSelection::to_string).collect();
            parts.push(format!("so={}", items.join(",")));
        }
        format!("magnet:?{}", parts.join("&"))
    }
}

impl fmt::Display for Magnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_uri())
    }
}

impl FromStr for Magnet {
    type Err = MagnetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Magnet::parse(s)
    }
}

impl fmt::Display for PeerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerAddr::Ip(addr) => write!(f, "{addr}"),
            PeerAddr::Host { host, port } => write!(f, "{host}:{port}"),
        }
    }
}

impl FileSelection {
    /// Whether the file with this index is selected by this item.
    pub fn contains(&self, index: usize) -> bool {
        match *self {
            FileSelection::Index(i) => i == index,
            FileSelection::Range(start, end) => (start..=end).contains(&index),
        }
    }
}

impl fmt::Display for FileSelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileSelection::Index(i) => write!(f, "{i}"),
            FileSelection::Range(start, end) => write!(f, "{start}-{end}"),
        }
    }
}
