//! The announce and scrape paths of a tracker whose swarms live in Redis: the same rules as
//! the in-memory path, with the store's round trip awaited in the middle and its failures
//! answered as degraded.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use ids::InfoHash;
use tracker_proto::common::{AnnounceResponse, ResponsePeer, ScrapeStats};

use super::{AnnounceInput, DEGRADED, Prepared, Shared, Tracker};
use crate::access::Refusal;
use crate::swarm::shared::{BlockingLink, SharedError};
use crate::swarm::{Announce, AnnounceOutcome, Totals};

/// A prepared announce and where its input sits in the batch.
type Indexed = (usize, Prepared);

impl Tracker {
    /// Like [`Tracker::announce`], for either store: with a shared one the swarm update is
    /// one round trip to Redis (a second one for a BEP 7 address of the other family), and a
    /// store failure is refused with [`DEGRADED`] before anything is accounted.
    pub async fn announce_async(
        &self,
        input: &AnnounceInput<'_>,
        resp: &mut AnnounceResponse,
    ) -> Result<(), Refusal> {
        let Some(shared) = &self.shared else {
            return self.announce(input, self.now(), resp);
        };
        let p = self.prepare(input)?;
        resp.peers.clear();
        let outcome = shared
            .store
            .announce(&p.announce, p.named, &mut resp.peers)
            .await
            .map_err(|e| self.degraded(shared, &e))?;
        self.refuse_turned(&outcome)?;
        let now = self.now();
        shared
            .local
            .served(p.announce.info_hash, outcome.complete, outcome.incomplete, now);
        if let Some(other) = self.other_family(input, &p.announce) {
            let dual = Announce {
                addr: SocketAddr::new(other, p.announce.addr.port()),
                numwant: 0,
                ..p.announce
            };
            let mut none = Vec::new();
            let recorded = shared.store.announce(&dual, true, &mut none).await;
            if !matches!(recorded, Ok(AnnounceOutcome { turned: None, .. })) {
                self.bump(&self.counters.other_family_ignored);
            }
        }
        self.complete(&p, input, &outcome, resp);
        Ok(())
    }

