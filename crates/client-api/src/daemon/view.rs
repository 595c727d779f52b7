//! A torrent as the API shows it: the daemon's entry and, when it runs, the engine's state.

use std::path::PathBuf;
use std::time::SystemTime;

use client::TorrentSnapshot;

use super::{Entry, Run};

/// A torrent as the API shows it: the daemon's entry and, when it runs, the engine's state.
#[derive(Debug, Clone)]
pub struct TorrentView {
    /// The info-hash.
    pub info_hash: ids::InfoHash,
    /// Its name.
    pub name: String,
    /// `downloading`, `seeding`, `stopped`, `checking`, `metadata`, `starting` or `error`.
    pub state: &'static str,
    /// Its folder.
    pub dir: PathBuf,
    /// Limits, KiB/s.
    pub maxdown: u64,
    /// See `maxdown`.
    pub maxup: u64,
    /// When it was added.
    pub added: SystemTime,
    /// The last error.
    pub error: Option<String>,
    /// Lifetime downloaded, uploaded, wasted bytes.
    pub totals: [u64; 3],
    /// Verified pieces (BEP 3 bitfield) and how many pieces there are.
    pub bitfield: Vec<u8>,
    /// Number of pieces (0 while the metadata is unknown).
    pub num_pieces: usize,
    /// Content size (0 while unknown).
    pub size: u64,
    /// The files (padding files left out): index in the torrent, path relative to `dir`, size.
    pub files: Vec<(usize, String, u64)>,
    /// The engine's state, when it runs.
    pub live: Option<TorrentSnapshot>,
}

/// The daemon's side of a torrent's view (the engine's is added by the caller).
pub(super) fn view_of(info_hash: ids::InfoHash, e: &Entry) -> TorrentView {
    let (num_pieces, size, files) = match &e.torrent {
        Some(t) => (
            t.info.pieces.len(),
            t.info.total_size(),
            t.info
                .files
                .iter()
                .enumerate()
                .filter(|(_, f)| !f.is_pad())
                .map(|(i, f)| {
                    (
                        i,
                        t.info.relative_disk_path(f).to_string_lossy().into_owned(),
                        f.length,
                    )
                })
                .collect(),
        ),
        None => (0, 0, Vec::new()),
    };
    let state = match &e.run {
        Run::Stopped if e.error.is_some() => "error",
        Run::Stopped => "stopped",
        Run::Metadata(_) => "metadata",
        Run::Starting => "starting",
        Run::Running(_) => "downloading",
    };
    TorrentView {
        info_hash,
        name: e.name.clone(),
        state,
        dir: e.dir.clone(),
        maxdown: e.maxdown,
        maxup: e.maxup,
        added: e.added,
        error: e.error.clone(),
        totals: e.earlier,
        bitfield: e.bitfield.clone(),
        num_pieces,
        size,
        files,
        live: None,
    }
}
