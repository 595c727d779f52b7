//! The facade every handler goes through: the engine's [`client::Session`] plus what a
//! daemon adds — torrents that stay while stopped, magnets whose metadata is still coming,
//! per-torrent and global limits in KiB/s, lifetime totals, and the state folder that makes
//! all of it survive a restart.
//!
//! Locks: `entries` is a std mutex held for lookups and updates only, never across an
//! await; the engine's own locks are taken inside it only by `TorrentHandle::snapshot` and
//! `set_rate_limits`, which take no daemon lock. Start, stop and remove of one torrent are
//! serialised by that torrent's `op` mutex (a tokio one, held across the engine's awaits).

mod data;
mod entry;
mod saving;
pub mod store;
mod tasks;
mod view;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use client::Session;
use metainfo::Torrent;
use metainfo::magnet::Magnet;
use tokio::sync::{Notify, Semaphore};

use crate::config::DaemonConfig;
use crate::error::{ApiError, ApiResult};
pub use entry::{Entry, Run};
use store::{Saved, Store};
pub use view::TorrentView;
use view::view_of;

/// The daemon's torrents and its engine.
#[derive(Debug)]
pub struct Daemon {
    session: Session,
    entries: Mutex<BTreeMap<ids::InfoHash, Entry>>,
    /// Global limits, KiB/s (download, upload).
    global: Mutex<(u64, u64)>,
    store: Store,
    default_dir: PathBuf,
    metadata_timeout: Duration,
    /// Set when something worth saving changed; the saver task writes `daemon.json`.
    dirty: Notify,
    /// Adds to the engine at a time (each opens files and may hash-check).
    adding: Semaphore,
    /// When the daemon started.
    pub started: SystemTime,
    /// The DHT node, unless `dht = false` or its port was taken.
    pub dht: Option<client::dht::Dht>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Daemon {
    /// Opens the state folder, starts the engine and resumes the saved torrents (in the
    /// background: the API answers at once).
    pub async fn open(config: &DaemonConfig) -> Result<Arc<Self>, crate::RunError> {
        let store = Store::open(&config.storage.state_dir).map_err(|e| crate::RunError::State {
            path: config.storage.state_dir.clone(),
            source: e,
        })?;
        let saved = store.load().map_err(|e| crate::RunError::State {
            path: store.dir().to_path_buf(),
            source: e,
        })?;
        let session = Session::new(config.session()?).await?;
        let dht = start_dht(config, &session, store.dir()).await;
        let first_start = saved.is_none();
        let saved = saved.unwrap_or(Saved {
            maxdown: config.peers.global_download_rate,
            maxup: config.peers.global_upload_rate,
            ..Saved::default()
        });
        let daemon = Arc::new(Self {
            session,
            entries: Mutex::new(BTreeMap::new()),
            global: Mutex::new((saved.maxdown, saved.maxup)),
            store,
            default_dir: config.download_dir(),
            metadata_timeout: Duration::from_secs(config.storage.metadata_timeout.into()),
            dirty: Notify::new(),
            adding: Semaphore::new(4),
            started: SystemTime::now(),
            dht,
        });
        daemon.apply_global();
        daemon.restore(&saved);
        if first_start {
            daemon.changed();
        }
        Ok(daemon)
    }

    /// The engine.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The state folder.
    pub fn state_dir(&self) -> &Path {
        self.store.dir()
    }

    /// Reads the API token (see [`Store::token`]).
    pub fn token(&self, configured: Option<&str>) -> std::io::Result<(String, bool)> {
        self.store.token(configured)
    }

    fn entries(&self) -> MutexGuard<'_, BTreeMap<ids::InfoHash, Entry>> {
        lock(&self.entries)
    }

    /// Marks the state as changed; the saver writes it soon.
    fn changed(&self) {
        self.dirty.notify_one();
    }

    fn restore(self: &Arc<Self>, saved: &Saved) {
        for s in &saved.torrents {
            let Some(info_hash) = ids::InfoHash::from_hex(&s.infohash) else {
                tracing::warn!(infohash = %s.infohash, "daemon.json: not an info-hash; skipped");
                continue;
            };
            let mut e = Entry::from_saved(s);
            match self
                .store
                .read_torrent(info_hash)
                .map(|b| Torrent::from_bytes(&b))
            {
                Ok(Ok(t)) => e.torrent = Some(Arc::new(t)),
                Ok(Err(err)) => e.error = Some(format!("saved metadata unreadable: {err}")),
                Err(_) if e.magnet.is_some() => {}
                Err(err) => e.error = Some(format!("saved metadata missing: {err}")),
            }
            let start = e.want_running && e.error.is_none();
            self.entries().insert(info_hash, e);
            if start {
                self.launch(info_hash);
            }
        }
    }

    /// Starts what `info_hash` needs to run: the metadata fetch of a magnet, else the add to
    /// the engine. The entry must be `Stopped`.
    fn launch(self: &Arc<Self>, info_hash: ids::InfoHash) {
        let mut entries = self.entries();
        let Some(e) = entries.get_mut(&info_hash) else {
            return;
        };
        e.want_running = true;
        e.error = None;
        if e.torrent.is_some() {
            e.run = Run::Starting;
            tokio::spawn(tasks::start(self.clone(), info_hash));
        } else if let Some(link) = e.magnet.clone() {
            let task = tokio::spawn(tasks::fetch(self.clone(), info_hash, link));
            e.run = Run::Metadata(task.abort_handle());
        }
    }

