//! One torrent's swarm: its peers in two lists (leechers, seeders) with an address index.
//!
//! Most swarms are small, so the index is only built past [`INDEX_ABOVE`] peers (and dropped
//! again below [`UNINDEX_BELOW`]): under it a lookup scans the records, which an announce reads
//! anyway to build its reply, and saves the index's hashing, its cache misses and its memory.
//! The index holds only 4-byte slots; the key (the address) is read from the record the slot
//! points at, so a big swarm's index costs about 5 bytes per peer instead of 28.

use std::hash::{BuildHasher, RandomState};
use std::net::SocketAddr;

use hashbrown::HashTable;
use tracker_proto::common::{AnnounceEvent, ResponsePeer, ScrapeStats};

use super::peer::{PeerAddr, PeerRecord, Slot};
use super::select::{Rng, sample};
use super::{Announce, AnnounceOutcome, Traffic, Turned};

/// What the store decides for one announce besides the swarm's own rules.
pub(crate) struct Admission<'a> {
    /// The address was named by the client, not proven by the connection.
    pub(crate) named: bool,
    /// Asked before a new record is added; `false` refuses the announce.
    pub(crate) admit_new: &'a dyn Fn() -> bool,
    /// See [`super::SwarmConfig::min_credit_interval`].
    pub(crate) min_credit_interval: u32,
}

/// The peers of one torrent and its completion count.
///
/// Keeping seeders and leechers in separate vectors makes the counts free (the lengths) and
/// lets a seeder's reply sample the leechers in O(numwant) however many seeders there are.
#[derive(Debug)]
pub(crate) struct Swarm {
    /// Peers with something left to download.
    leechers: Vec<PeerRecord>,
    /// Peers with nothing left.
    seeders: Vec<PeerRecord>,
    /// Where each peer's record is, when the swarm is big enough to need it (empty otherwise);
    /// hashed with the shard's keyed SipHash, since ports are chosen by peers.
    index: HashTable<Slot>,
    /// `completed` events counted (BEP 48 `downloaded`).
    downloaded: u32,
}

/// A swarm with more peers than this finds them through its index.
const INDEX_ABOVE: usize = 16;

/// A swarm with fewer peers than this drops its index (the gap avoids rebuilding it back and
/// forth around one size).
const UNINDEX_BELOW: usize = 8;

/// Peers removed by [`Swarm::expire`], by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Dropped {
    /// Seeders dropped.
    pub(crate) seeders: usize,
    /// Leechers dropped.
    pub(crate) leechers: usize,
}

/// The record at `slot` of the two lists.
fn record<'a>(leechers: &'a [PeerRecord], seeders: &'a [PeerRecord], slot: Slot) -> &'a PeerRecord {
    let list = if slot.is_seeder() { seeders } else { leechers };
    &list[slot.index()]
}

/// Pushes `rec`, growing the list by half its length at most (at least one): most swarms hold
/// one or two peers, and `Vec`'s own growth would give each list room for four.
fn push_tight(list: &mut Vec<PeerRecord>, rec: PeerRecord) {
    if list.len() == list.capacity() {
        list.reserve_exact((list.len() / 2).max(1));
    }
    list.push(rec);
}

impl Swarm {
    /// An empty swarm.
    pub(crate) fn new() -> Self {
        Self {
            leechers: Vec::new(),
            seeders: Vec::new(),
            index: HashTable::new(),
            downloaded: 0,
        }
    }

    /// No peers left (the store then frees the swarm).
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The swarm finds its peers through the index (for tests of the switch-over).
    #[cfg(test)]
    pub(crate) fn is_indexed(&self) -> bool {
        !self.index.is_empty()
    }

    fn len(&self) -> usize {
        self.leechers.len() + self.seeders.len()
    }

    /// Where the peer at `addr` is, if it is in the swarm.
    fn find(&self, addr: &PeerAddr, hasher: &RandomState) -> Option<Slot> {
        if !self.index.is_empty() {
            let (leechers, seeders) = (&self.leechers, &self.seeders);
            let eq = |s: &Slot| record(leechers, seeders, *s).addr == *addr;
            return self.index.find(hasher.hash_one(addr), eq).copied();
        }
        let at = |list: &[PeerRecord]| list.iter().position(|r| r.addr == *addr);
        at(&self.leechers)
            .map(|i| Slot::new(false, i))
            .or_else(|| at(&self.seeders).map(|i| Slot::new(true, i)))
    }

    /// Number of seeders.
    pub(crate) fn seeders(&self) -> usize {
        self.seeders.len()
    }

    /// Number of leechers.
    pub(crate) fn leechers(&self) -> usize {
        self.leechers.len()
    }

