//! The accounting flush (Ocelot's model): every few seconds the tracker's in-memory sums are
//! drained and written to the database in one transaction. Freeleech and double upload are
//! applied here, per torrent. If the database fails, the batch goes back into the
//! accumulator (merged with what arrived since) and the next tick retries; meanwhile the
//! accumulator's bound refuses new (user, torrent) entries, which is the backpressure.
//! A clean shutdown runs a last flush, so only a crash loses up to one interval.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracker::accounting::{Accumulator, Sums};
use tracker::engine::Tracker;

use crate::auth::secret::random_bytes;
use crate::db::stats::{StatDelta, TorrentDelta, WriteFailure, committed, state, write_batch};
use crate::db::{Db, to_i64};
use crate::error::SiteError;
use crate::policy::SitePolicy;

/// Counts exported on `/metrics`.
#[derive(Debug, Default)]
pub struct FlushMetrics {
    /// Flushes that wrote a batch.
    pub flushes: AtomicU64,
    /// (user, torrent) rows written.
    pub rows: AtomicU64,
    /// Flushes that failed and were put back.
    pub failures: AtomicU64,
    /// Entries dropped because their torrent was deleted meanwhile.
    pub orphaned: AtomicU64,
    /// Duration of the latest flush in microseconds.
    pub last_micros: AtomicU64,
    /// Time spent writing batches, in microseconds.
    pub total_micros: AtomicU64,
    /// Duration of the longest flush in microseconds.
    pub max_micros: AtomicU64,
}

/// Drains the tracker's accumulator into the database.
#[derive(Debug, Clone)]
pub struct Flusher {
    db: Db,
    accumulator: Arc<Accumulator>,
    policy: Arc<SitePolicy>,
    tracker: Arc<Tracker>,
    metrics: Arc<FlushMetrics>,
    /// The (seeders, leechers) last written for each torrent: a torrent whose swarm did not
    /// change and that has no new snatch is not written again.
    written: Arc<Mutex<HashMap<i64, (i64, i64)>>>,
    /// A batch whose COMMIT got no reply, with its mark: the next flush asks the database
    /// whether it committed before restoring it (so it is neither lost nor counted twice).
    unconfirmed: Arc<Mutex<Option<(i64, Batch)>>>,
    /// Test hook: the next commit's reply is "lost" (see [`Flusher::lose_next_commit_reply`]).
    lose_reply: Arc<AtomicBool>,
}

type Batch = Vec<((tracker::access::UserId, ids::InfoHash), Sums)>;

/// Turns one drained batch into database rows, applying each torrent's promotion flags.
pub async fn resolve(
    batch: &[((tracker::access::UserId, ids::InfoHash), Sums)],
    policy: &SitePolicy,
    tracker: &Tracker,
) -> (Vec<StatDelta>, Vec<TorrentDelta>, u64) {
    let mut rows = Vec::with_capacity(batch.len());
    let mut per_torrent: HashMap<i64, (i64, ids::InfoHash)> = HashMap::with_capacity(batch.len());
    let mut orphaned = 0;
    let registered = policy.torrents_of(batch.iter().map(|((_, hash), _)| hash));
    for (((user, hash), sums), t) in batch.iter().zip(registered) {
        let Some(t) = t else {
            orphaned += 1;
            continue;
        };
        let credited_up = if t.double_upload {
            sums.uploaded.saturating_mul(2)
        } else {
            sums.uploaded
        };
        let counted_down = if t.freeleech { 0 } else { sums.downloaded };
        let peer_state = if sums.stopped {
            state::GONE
        } else if sums.left == 0 {
            state::SEEDING
        } else {
            state::LEECHING
        };
        rows.push(StatDelta {
            user_id: to_i64(user.0),
            torrent_id: t.id,
            uploaded: to_i64(credited_up),
            downloaded: to_i64(counted_down),
            real_uploaded: to_i64(sums.uploaded),
            real_downloaded: to_i64(sums.downloaded),
            snatches: i64::from(sums.completions),
            left: to_i64(sums.left),
            state: peer_state,
        });
        per_torrent.entry(t.id).or_insert((0, *hash)).0 += i64::from(sums.completions);
    }
    let mut torrents = Vec::with_capacity(per_torrent.len());
    for (id, (completed, hash)) in per_torrent {
        // From whichever store holds the swarms: with Redis, the counts of every instance.
        let live = tracker.counts(&hash).await;
        torrents.push(TorrentDelta {
            torrent_id: id,
            completed,
            seeders: i64::from(live.complete),
            leechers: i64::from(live.incomplete),
        });
    }
    (rows, torrents, orphaned)
}

impl Flusher {
    /// A flusher over the site's database, the tracker and its accumulator.
    pub fn new(
        db: Db,
        accumulator: Arc<Accumulator>,
        policy: Arc<SitePolicy>,
        tracker: Arc<Tracker>,
    ) -> Self {
        Self {
            db,
            accumulator,
            policy,
            tracker,
            metrics: Arc::new(FlushMetrics::default()),
            written: Arc::default(),
            unconfirmed: Arc::default(),
            lose_reply: Arc::default(),
        }
    }