    /// Adds a torrent from its .torrent bytes.
    pub fn add_torrent(
        self: &Arc<Self>,
        bytes: &[u8],
        dir: Option<PathBuf>,
        start: bool,
        limits: (u64, u64),
    ) -> ApiResult<ids::InfoHash> {
        let torrent =
            Torrent::from_bytes(bytes).map_err(|e| ApiError::BadBody(format!("not a torrent file: {e}")))?;
        let info_hash = torrent.info_hash_v1().ok_or_else(|| {
            ApiError::BadBody("a v2-only torrent; this client needs v1 piece hashes".into())
        })?;
        let dir = self.prepare_dir(dir)?;
        {
            let mut entries = self.entries();
            if entries.contains_key(&info_hash) {
                return Err(ApiError::Duplicate(info_hash));
            }
            self.store
                .write_torrent(info_hash, bytes)
                .map_err(|e| ApiError::Internal(format!("cannot keep the torrent file: {e}")))?;
            let mut e = Entry::new(torrent.info.name.clone(), dir, limits.0, limits.1);
            e.torrent = Some(Arc::new(torrent));
            entries.insert(info_hash, e);
        }
        if start {
            self.launch(info_hash);
        }
        self.changed();
        Ok(info_hash)
    }

    /// Adds a magnet link; its metadata is fetched in the background.
    pub fn add_magnet(
        self: &Arc<Self>,
        link: &str,
        dir: Option<PathBuf>,
        limits: (u64, u64),
    ) -> ApiResult<ids::InfoHash> {
        let magnet =
            Magnet::parse(link).map_err(|e| ApiError::param("url", format!("not a magnet link: {e}")))?;
        let info_hash = magnet
            .info_hash_v1
            .ok_or_else(|| ApiError::param("url", "no v1 info-hash (urn:btih:)"))?;
        let dir = self.prepare_dir(dir)?;
        {
            let mut entries = self.entries();
            if entries.contains_key(&info_hash) {
                return Err(ApiError::Duplicate(info_hash));
            }
            let name = magnet.display_name.clone().unwrap_or_else(|| info_hash.to_hex());
            let mut e = Entry::new(name, dir, limits.0, limits.1);
            e.magnet = Some(link.to_string());
            entries.insert(info_hash, e);
        }
        self.launch(info_hash);
        self.changed();
        Ok(info_hash)
    }

