//! The sharded store: one `Mutex` per shard, each shard a map from info-hash to swarm.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use ids::InfoHash;
use tracker_proto::common::{AnnounceEvent, ResponsePeer, ScrapeStats};

use super::select::Rng;
use super::torrent::{Admission, Swarm};
use super::{Announce, AnnounceOutcome, SwarmConfig, Totals, Turned};

/// All swarms of the tracker, shared by every server worker (`Send + Sync`).
///
/// Announces for torrents in different shards never wait for each other; each announce and
/// each scrape locks one shard once. [`Swarms::expire`] and [`Swarms::totals`] walk the shards
/// one at a time, so they never stop the whole tracker.
pub struct Swarms {
    shards: Box<[Padded]>,
    peer_timeout_secs: u32,
    /// Retired counts each shard may keep.
    retired_per_shard: usize,
    max_torrents: usize,
    min_credit_interval: u32,
    /// Swarms held now, over all shards (checked against `max_torrents` without a scan).
    torrents: AtomicUsize,
    per_ip: PeersPerIp,
}

/// A shard on its own cache lines, so that workers locking neighbouring shards don't fight
/// over one line (128 bytes: x86 prefetches lines in pairs).
#[repr(align(128))]
struct Padded(Mutex<Shard>);

/// What one lock guards.
struct Shard {
    swarms: HashMap<InfoHash, Swarm>,
    /// Drives peer sampling; per shard so that it needs no lock of its own.
    rng: Rng,
    /// Keys the address index of every swarm in this shard (one key per shard: a swarm
    /// does not pay 16 bytes for its own).
    peer_hasher: RandomState,
    /// Sum of the swarms' seeders, kept up to date so that totals need no scan.
    seeders: usize,
    /// Sum of the swarms' leechers.
    leechers: usize,
    /// The `downloaded` counts of swarms that emptied, taken back when a swarm for the same
    /// torrent starts again; insertion order kept so that the oldest go first when full.
    retired: Retired,
}

/// Completed counts of freed swarms, bounded; the oldest entry is evicted first.
#[derive(Default)]
struct Retired {
    counts: HashMap<InfoHash, u32>,
    order: std::collections::VecDeque<InfoHash>,
}

impl Retired {
    fn keep(&mut self, h: InfoHash, n: u32, limit: usize) {
        if n == 0 || limit == 0 {
            return;
        }
        if self.counts.insert(h, n).is_none() {
            self.order.push_back(h);
        }
        // `order` may hold hashes taken back since; skip those while evicting.
        while self.counts.len() > limit {
            match self.order.pop_front() {
                Some(old) => {
                    self.counts.remove(&old);
                }
                None => break,
            }
        }
        if self.order.len() > 2 * limit.max(self.counts.len()) {
            let counts = &self.counts;
            self.order.retain(|h| counts.contains_key(h));
        }
    }

    fn take(&mut self, h: &InfoHash) -> u32 {
        // Most trackers never retire a count; skip hashing the key then.
        if self.counts.is_empty() {
            return 0;
        }
        self.counts.remove(h).unwrap_or(0)
    }

    fn get(&self, h: &InfoHash) -> u32 {
        self.counts.get(h).copied().unwrap_or(0)
    }
}

impl Swarms {
    /// An empty store laid out as `config` says.
    pub fn new(config: SwarmConfig) -> Self {
        let shards = (0..config.shards.max(1))
            .map(|i| {
                Padded(Mutex::new(Shard {
                    swarms: HashMap::new(),
                    rng: Rng::from_entropy(i as u64),
                    peer_hasher: RandomState::new(),
                    seeders: 0,
                    leechers: 0,
                    retired: Retired::default(),
                }))
            })
            .collect();
        let n = config.shards.max(1);
        Self {
            shards,
            peer_timeout_secs: config.peer_timeout_secs,
            retired_per_shard: config.retired_counts.div_ceil(n),
            max_torrents: config.max_torrents,
            min_credit_interval: config.min_credit_interval,
            torrents: AtomicUsize::new(0),
            per_ip: PeersPerIp::new(config.max_peers_per_ip, n),
        }
    }