    /// Fault injection for tests: the next flush commits, then behaves as if the database's
    /// answer to COMMIT was lost.
    #[doc(hidden)]
    pub fn lose_next_commit_reply(&self) {
        self.lose_reply.store(true, Ordering::SeqCst);
    }

    /// Settles a batch whose commit was unconfirmed: dropped if its mark is in the database,
    /// else put back. If the database cannot say, the batch stays aside and this fails.
    async fn settle_unconfirmed(&self) -> Result<(), SiteError> {
        let Some((mark, batch)) = self.unconfirmed.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return Ok(());
        };
        match committed(&self.db, mark).await {
            Ok(true) => tracing::info!("an unconfirmed accounting flush had committed"),
            Ok(false) => self.accumulator.restore(batch),
            Err(e) => {
                *self.unconfirmed.lock().unwrap_or_else(|e| e.into_inner()) = Some((mark, batch));
                return Err(e);
            }
        }
        Ok(())
    }

    /// The counters.
    pub fn metrics(&self) -> &Arc<FlushMetrics> {
        &self.metrics
    }

    /// Drains and writes once; on a database error the batch is restored and the error
    /// returned. Returns the rows written. One `accounting_flush` span per call.
    #[tracing::instrument(name = "accounting_flush", level = "debug", skip_all, fields(entries = tracing::field::Empty))]
    pub async fn flush_once(&self) -> Result<usize, SiteError> {
        self.settle_unconfirmed().await?;
        let batch = self.accumulator.drain();
        tracing::Span::current().record("entries", batch.len());
        if batch.is_empty() {
            return Ok(0);
        }
        let started = Instant::now();
        let (rows, torrents, orphaned) = resolve(&batch, &self.policy, &self.tracker).await;
        self.metrics.orphaned.fetch_add(orphaned, Ordering::Relaxed);
        let torrents = self.changed(torrents);
        let mark = i64::from_le_bytes(random_bytes::<8>()?);
        let mut written = write_batch(&self.db, &rows, &torrents, mark).await;
        if written.is_ok() && self.lose_reply.swap(false, Ordering::SeqCst) {
            written = Err(WriteFailure::Unknown(SiteError::Config(
                "commit reply lost (test hook)".into(),
            )));
        }
        match written {
            Ok(()) => {
                self.remember(&torrents);
                let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                self.metrics.flushes.fetch_add(1, Ordering::Relaxed);
                self.metrics.rows.fetch_add(rows.len() as u64, Ordering::Relaxed);
                self.metrics.last_micros.store(micros, Ordering::Relaxed);
                self.metrics.total_micros.fetch_add(micros, Ordering::Relaxed);
                self.metrics.max_micros.fetch_max(micros, Ordering::Relaxed);
                tracing::debug!(rows = rows.len(), micros, "accounting flushed");
                Ok(rows.len())
            }
            Err(WriteFailure::RolledBack(e)) => {
                self.metrics.failures.fetch_add(1, Ordering::Relaxed);
                self.accumulator.restore(batch);
                Err(e)
            }
            Err(WriteFailure::Unknown(e)) => {
                self.metrics.failures.fetch_add(1, Ordering::Relaxed);
                *self.unconfirmed.lock().unwrap_or_else(|e| e.into_inner()) = Some((mark, batch));
                Err(e)
            }
        }
    }

    /// The torrents whose counts differ from what was last written (or that have snatches).
    fn changed(&self, torrents: Vec<TorrentDelta>) -> Vec<TorrentDelta> {
        let written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        torrents
            .into_iter()
            .filter(|t| t.completed != 0 || written.get(&t.torrent_id) != Some(&(t.seeders, t.leechers)))
            .collect()
    }

    /// Records what a committed flush wrote.
    fn remember(&self, torrents: &[TorrentDelta]) {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        // Deleted torrents leave entries behind; start over long before that matters.
        if written.len() > 2 * self.policy.sizes().1 + 100_000 {
            written.clear();
        }
        for t in torrents {
            written.insert(t.torrent_id, (t.seeders, t.leechers));
        }
    }

    /// Flushes every `interval` until `shutdown` completes, then flushes a last time.
    pub async fn run(self, interval: Duration, shutdown: impl Future<Output = ()>) {
        let mut tick = tokio::time::interval(interval.max(Duration::from_millis(100)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(e) = self.flush_once().await {
                        tracing::warn!(error = %e, waiting = self.accumulator.len(),
                            "accounting flush failed; the batch is kept and retried");
                    }
                }
                () = &mut shutdown => break,
            }
        }
        self.final_flush().await;
    }

    /// The flush at shutdown: a few tries, then the loss is logged.
    pub async fn final_flush(&self) {
        for attempt in 1..=3 {
            match self.flush_once().await {
                Ok(n) => {
                    tracing::info!(rows = n, "accounting flushed at shutdown");
                    return;
                }
                Err(e) if attempt < 3 => {
                    tracing::warn!(error = %e, attempt, "final accounting flush failed, retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => {
                    tracing::error!(error = %e, lost = self.accumulator.len(),
                        "final accounting flush failed; these entries are lost");
                }
            }
        }
    }
}