    fn prepare_dir(&self, dir: Option<PathBuf>) -> ApiResult<PathBuf> {
        let dir = dir.unwrap_or_else(|| self.default_dir.clone());
        if dir
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(ApiError::param("path", "must not contain '..'"));
        }
        std::fs::create_dir_all(&dir)
            .map_err(|e| ApiError::param("path", format!("cannot create {}: {e}", dir.display())))?;
        Ok(std::path::absolute(&dir).unwrap_or(dir))
    }

    fn op_lock(&self, info_hash: ids::InfoHash) -> ApiResult<Arc<tokio::sync::Mutex<()>>> {
        self.entries()
            .get(&info_hash)
            .map(|e| e.op.clone())
            .ok_or(ApiError::UnknownTorrent(info_hash))
    }

    /// Starts a stopped torrent (nothing happens to one that runs).
    pub async fn start(self: &Arc<Self>, info_hash: ids::InfoHash) -> ApiResult<()> {
        let op = self.op_lock(info_hash)?;
        let _op = op.lock().await;
        let stopped = matches!(self.entries().get(&info_hash).map(|e| &e.run), Some(Run::Stopped));
        if stopped {
            self.launch(info_hash);
            self.changed();
        }
        Ok(())
    }

    /// Stops a torrent: the engine saves its resume state and tells the trackers.
    pub async fn stop(self: &Arc<Self>, info_hash: ids::InfoHash) -> ApiResult<()> {
        let op = self.op_lock(info_hash)?;
        let _op = op.lock().await;
        self.halt(info_hash).await;
        self.changed();
        Ok(())
    }

    /// Takes a torrent out of the engine (the caller holds its `op` lock).
    async fn halt(&self, info_hash: ids::InfoHash) {
        let run = {
            let mut entries = self.entries();
            let Some(e) = entries.get_mut(&info_hash) else {
                return;
            };
            e.want_running = false;
            std::mem::replace(&mut e.run, Run::Stopped)
        };
        match run {
            Run::Running(handle) => {
                if let Some(task) = self
                    .entries()
                    .get_mut(&info_hash)
                    .and_then(|e| e.dht_announce.take())
                {
                    task.abort();
                }
                handle.stop().await;
                let last = handle.snapshot();
                if let Some(e) = self.entries().get_mut(&info_hash) {
                    e.end_run(&last);
                }
            }
            Run::Metadata(task) => task.abort(),
            Run::Starting | Run::Stopped => {}
        }
    }

    /// Removes a torrent, and with `delete` its data and resume files.
    pub async fn remove(self: &Arc<Self>, info_hash: ids::InfoHash, delete: bool) -> ApiResult<()> {
        let op = self.op_lock(info_hash)?;
        let _op = op.lock().await;
        self.halt(info_hash).await;
        let Some(entry) = self.entries().remove(&info_hash) else {
            return Err(ApiError::UnknownTorrent(info_hash));
        };
        self.changed();
        if let Err(e) = self.store.remove_torrent(info_hash) {
            tracing::warn!(error = %e, "cannot remove the kept torrent file");
        }
        if delete && let Some(t) = &entry.torrent {
            let (dir, info) = (entry.dir.clone(), t.info.clone());
            tokio::task::spawn_blocking(move || data::delete(&dir, &info, info_hash))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?
                .map_err(|e| {
                    ApiError::Internal(format!("torrent removed, but its data not all deleted: {e}"))
                })?;
        }
        Ok(())
    }

    /// Sets a torrent's limits, KiB/s (`None` leaves one as it is; 0 = none).
    pub fn set_rates(&self, info_hash: ids::InfoHash, down: Option<u64>, up: Option<u64>) -> ApiResult<()> {
        let mut entries = self.entries();
        let e = entries
            .get_mut(&info_hash)
            .ok_or(ApiError::UnknownTorrent(info_hash))?;
        e.maxdown = down.unwrap_or(e.maxdown);
        e.maxup = up.unwrap_or(e.maxup);
        if let Some(h) = e.handle() {
            h.set_rate_limits(e.maxdown * 1024, e.maxup * 1024);
        }
        drop(entries);
        self.changed();
        Ok(())
    }

    /// Sets the global limits, KiB/s (`None` leaves one as it is; 0 = none).
    pub fn set_global_rates(&self, down: Option<u64>, up: Option<u64>) {
        {
            let mut g = lock(&self.global);
            g.0 = down.unwrap_or(g.0);
            g.1 = up.unwrap_or(g.1);
        }
        self.apply_global();
        self.changed();
    }

    /// The global limits, KiB/s.
    pub fn global_rates(&self) -> (u64, u64) {
        *lock(&self.global)
    }

    fn apply_global(&self) {
        let (down, up) = self.global_rates();
        self.session.set_rate_limits(down * 1024, up * 1024);
    }

    /// Every torrent, in info-hash order. The engine is asked outside the daemon's lock.
    pub fn torrents(&self) -> Vec<TorrentView> {
        let keys: Vec<ids::InfoHash> = self.entries().keys().copied().collect();
        keys.into_iter().filter_map(|h| self.torrent(h).ok()).collect()
    }

    /// One torrent.
    pub fn torrent(&self, info_hash: ids::InfoHash) -> ApiResult<TorrentView> {
        let (handle, mut view) = {
            let entries = self.entries();
            let e = entries
                .get(&info_hash)
                .ok_or(ApiError::UnknownTorrent(info_hash))?;
            (e.handle().cloned(), view_of(info_hash, e))
        };
        if let Some(h) = handle {
            let live = h.snapshot();
            view.totals =
                [0, 1, 2].map(|i| view.totals[i] + [live.downloaded, live.uploaded, live.wasted][i]);
            view.bitfield = live.bitfield.clone();
            view.state = if live.checking {
                "checking"
            } else if live.complete {
                "seeding"
            } else {
                "downloading"
            };
            if live.error.is_some() {
                view.error = live.error.clone();
            }
            view.live = Some(live);
        }
        Ok(view)
    }

    /// The torrent's running handle (for streaming).
    pub fn handle(&self, info_hash: ids::InfoHash) -> ApiResult<(client::TorrentHandle, Arc<Torrent>)> {
        let entries = self.entries();
        let e = entries
            .get(&info_hash)
            .ok_or(ApiError::UnknownTorrent(info_hash))?;
        match (e.handle(), &e.torrent) {
            (Some(h), Some(t)) => Ok((h.clone(), t.clone())),
            _ => Err(ApiError::Conflict(format!(
                "torrent {info_hash} is not running; start it first"
            ))),
        }
    }
}

/// The daemon's DHT node, on UDP at the peers' port; its id and nodes kept in the state
/// folder. `None` when turned off, or when the port is taken (the daemon runs without it).
async fn start_dht(config: &DaemonConfig, session: &Session, state_dir: &Path) -> Option<client::dht::Dht> {
    if !config.peers.dht {
        return None;
    }
    let state = Some(state_dir.join("dht.state"));
    match client::dht::Dht::start_for(session, config.peers.dht_bootstrap.clone(), state).await {
        Ok(dht) => {
            let joining = dht.clone();
            tokio::spawn(async move {
                let size = joining.bootstrap().await;
                tracing::info!(table = size, "DHT joined");
            });
            Some(dht)
        }
        Err(e) => {
            let port = session.listen_addrs().first().map_or(0, |a| a.port());
            tracing::warn!(port, error = %e, "DHT off: cannot bind its UDP port");
            None
        }
    }
}