    /// Records the announce `a`, made at `now` (seconds since tracker start), and appends up
    /// to `a.numwant` *other* peers of the swarm to `out` (which the caller clears and reuses).
    ///
    /// A seeder gets only leechers; a `Stopped` peer is removed and gets no peers. The counts
    /// returned are the swarm's after the announce. `a.addr` is the address the request came
    /// from; see [`Swarms::announce_named`] for one the client only named.
    pub fn announce(&self, a: &Announce, now: u32, out: &mut Vec<ResponsePeer>) -> AnnounceOutcome {
        self.announce_at(a, now, false, out)
    }

    /// Like [`Swarms::announce`], for an address the client named (`ip=`, BEP 7's `ipv4=` and
    /// `ipv6=`) rather than proved by connecting from it: it may add a record or change its
    /// own (same peer id), but a record of another peer id is left alone and the announce is
    /// [`Turned::AddressTaken`].
    pub fn announce_named(&self, a: &Announce, now: u32, out: &mut Vec<ResponsePeer>) -> AnnounceOutcome {
        self.announce_at(a, now, true, out)
    }

    fn announce_at(
        &self,
        a: &Announce,
        now: u32,
        named: bool,
        out: &mut Vec<ResponsePeer>,
    ) -> AnnounceOutcome {
        let mut guard = self.lock(&a.info_hash);
        let shard = &mut *guard;
        let swarm = match shard.swarms.entry(a.info_hash) {
            Entry::Occupied(e) => e.into_mut(),
            // A stop for a torrent we don't know must not create a swarm.
            Entry::Vacant(_) if a.event == AnnounceEvent::Stopped => return AnnounceOutcome::default(),
            Entry::Vacant(e) => {
                if self.torrents.load(Ordering::Relaxed) >= self.max_torrents {
                    return AnnounceOutcome {
                        turned: Some(Turned::TooManyTorrents),
                        ..AnnounceOutcome::default()
                    };
                }
                self.torrents.fetch_add(1, Ordering::Relaxed);
                let mut swarm = Swarm::new();
                swarm.set_downloaded(shard.retired.take(&a.info_hash));
                e.insert(swarm)
            }
        };
        let (seeders, leechers) = (swarm.seeders(), swarm.leechers());
        let ip = a.addr.ip();
        let rules = Admission {
            named,
            admit_new: &|| self.per_ip.add(ip),
            min_credit_interval: self.min_credit_interval,
        };
        let outcome = swarm.announce(a, now, rules, (&mut shard.rng, &shard.peer_hasher), out);
        if swarm.seeders() + swarm.leechers() < seeders + leechers {
            self.per_ip.remove(ip);
        }
        // The swarm's counts are part of the shard's sums, so this never underflows.
        shard.seeders = shard.seeders + swarm.seeders() - seeders;
        shard.leechers = shard.leechers + swarm.leechers() - leechers;
        if swarm.is_empty() {
            let n = swarm.downloaded();
            shard.swarms.remove(&a.info_hash);
            self.torrents.fetch_sub(1, Ordering::Relaxed);
            shard.retired.keep(a.info_hash, n, self.retired_per_shard);
        }
        outcome
    }

    /// The counts of one torrent (BEP 48); zeros for a torrent nobody announced.
    pub fn scrape(&self, info_hash: &InfoHash) -> ScrapeStats {
        let guard = self.lock(info_hash);
        match guard.swarms.get(info_hash) {
            Some(swarm) => swarm.stats(),
            None => ScrapeStats {
                downloaded: guard.retired.get(info_hash),
                ..ScrapeStats::default()
            },
        }
    }