    /// `completed` events counted so far.
    pub(crate) fn downloaded(&self) -> u32 {
        self.downloaded
    }

    /// Carries on the count of a swarm that emptied earlier (see the store's retired counts).
    pub(crate) fn set_downloaded(&mut self, n: u32) {
        self.downloaded = n;
    }

    /// The counts a scrape reports.
    pub(crate) fn stats(&self) -> ScrapeStats {
        ScrapeStats {
            complete: saturate(self.seeders.len()),
            downloaded: self.downloaded,
            incomplete: saturate(self.leechers.len()),
        }
    }

    /// Records `a` and appends up to `a.numwant` other peers to `out` (none for `Stopped`).
    pub(crate) fn announce(
        &mut self,
        a: &Announce,
        now: u32,
        rules: Admission<'_>,
        (rng, hasher): (&mut Rng, &RandomState),
        out: &mut Vec<ResponsePeer>,
    ) -> AnnounceOutcome {
        let addr = PeerAddr::new(a.addr);
        let found = self.find(&addr, hasher);
        if rules.named {
            // An address the client only named is not proof of owning it: it may add a record
            // there, or change its own, but never touch another peer's.
            if found.is_some_and(|slot| record(&self.leechers, &self.seeders, slot).peer_id != a.peer_id) {
                return self.turned(Turned::AddressTaken);
            }
        }
        if a.event == AnnounceEvent::Stopped {
            let old = found.map(|slot| self.remove(slot, hasher));
            let same = old.filter(|o| o.peer_id == a.peer_id);
            let elapsed = same.map_or(0, |o| now.saturating_sub(o.traffic_at));
            return self.outcome(same.map(|o| o.traffic), elapsed, false);
        }
        let (slot, previous, elapsed, early) = match found {
            Some(slot) => self.update(slot, a, now, rules.min_credit_interval, hasher),
            None if !(rules.admit_new)() => return self.turned(Turned::TooManyPeersFromAddress),
            None => (self.add(addr, a, now, hasher), None, 0, false),
        };
        if slot.is_seeder() {
            // Seeders don't need seeders; the announcer is not among the leechers.
            sample([&self.leechers, &[]], None, a.numwant, rng, out);
        } else {
            // Leechers come first in the combined list, so the announcer's index is its own.
            let parts = [&self.leechers[..], &self.seeders[..]];
            sample(parts, Some(slot.index()), a.numwant, rng, out);
        }
        self.outcome(previous, elapsed, early)
    }

    /// Applies `a` to the known peer at `slot`; returns where it is now (it moves when it
    /// becomes a seeder or a leecher again), its previous counters if it is the same client,
    /// the seconds since they were taken, and whether the announce was too early to credit.
    fn update(
        &mut self,
        slot: Slot,
        a: &Announce,
        now: u32,
        min_credit_interval: u32,
        hasher: &RandomState,
    ) -> (Slot, Option<Traffic>, u32, bool) {
        let was_seeder = slot.is_seeder();
        let rec = self.record_mut(slot);
        // A restarted client (new peer id) keeps the flag: same address, same download.
        let completes = a.event == AnnounceEvent::Completed && !was_seeder && !rec.completed;
        rec.completed |= completes;
        let same = rec.peer_id == a.peer_id;
        let elapsed = if same {
            now.saturating_sub(rec.traffic_at)
        } else {
            0
        };
        // Events (completed, stopped) always count; regular announces only at the pace the
        // tracker asked for, so that announcing every second gains nothing.
        let early = same && a.event == AnnounceEvent::None && elapsed < min_credit_interval;
        let previous = same.then_some(rec.traffic);
        rec.peer_id = a.peer_id;
        if !early {
            rec.traffic = a.transfer.into();
            rec.traffic_at = now;
        }
        rec.last_seen = now;
        if completes {
            self.downloaded = self.downloaded.saturating_add(1);
        }
        let seeder = a.transfer.left == 0;
        if seeder != was_seeder {
            let rec = self.remove(slot, hasher);
            (self.insert(rec, seeder, hasher), previous, elapsed, early)
        } else {
            (slot, previous, elapsed, early)
        }
    }

    /// Adds a peer not seen before; a `Completed` from it counts (it finished while the
    /// tracker was down, or after its record expired).
    fn add(&mut self, addr: PeerAddr, a: &Announce, now: u32, hasher: &RandomState) -> Slot {
        let completed = a.event == AnnounceEvent::Completed;
        if completed {
            self.downloaded = self.downloaded.saturating_add(1);
        }
        let rec = PeerRecord {
            traffic: a.transfer.into(),
            last_seen: now,
            traffic_at: now,
            addr,
            peer_id: a.peer_id,
            completed,
        };
        self.insert(rec, a.transfer.left == 0, hasher)
    }

