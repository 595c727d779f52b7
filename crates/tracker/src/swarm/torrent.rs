//! One torrent's swarm: its peers in two lists (leechers, seeders) with an address index.
//!
//! Most swarms are small, so the index is only built past [`INDEX_ABOVE`] peers (and dropped
//! again below [`UNINDEX_BELOW`]): under it a lookup scans the records, which an announce reads
//! anyway to build its reply, and saves the index's hashing, its cache misses and its memory.

use std::collections::HashMap;
use std::hash::RandomState;

use tracker_proto::common::{AnnounceEvent, ResponsePeer, ScrapeStats, Transfer};

use super::peer::{PeerAddr, PeerRecord, Slot};
use super::select::{Rng, sample};
use super::{Announce, AnnounceOutcome};

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
    /// SipHash keyed per shard, since ports are chosen by peers.
    index: HashMap<PeerAddr, Slot, RandomState>,
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

impl Swarm {
    /// An empty swarm whose index uses `hasher` (shared by the swarms of one shard).
    pub(crate) fn new(hasher: RandomState) -> Self {
        Self {
            leechers: Vec::new(),
            seeders: Vec::new(),
            index: HashMap::with_hasher(hasher),
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
    fn find(&self, addr: &PeerAddr) -> Option<Slot> {
        if !self.index.is_empty() {
            return self.index.get(addr).copied();
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
        rng: &mut Rng,
        out: &mut Vec<ResponsePeer>,
    ) -> AnnounceOutcome {
        let addr = PeerAddr::new(a.addr);
        let found = self.find(&addr);
        if a.event == AnnounceEvent::Stopped {
            let old = found.map(|slot| self.remove(slot));
            let previous = old.filter(|o| o.peer_id == a.peer_id).map(|o| o.transfer);
            return self.outcome(previous);
        }
        let (slot, previous) = match found {
            Some(slot) => self.update(slot, a, now),
            None => (self.add(addr, a, now), None),
        };
        if slot.is_seeder() {
            // Seeders don't need seeders; the announcer is not among the leechers.
            sample([&self.leechers, &[]], None, a.numwant, rng, out);
        } else {
            // Leechers come first in the combined list, so the announcer's index is its own.
            let parts = [&self.leechers[..], &self.seeders[..]];
            sample(parts, Some(slot.index()), a.numwant, rng, out);
        }
        self.outcome(previous)
    }

    /// Applies `a` to the known peer at `slot`; returns where it is now (it moves when it
    /// becomes a seeder or a leecher again) and its previous counters if it is the same client.
    fn update(&mut self, slot: Slot, a: &Announce, now: u32) -> (Slot, Option<Transfer>) {
        let was_seeder = slot.is_seeder();
        let rec = self.record_mut(slot);
        // A restarted client (new peer id) keeps the flag: same address, same download.
        let completes = a.event == AnnounceEvent::Completed && !was_seeder && !rec.completed;
        rec.completed |= completes;
        let previous = (rec.peer_id == a.peer_id).then_some(rec.transfer);
        rec.peer_id = a.peer_id;
        rec.transfer = a.transfer;
        rec.last_seen = now;
        let moves = rec.is_seeder() != was_seeder;
        if completes {
            self.downloaded = self.downloaded.saturating_add(1);
        }
        if moves {
            let rec = self.remove(slot);
            (self.insert(rec), previous)
        } else {
            (slot, previous)
        }
    }

    /// Adds a peer not seen before; a `Completed` from it counts (it finished while the
    /// tracker was down, or after its record expired).
    fn add(&mut self, addr: PeerAddr, a: &Announce, now: u32) -> Slot {
        let completed = a.event == AnnounceEvent::Completed;
        if completed {
            self.downloaded = self.downloaded.saturating_add(1);
        }
        self.insert(PeerRecord {
            transfer: a.transfer,
            last_seen: now,
            addr,
            peer_id: a.peer_id,
            completed,
        })
    }

    /// Drops the peers whose last announce is `timeout` seconds or more before `now`.
    pub(crate) fn expire(&mut self, now: u32, timeout: u32) -> Dropped {
        let mut dropped = Dropped::default();
        for seeder in [false, true] {
            let mut i = 0;
            while i < self.list(seeder).len() {
                let rec = &self.list(seeder)[i];
                if now.saturating_sub(rec.last_seen) >= timeout {
                    // The last record moves into `i`, so `i` is looked at again.
                    self.remove(Slot::new(seeder, i));
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

    fn outcome(&self, previous: Option<Transfer>) -> AnnounceOutcome {
        AnnounceOutcome {
            complete: saturate(self.seeders.len()),
            incomplete: saturate(self.leechers.len()),
            previous,
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

    /// Adds `rec` (whose address is not in the swarm) to the list its `left` calls for.
    fn insert(&mut self, rec: PeerRecord) -> Slot {
        let list = self.list_mut(rec.is_seeder());
        let slot = Slot::new(rec.is_seeder(), list.len());
        list.push(rec);
        if !self.index.is_empty() {
            self.index.insert(rec.addr, slot);
        } else if self.len() > INDEX_ABOVE {
            let leechers = self
                .leechers
                .iter()
                .enumerate()
                .map(|(i, r)| (r.addr, Slot::new(false, i)));
            let seeders = self
                .seeders
                .iter()
                .enumerate()
                .map(|(i, r)| (r.addr, Slot::new(true, i)));
            self.index.extend(leechers.chain(seeders));
        }
        slot
    }

    /// Takes the record at `slot` out by `swap_remove`, re-pointing the record moved into it.
    fn remove(&mut self, slot: Slot) -> PeerRecord {
        let list = self.list_mut(slot.is_seeder());
        let rec = list.swap_remove(slot.index());
        let moved = list.get(slot.index()).map(|m| m.addr);
        if self.index.is_empty() {
            return rec;
        }
        if self.len() < UNINDEX_BELOW {
            self.index.clear();
            self.index.shrink_to_fit();
        } else {
            self.index.remove(&rec.addr);
            if let Some(moved) = moved {
                self.index.insert(moved, slot);
            }
        }
        rec
    }
}

/// A count as the u32 of the wire formats.
fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
