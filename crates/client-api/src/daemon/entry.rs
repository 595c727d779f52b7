//! One torrent of the daemon: what it is, where its data goes, its limits, and whether it
//! runs. A stopped torrent stays in the daemon (the engine forgets it) with the last state it
//! showed.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use client::{TorrentHandle, TorrentSnapshot};
use metainfo::Torrent;

use super::store::SavedTorrent;

/// Where a torrent is in its life.
#[derive(Debug)]
pub enum Run {
    /// Not in the engine.
    Stopped,
    /// A magnet link's metadata is being fetched.
    Metadata(tokio::task::AbortHandle),
    /// Being added to the engine (files opened, resume state read, maybe a hash check).
    Starting,
    /// In the engine.
    Running(TorrentHandle),
}

/// One torrent.
#[derive(Debug)]
pub struct Entry {
    /// Its name.
    pub name: String,
    /// Its metadata (none while a magnet's is fetched).
    pub torrent: Option<Arc<Torrent>>,
    /// The magnet link it came from.
    pub magnet: Option<String>,
    /// The folder that holds its data.
    pub dir: PathBuf,
    /// Download limit, KiB/s (0 = none).
    pub maxdown: u64,
    /// Upload limit, KiB/s (0 = none).
    pub maxup: u64,
    /// The user wants it running.
    pub want_running: bool,
    /// What it is doing.
    pub run: Run,
    /// When it was added.
    pub added: SystemTime,
    /// The last error that stopped it.
    pub error: Option<String>,
    /// Totals of its earlier runs: downloaded, uploaded, wasted bytes.
    pub earlier: [u64; 3],
    /// Its verified pieces when it last ran (or as saved).
    pub bitfield: Vec<u8>,
    /// Serialises start, stop and remove of this torrent.
    pub op: Arc<tokio::sync::Mutex<()>>,
    /// The task that keeps it announced in the DHT while it runs.
    pub dht_announce: Option<tokio::task::AbortHandle>,
}

impl Entry {
    /// A torrent just added.
    pub fn new(name: String, dir: PathBuf, maxdown: u64, maxup: u64) -> Self {
        Self {
            name,
            torrent: None,
            magnet: None,
            dir,
            maxdown,
            maxup,
            want_running: false,
            run: Run::Stopped,
            added: SystemTime::now(),
            error: None,
            earlier: [0; 3],
            bitfield: Vec::new(),
            op: Arc::default(),
            dht_announce: None,
        }
    }

    /// The running torrent's handle.
    pub fn handle(&self) -> Option<&TorrentHandle> {
        match &self.run {
            Run::Running(h) => Some(h),
            _ => None,
        }
    }

    /// Folds a finished run's totals into `earlier` and keeps its bitfield.
    pub fn end_run(&mut self, last: &TorrentSnapshot) {
        self.earlier[0] += last.downloaded;
        self.earlier[1] += last.uploaded;
        self.earlier[2] += last.wasted;
        self.bitfield = last.bitfield.clone();
    }

    /// Lifetime totals (downloaded, uploaded, wasted) given the current run's snapshot.
    pub fn totals(&self, now: Option<&TorrentSnapshot>) -> [u64; 3] {
        let run = now.map_or([0; 3], |s| [s.downloaded, s.uploaded, s.wasted]);
        [0, 1, 2].map(|i| self.earlier[i] + run[i])
    }

    /// What `daemon.json` keeps of it.
    pub fn saved(&self, info_hash: ids::InfoHash, now: Option<&TorrentSnapshot>) -> SavedTorrent {
        let [downloaded, uploaded, wasted] = self.totals(now);
        SavedTorrent {
            infohash: info_hash.to_hex(),
            name: self.name.clone(),
            magnet: self.magnet.clone(),
            targetdir: self.dir.clone(),
            running: self.want_running,
            maxdown: self.maxdown,
            maxup: self.maxup,
            added: self.added.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
            downloaded,
            uploaded,
            wasted,
            bitfield: ids::hex::encode(now.map_or(&self.bitfield, |s| &s.bitfield)),
        }
    }

    /// An entry as `daemon.json` had it (its metadata is read separately).
    pub fn from_saved(s: &SavedTorrent) -> Self {
        let mut e = Self::new(s.name.clone(), s.targetdir.clone(), s.maxdown, s.maxup);
        e.magnet = s.magnet.clone();
        e.want_running = s.running;
        e.added = UNIX_EPOCH + std::time::Duration::from_secs(s.added);
        e.earlier = [s.downloaded, s.uploaded, s.wasted];
        e.bitfield = ids::hex::decode_vec(&s.bitfield).unwrap_or_default();
        e
    }
}
