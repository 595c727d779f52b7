//! Adding a torrent: open its files, decide which pieces are already there (resume state,
//! journal re-check, or a full hash check), then start its driver.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use metainfo::Torrent;
use rayon::prelude::*;
use tokio::sync::{mpsc, watch};
use tracing::Instrument;
use wire::Bitfield;

use super::assembly::Assembly;
use super::{Known, Meta, State, TorrentHandle, TorrentShared, Totals, driver};
use crate::config::AddOptions;
use crate::error::ClientError;
use crate::picker::Picker;
use crate::rate::Limiter;
use crate::resume::ResumeStore;
use crate::rng::Rng;
use crate::session::SessionShared;
use crate::storage::Storage;
use crate::tracker::Tiers;

/// Hashes every piece on disk (in parallel) and returns the good ones.
pub(crate) fn full_check(storage: &Storage, num_pieces: usize) -> Bitfield {
    let good: Vec<bool> = (0..num_pieces as u32)
        .into_par_iter()
        .map(|i| storage.check_piece(i).unwrap_or(false))
        .collect();
    let mut have = Bitfield::new(num_pieces);
    for (i, ok) in good.into_iter().enumerate() {
        have.set(i, ok);
    }
    have
}

fn initial_pieces(storage: &Storage, resume: &ResumeStore, recheck: bool) -> Bitfield {
    let n = storage.info().num_pieces() as usize;
    if recheck {
        return full_check(storage, n);
    }
    match resume.load(storage.info(), &storage.file_stamps()) {
        Some(r) => {
            if !r.to_check.is_empty() {
                tracing::info!(
                    pieces = r.to_check.len(),
                    "rechecking pieces the resume state does not vouch for"
                );
            }
            let mut have = r.trusted;
            let good: Vec<(u32, bool)> = r
                .to_check
                .into_par_iter()
                .map(|i| (i, storage.check_piece(i).unwrap_or(false)))
                .collect();
            for (i, ok) in good {
                have.set(i as usize, ok);
            }
            have
        }
        None if storage.found_data() => full_check(storage, n),
        None => Bitfield::new(n),
    }
}

/// Opens, checks and starts a torrent in `session`.
pub(crate) async fn start(
    session: Arc<SessionShared>,
    torrent: Torrent,
    opts: AddOptions,
) -> Result<TorrentHandle, ClientError> {
    let info_hash = torrent.info_hash_v1().ok_or(ClientError::V2Only)?;
    if session.torrents().contains_key(&info_hash) {
        return Err(ClientError::Duplicate(info_hash));
    }
    let span = tracing::info_span!("torrent", info_hash = %info_hash, name = %torrent.info.name);
    let info = Arc::new(torrent.info.clone());
    let dir = opts.dir.clone();
    let (allocation, recheck) = (opts.allocation, opts.recheck);
    let (info2, pool, faults) = (
        info.clone(),
        session.files.clone(),
        session.config.disk_faults.clone(),
    );
    let check_span = span.clone();
    let opened = tokio::task::spawn_blocking(move || -> Result<_, ClientError> {
        let _span = check_span.entered();
        let storage = Storage::open(info2, &dir, allocation, pool)?.with_faults(faults);
        let resume = ResumeStore::new(&dir, info_hash);
        let have = initial_pieces(&storage, &resume, recheck);
        Ok((storage, resume, have))
    })
    .await
    .map_err(|_| ClientError::Closed)??;
    let (storage, resume, have) = opened;
    let mut rng = Rng::from_entropy(0);
    let complete = have.is_full();
    let mut picker = Picker::new(info.piece_length, info.byte_space_len(), have, rng.clone());
    picker.set_sequential(opts.sequential);
    let (events, events_rx) = mpsc::unbounded_channel();
    let trackers = if opts.no_trackers {
        Vec::new()
    } else {
        torrent.trackers()
    };
    let known: HashMap<_, _> = opts.peers.iter().map(|a| (*a, Known::default())).collect();
    let shared = Arc::new(TorrentShared {
        meta: Meta {
            num_pieces: info.num_pieces() as usize,
            total_len: info.total_size(),
            private: info.private,
            info_bytes: Arc::from(torrent.info_bytes()),
            info,
            info_hash,
        },
        storage: Arc::new(storage),
        state: Mutex::new(State {
            picker,
            assembly: Assembly::new(session.piece_memory.clone()),
            peers: HashMap::new(),
            known,
            connecting: 0,
            next_key: 1,
            strikes: HashMap::new(),
            banned: Default::default(),
            banned_ids: Default::default(),
            optimistic: None,
            error: None,
            hash_failures: 0,
            disk: Default::default(),
        }),
        totals: Totals::default(),
        down: Limiter::new(opts.download_rate),
        up: Limiter::new(opts.upload_rate),
        session: session.clone(),
        events,
        complete: watch::channel(complete).0,
        verified: tokio::sync::Notify::new(),
        checking: AtomicBool::new(false),
        resume,
        tiers: Mutex::new(Tiers::new(trackers, &mut rng)),
        started: SystemTime::now(),
        runtime: tokio::runtime::Handle::current(),
        span: span.clone(),
    });
    session.insert(info_hash, shared.clone())?;
    tokio::spawn(driver::run(shared.clone(), events_rx).instrument(span));
    Ok(TorrentHandle::new(shared))
}