    /// Drops the peers whose last announce is `timeout` seconds or more before `now`.
    pub(crate) fn expire(
        &mut self,
        now: u32,
        timeout: u32,
        hasher: &RandomState,
        on_drop: &mut dyn FnMut(SocketAddr),
    ) -> Dropped {
        let mut dropped = Dropped::default();
        for seeder in [false, true] {
            let mut i = 0;
            while i < self.list(seeder).len() {
                let rec = &self.list(seeder)[i];
                if now.saturating_sub(rec.last_seen) >= timeout {
                    // The last record moves into `i`, so `i` is looked at again.
                    let gone = self.remove(Slot::new(seeder, i), hasher);
                    on_drop(gone.addr.get());
                    if seeder {
                        dropped.seeders += 1;
                    } else {
                        dropped.leechers += 1;
                    }
                } else {
                    i += 1;
                }
            }
            // Give back what a swarm that was once much bigger still holds (only here, off
            // the announce path: halving on every stop would reallocate back and forth).
            let list = self.list_mut(seeder);
            if list.capacity() > 16 && list.capacity() >= 4 * list.len() {
                list.shrink_to(2 * list.len());
            }
        }
        dropped
    }

    fn outcome(&self, previous: Option<Traffic>, elapsed: u32, early: bool) -> AnnounceOutcome {
        AnnounceOutcome {
            complete: saturate(self.seeders.len()),
            incomplete: saturate(self.leechers.len()),
            previous,
            elapsed,
            early,
            turned: None,
        }
    }

    fn turned(&self, why: Turned) -> AnnounceOutcome {
        AnnounceOutcome {
            turned: Some(why),
            ..self.outcome(None, 0, false)
        }
    }

    fn list(&self, seeder: bool) -> &Vec<PeerRecord> {
        if seeder { &self.seeders } else { &self.leechers }
    }

    fn list_mut(&mut self, seeder: bool) -> &mut Vec<PeerRecord> {
        if seeder {
            &mut self.seeders
        } else {
            &mut self.leechers
        }
    }

    fn record_mut(&mut self, slot: Slot) -> &mut PeerRecord {
        let list = self.list_mut(slot.is_seeder());
        &mut list[slot.index()]
    }

    /// Adds `rec` (whose address is not in the swarm) to the seeder or the leecher list.
    fn insert(&mut self, rec: PeerRecord, seeder: bool, hasher: &RandomState) -> Slot {
        let list = self.list_mut(seeder);
        let slot = Slot::new(seeder, list.len());
        push_tight(list, rec);
        let (leechers, seeders, index) = (&self.leechers, &self.seeders, &mut self.index);
        let rehash = |s: &Slot| hasher.hash_one(record(leechers, seeders, *s).addr);
        if !index.is_empty() {
            index.insert_unique(hasher.hash_one(rec.addr), slot, rehash);
        } else if leechers.len() + seeders.len() > INDEX_ABOVE {
            let all = (0..leechers.len())
                .map(|i| Slot::new(false, i))
                .chain((0..seeders.len()).map(|i| Slot::new(true, i)));
            index.reserve(leechers.len() + seeders.len(), rehash);
            for s in all {
                index.insert_unique(rehash(&s), s, rehash);
            }
        }
        slot
    }

    /// Takes the record at `slot` out by `swap_remove`, re-pointing the record moved into it.
    fn remove(&mut self, slot: Slot, hasher: &RandomState) -> PeerRecord {
        let indexed = !self.index.is_empty();
        if indexed {
            // Unhook the leaving record and the last one of its list (which moves into its
            // place) while both are still where their slots say.
            let list = if slot.is_seeder() {
                &self.seeders
            } else {
                &self.leechers
            };
            let last = Slot::new(slot.is_seeder(), list.len() - 1);
            for s in [slot, last] {
                let addr = list[s.index()].addr;
                if let Ok(entry) = self.index.find_entry(hasher.hash_one(addr), |x| *x == s) {
                    entry.remove();
                }
            }
        }
        let list = self.list_mut(slot.is_seeder());
        let rec = list.swap_remove(slot.index());
        let moved = list.get(slot.index()).map(|m| m.addr);
        if !indexed {
            return rec;
        }
        if self.len() < UNINDEX_BELOW {
            self.index = HashTable::new();
        } else if let Some(moved) = moved {
            let (leechers, seeders) = (&self.leechers, &self.seeders);
            let rehash = |s: &Slot| hasher.hash_one(record(leechers, seeders, *s).addr);
            self.index.insert_unique(hasher.hash_one(moved), slot, rehash);
        }
        rec
    }
}

/// A count as the u32 of the wire formats.
fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