    /// The announces of one UDP batch (BEP 7's second address does not exist over UDP):
    /// one pipeline to Redis when the store pipelines, one by one otherwise (callers with a
    /// cluster store run [`Tracker::announce_async`] concurrently instead). `resps[i]` and
    /// the i-th result answer `inputs[i]`.
    pub async fn announce_batch(
        &self,
        inputs: &[AnnounceInput<'_>],
        resps: &mut [AnnounceResponse],
    ) -> Vec<Result<(), Refusal>> {
        let Some(shared) = self.shared.as_ref().filter(|s| s.store.pipelines()) else {
            let mut results = Vec::with_capacity(inputs.len());
            for (input, resp) in inputs.iter().zip(resps.iter_mut()) {
                results.push(self.announce_async(input, resp).await);
            }
            return results;
        };
        let (mut results, prepared) = self.prepare_batch(inputs);
        let batch: Vec<_> = prepared.iter().map(|(_, p)| (p.announce, p.named)).collect();
        let mut outs = vec![Vec::new(); batch.len()];
        let outcomes = shared.store.announce_many(&batch, &mut outs).await;
        self.finish_batch(shared, inputs, &prepared, outcomes, outs, resps, &mut results);
        results
    }

    /// [`Tracker::announce_batch`] on the calling thread, through a UDP worker's own
    /// connection (`None` without a pipelining shared store).
    pub fn announce_batch_blocking(
        &self,
        link: &mut BlockingLink,
        inputs: &[AnnounceInput<'_>],
        resps: &mut [AnnounceResponse],
    ) -> Option<Vec<Result<(), Refusal>>> {
        let shared = self.shared.as_ref().filter(|s| s.store.pipelines())?;
        let (mut results, prepared) = self.prepare_batch(inputs);
        let batch: Vec<_> = prepared.iter().map(|(_, p)| (p.announce, p.named)).collect();
        let mut outs = vec![Vec::new(); batch.len()];
        let outcomes = shared.store.announce_many_blocking(link, &batch, &mut outs);
        self.finish_batch(shared, inputs, &prepared, outcomes, outs, resps, &mut results);
        Some(results)
    }

    /// A UDP worker's own connection to the store, when it is one Redis server.
    pub fn blocking_link(&self) -> Option<BlockingLink> {
        self.shared.as_ref()?.store.blocking_link()
    }

    /// Every input's policy check: the refusals in place, and the rest to send to the store.
    fn prepare_batch(&self, inputs: &[AnnounceInput<'_>]) -> (Vec<Result<(), Refusal>>, Vec<Indexed>) {
        let mut results = Vec::with_capacity(inputs.len());
        let mut prepared = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.iter().enumerate() {
            match self.prepare(input) {
                Ok(p) => {
                    prepared.push((i, p));
                    results.push(Ok(()));
                }
                Err(refusal) => results.push(Err(refusal)),
            }
        }
        (results, prepared)
    }

    /// The store's answers to a batch, turned into replies (or refusals) and accounting.
    #[allow(clippy::too_many_arguments)]
    fn finish_batch(
        &self,
        shared: &Shared,
        inputs: &[AnnounceInput<'_>],
        prepared: &[Indexed],
        outcomes: Result<Vec<Result<AnnounceOutcome, SharedError>>, SharedError>,
        outs: Vec<Vec<ResponsePeer>>,
        resps: &mut [AnnounceResponse],
        results: &mut [Result<(), Refusal>],
    ) {
        let outcomes = match outcomes {
            Ok(outcomes) => outcomes,
            Err(e) => {
                let refusal = self.degraded(shared, &e);
                for (i, _) in prepared {
                    results[*i] = Err(refusal.clone());
                }
                return;
            }
        };
        let now = self.now();
        for (((i, p), outcome), peers) in prepared.iter().zip(outcomes).zip(outs) {
            let outcome = outcome
                .map_err(|e| self.degraded(shared, &e))
                .and_then(|o| self.refuse_turned(&o).map(|()| o));
            match outcome {
                Ok(o) => {
                    let resp = &mut resps[*i];
                    resp.peers = peers;
                    shared
                        .local
                        .served(p.announce.info_hash, o.complete, o.incomplete, now);
                    self.complete(p, &inputs[*i], &o, resp);
                }
                Err(refusal) => results[*i] = Err(refusal),
            }
        }
    }

    /// Like [`Tracker::scrape`], for either store (a shared store's counts are asked for
    /// all hashes at once, pipelined).
    pub async fn scrape_async(
        &self,
        hashes: &[InfoHash],
        passkey: Option<&str>,
        out: &mut Vec<(InfoHash, ScrapeStats)>,
    ) -> Result<(), Refusal> {
        let Some(shared) = &self.shared else {
            return self.scrape(hashes, passkey, out);
        };
        for h in hashes {
            self.policy
                .check_scrape(h, passkey)
                .inspect_err(|_| self.bump(&self.counters.refused))?;
        }
        let mut asked = tokio::task::JoinSet::new();
        for (i, h) in hashes.iter().enumerate() {
            let (store, h) = (shared.store.clone(), *h);
            asked.spawn(async move { (i, store.scrape(&h).await) });
        }
        let mut stats = vec![ScrapeStats::default(); hashes.len()];
        while let Some(done) = asked.join_next().await {
            let Ok((i, got)) = done else { continue };
            stats[i] = got.map_err(|e| self.degraded(shared, &e))?;
        }
        out.extend(hashes.iter().copied().zip(stats));
        self.bump(&self.counters.scrapes);
        Ok(())
    }

    /// The counts of one torrent, from whichever store holds it (for a site's pages and
    /// its count cache); zeros when the shared store cannot be reached.
    pub async fn counts(&self, h: &InfoHash) -> ScrapeStats {
        match &self.shared {
            None => self.swarms.scrape(h),
            Some(shared) => shared.store.scrape(h).await.unwrap_or_default(),
        }
    }

    /// A shared store's sweep: up to `batch` of the swarms this instance served lately lose
    /// their expired peers (none at all for the in-memory store, which
    /// [`Tracker::expire`] sweeps). Returns the peers dropped.
    pub async fn sweep_shared(&self, batch: usize) -> usize {
        let Some(shared) = &self.shared else { return 0 };
        let now = self.now();
        let idle = self.config.swarms.peer_timeout_secs;
        let mut dropped = 0;
        for h in shared.local.next_batch(batch) {
            match shared.store.sweep(&h).await {
                Ok([gone, seeders, leechers]) => {
                    dropped += gone as usize;
                    let c = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
                    shared.local.swept(h, c(seeders), c(leechers), now, idle);
                }
                Err(e) => {
                    shared.local.retry(h);
                    tracing::debug!(error = %e, "sweep: swarm store failed");
                    break;
                }
            }
        }
        dropped
    }

    /// Torrents, seeders and leechers: the whole in-memory store, or for a shared one the
    /// swarms this instance served lately (their last known counts).
    pub fn totals(&self) -> Totals {
        match &self.shared {
            None => self.swarms.totals(),
            Some(shared) => shared.local.totals(),
        }
    }

    /// Counts a store failure, logs it at most once a second, and turns it into the refusal.
    fn degraded(&self, shared: &Shared, e: &SharedError) -> Refusal {
        self.bump(&self.counters.degraded);
        let now = u64::from(self.now()) + 1;
        if shared.logged.swap(now, Ordering::Relaxed) != now {
            tracing::warn!(error = %e, "swarm store failed: answering degraded");
        }
        Refusal::Other(DEGRADED.into())
    }
}
