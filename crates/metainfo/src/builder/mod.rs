//! Creating `.torrent` files: v1 (BEP 3), hybrid (BEP 52 with BEP 47 padding) or v2-only
//! (BEP 52), with trackers (BEP 12), web seeds (BEP 19) and the private flag (BEP 27).
//!
//! [`TorrentBuilder::scan`] lists the files without reading them, so a caller can size a
//! progress bar; [`TorrentBuilder::build`] hashes them on all cores and returns the bencoded
//! torrent. Files are read with positional reads into small reused buffers: memory use does
//! not grow with the content.
//!
//! ```no_run
//! use metainfo::builder::{TorrentBuilder, TorrentVersion};
//!
//! let torrent = TorrentBuilder::new("/srv/iso/debian.iso")
//!     .announce_tier(vec!["udp://tracker.example:6969/announce".into()])
//!     .version(TorrentVersion::Hybrid)
//!     .build(&|_bytes| {})?;
//! std::fs::write("debian.iso.torrent", torrent)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod encode;
mod error;
mod hash;
mod layout;
mod scan;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

pub use error::BuildError;
pub use scan::{
    ContentFile, MAX_AUTO_PIECE_LENGTH, MIN_PIECE_LENGTH, ScannedContent, TARGET_PIECE_COUNT,
    auto_piece_length,
};

use encode::Hashed;
use layout::Layout;

/// Which metadata the torrent carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum TorrentVersion {
    /// BEP 3: SHA-1 piece hashes over the concatenated files.
    #[default]
    V1,
    /// BEP 52 hybrid: v2 file tree and piece layers plus v1 pieces, with files aligned to piece
    /// boundaries by BEP 47 padding files; readable by v1 and v2 clients alike.
    Hybrid,
    /// BEP 52 only: per-file SHA-256 merkle trees, no v1 keys.
    V2,
}

impl TorrentVersion {
    fn has_v1(self) -> bool {
        self != Self::V2
    }

    fn has_v2(self) -> bool {
        self != Self::V1
    }
}

/// Configures and builds a new torrent from a file or a directory.
///
/// Every setter consumes and returns the builder; [`scan`](Self::scan) and
/// [`build`](Self::build) borrow it, so one configuration can build several times.
#[derive(Debug, Clone)]
pub struct TorrentBuilder {
    path: PathBuf,
    tiers: Vec<Vec<String>>,
    web_seeds: Vec<String>,
    dht_nodes: Vec<(String, u16)>,
    private: bool,
    source: Option<String>,
    comment: Option<String>,
    created_by: String,
    creation_date: Option<i64>,
    piece_length: Option<u64>,
    version: TorrentVersion,
    threads: usize,
}

impl TorrentBuilder {
    /// A v1 torrent of `path`, a file (single-file torrent) or a directory (multi-file torrent
    /// named after it), with an automatic piece length and no creation date (the builder never
    /// reads the clock: see [`creation_date`](Self::creation_date)).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            tiers: Vec::new(),
            web_seeds: Vec::new(),
            dht_nodes: Vec::new(),
            private: false,
            source: None,
            comment: None,
            created_by: concat!("nexsuj/", env!("CARGO_PKG_VERSION")).to_owned(),
            creation_date: None,
            piece_length: None,
            version: TorrentVersion::V1,
            threads: 0,
        }
    }

    /// Adds a tier of tracker URLs (BEP 12). The first URL of the first tier becomes
    /// `announce`; `announce-list` is written when there is more than one URL in all.
    pub fn announce_tier(mut self, urls: Vec<String>) -> Self {
        self.tiers.push(urls);
        self
    }

    /// Adds a web seed URL to `url-list` (BEP 19).
    pub fn web_seed(mut self, url: String) -> Self {
        self.web_seeds.push(url);
        self
    }

    /// Adds a DHT node to `nodes` (BEP 5), for torrents without trackers.
    pub fn dht_node(mut self, host: String, port: u16) -> Self {
        self.dht_nodes.push((host, port));
        self
    }

    /// Marks the torrent private (`info.private = 1`, BEP 27): peers only from its trackers.
    pub fn private(mut self, yes: bool) -> Self {
        self.private = yes;
        self
    }

    /// Sets `info.source`, which gives otherwise identical torrents distinct info-hashes.
    pub fn source(mut self, source: String) -> Self {
        self.source = Some(source);
        self
    }

    /// Sets the free-text `comment`.
    pub fn comment(mut self, comment: String) -> Self {
        self.comment = Some(comment);
        self
    }

    /// Sets `created by` (default `nexsuj/<version>`); an empty string leaves the key out.
    pub fn created_by(mut self, created_by: String) -> Self {
        self.created_by = created_by;
        self
    }

    /// Sets `creation date` in seconds since the Unix epoch (the caller reads the clock);
    /// `None`, the default, leaves it out, which makes the output depend on the content and
    /// options only.
    pub fn creation_date(mut self, unix_secs: Option<i64>) -> Self {
        self.creation_date = unix_secs;
        self
    }

    /// Sets the piece length in bytes, a power of two of at least 16 KiB; `None` (the default)
    /// chooses one with [`auto_piece_length`].
    pub fn piece_length(mut self, bytes: Option<u64>) -> Self {
        self.piece_length = bytes;
        self
    }

    /// Chooses v1 (the default), hybrid or v2-only metadata.
    pub fn version(mut self, version: TorrentVersion) -> Self {
        self.version = version;
        self
    }

    /// Sets the number of hashing threads; 0 (the default) uses rayon's global pool, one
    /// thread per core.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Lists the files and settles the piece length without reading any data, so the caller
    /// can size a progress bar from [`ScannedContent::total_size`].
    pub fn scan(&self) -> Result<ScannedContent, BuildError> {
        scan::scan(&self.path, self.piece_length)
    }

    /// Scans, hashes and returns the bencoded torrent. `progress` is called, from any thread,
    /// with the number of bytes hashed since its previous call; the calls add up to
    /// [`ScannedContent::total_size`].
    pub fn build(&self, progress: &(dyn Fn(u64) + Sync)) -> Result<Vec<u8>, BuildError> {
        self.build_scanned(&self.scan()?, progress)
    }

    /// Like [`build`](Self::build), for content already returned by [`scan`](Self::scan); the
    /// files must still have the sizes they were scanned with.
    pub fn build_scanned(
        &self,
        content: &ScannedContent,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Vec<u8>, BuildError> {
        let layout = Layout::new(content.files(), content.piece_length(), self.version.has_v2())?;
        let (want_v1, want_v2) = (self.version.has_v1(), self.version.has_v2());
        let hashes = self.on_pool(|| hash::hash_pieces(&layout, want_v1, want_v2, progress))?;
        let hashed = Hashed {
            pieces: want_v1.then(|| hashes.v1.as_flattened()),
            roots: want_v2.then(|| hash::file_roots(&layout, &hashes.v2)),
        };
        encode::encode(self, content, &layout, &hashed)
    }

    /// Runs `work` on a pool of [`threads`](Self::threads) threads, or on the global pool.
    fn on_pool<T: Send>(&self, work: impl FnOnce() -> Result<T, BuildError> + Send) -> Result<T, BuildError> {
        if self.threads == 0 {
            return work();
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads)
            .build()?
            .install(work)
    }
}