    /// Drops the peers not seen for [`SwarmConfig::peer_timeout_secs`] at `now` and frees
    /// the swarms left empty; returns how many peers were dropped.
    ///
    /// Walks the shards one at a time, holding each lock for one pass over its swarms.
    pub fn expire(&self, now: u32) -> usize {
        let mut total = 0;
        for padded in &self.shards {
            let mut guard = lock(padded);
            let shard = &mut *guard;
            let (mut seeders, mut leechers) = (0, 0);
            let (retired, hasher) = (&mut shard.retired, &shard.peer_hasher);
            let mut freed = 0;
            let per_ip = &self.per_ip;
            shard.swarms.retain(|h, swarm| {
                let dropped = swarm.expire(now, self.peer_timeout_secs, hasher, &mut |addr| {
                    per_ip.remove(addr.ip())
                });
                seeders += dropped.seeders;
                leechers += dropped.leechers;
                if swarm.is_empty() {
                    retired.keep(*h, swarm.downloaded(), self.retired_per_shard);
                    freed += 1;
                }
                !swarm.is_empty()
            });
            self.torrents.fetch_sub(freed, Ordering::Relaxed);
            shard.seeders -= seeders;
            shard.leechers -= leechers;
            total += seeders + leechers;
        }
        total
    }

    /// Torrents, seeders and leechers in the whole store, summed shard by shard.
    pub fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        for padded in &self.shards {
            let shard = lock(padded);
            totals.torrents += shard.swarms.len();
            totals.seeders += shard.seeders;
            totals.leechers += shard.leechers;
        }
        totals
    }

    /// Locks the shard of `info_hash`, chosen by its first four bytes (info-hashes are
    /// uniformly random, and the shard maps rehash the full hash anyway).
    fn lock(&self, info_hash: &InfoHash) -> MutexGuard<'_, Shard> {
        let [a, b, c, d, ..] = info_hash.0;
        let n = u32::from_le_bytes([a, b, c, d]) as usize;
        lock(&self.shards[n % self.shards.len()])
    }
}

/// Peer records per address (IPv6: per /64) over all swarms, in shards of their own (taken
/// after a swarm shard's lock, never before, and only when a record is added or removed).
struct PeersPerIp {
    max: usize,
    hasher: RandomState,
    shards: Box<[Mutex<HashMap<IpAddr, u32>>]>,
}

impl PeersPerIp {
    fn new(max: usize, shards: usize) -> Self {
        Self {
            max,
            hasher: RandomState::new(),
            shards: (0..shards).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    fn shard(&self, group: IpAddr) -> MutexGuard<'_, HashMap<IpAddr, u32>> {
        let i = self.hasher.hash_one(group) as usize % self.shards.len();
        self.shards[i].lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts one more record for `ip`, unless its group has its share already.
    fn add(&self, ip: IpAddr) -> bool {
        if self.max == 0 {
            return true;
        }
        let group = http_server::ip_group(ip).addr();
        let mut shard = self.shard(group);
        let n = shard.entry(group).or_insert(0);
        if *n as usize >= self.max {
            return false;
        }
        *n += 1;
        true
    }

    fn remove(&self, ip: IpAddr) {
        if self.max == 0 {
            return;
        }
        let group = http_server::ip_group(ip).addr();
        let mut shard = self.shard(group);
        if let Some(n) = shard.get_mut(&group) {
            *n -= 1;
            if *n == 0 {
                shard.remove(&group);
            }
        }
    }
}

/// Locks a shard, recovering it if a thread panicked while holding it: every update keeps
/// the shard consistent between its steps that can panic (none do), and one bad request
/// must not take every later announce of the shard down with it.
fn lock(padded: &Padded) -> MutexGuard<'_, Shard> {
    padded.0.lock().unwrap_or_else(PoisonError::into_inner)
}

impl fmt::Debug for Swarms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Swarms")
            .field("shards", &self.shards.len())
            .field("peer_timeout_secs", &self.peer_timeout_secs)
            .finish_non_exhaustive()
    }
}
