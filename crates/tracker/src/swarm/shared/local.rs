//! What one instance remembers of the shared swarms: those it served lately and their last
//! known counts. The sweep revisits them a batch at a time (never a scan of Redis's
//! keyspace), and `/stats` sums them — this instance's view; the swarms only other
//! instances serve are theirs to count.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use ids::InfoHash;

use crate::swarm::Totals;

/// Swarms served lately, bounded.
#[derive(Debug)]
pub struct LocalSwarms {
    inner: Mutex<Inner>,
    max: usize,
}

#[derive(Debug, Default)]
struct Inner {
    known: HashMap<InfoHash, Known>,
    /// The sweep's order: every key of `known` once.
    queue: VecDeque<InfoHash>,
    seeders: u64,
    leechers: u64,
}

#[derive(Debug, Clone, Copy)]
struct Known {
    seeders: u32,
    leechers: u32,
    /// Tracker time of the last announce served here.
    seen: u32,
}

impl LocalSwarms {
    /// Remembers at most `max` swarms (one more is not remembered: Redis's key expiry still
    /// frees it, and its counts are missing from this instance's totals).
    pub fn new(max: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            max,
        }
    }

    /// Notes an announce served at `now` and the swarm's counts after it.
    pub fn served(&self, h: InfoHash, seeders: u32, leechers: u32, now: u32) {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let full = inner.known.len() >= self.max;
        match inner.known.get_mut(&h) {
            Some(k) => {
                inner.seeders = inner.seeders - u64::from(k.seeders) + u64::from(seeders);
                inner.leechers = inner.leechers - u64::from(k.leechers) + u64::from(leechers);
                *k = Known {
                    seeders,
                    leechers,
                    seen: now,
                };
            }
            None if !full => {
                inner.known.insert(
                    h,
                    Known {
                        seeders,
                        leechers,
                        seen: now,
                    },
                );
                inner.queue.push_back(h);
                inner.seeders += u64::from(seeders);
                inner.leechers += u64::from(leechers);
            }
            None => {}
        }
    }

    /// Up to `n` swarms for the sweep, oldest-visited first; each is put back by
    /// [`LocalSwarms::swept`].
    pub fn next_batch(&self, n: usize) -> Vec<InfoHash> {
        let mut inner = self.lock();
        let n = n.min(inner.queue.len());
        inner.queue.drain(..n).collect()
    }

    /// The sweep's result for `h` at `now`: its counts, or forgotten when it is empty and
    /// not announced here for `idle` seconds.
    pub fn swept(&self, h: InfoHash, seeders: u32, leechers: u32, now: u32, idle: u32) {
        let mut inner = self.lock();
        let inner = &mut *inner;
        let Some(k) = inner.known.get_mut(&h) else { return };
        inner.seeders = inner.seeders - u64::from(k.seeders) + u64::from(seeders);
        inner.leechers = inner.leechers - u64::from(k.leechers) + u64::from(leechers);
        k.seeders = seeders;
        k.leechers = leechers;
        if seeders == 0 && leechers == 0 && now.saturating_sub(k.seen) >= idle {
            inner.known.remove(&h);
        } else {
            inner.queue.push_back(h);
        }
    }

    /// Puts back a swarm the sweep could not reach (Redis down).
    pub fn retry(&self, h: InfoHash) {
        let mut inner = self.lock();
        if inner.known.contains_key(&h) {
            inner.queue.push_back(h);
        }
    }

    /// Swarms remembered and the sums of their last known counts.
    pub fn totals(&self) -> Totals {
        let inner = self.lock();
        Totals {
            torrents: inner.known.len(),
            seeders: usize::try_from(inner.seeders).unwrap_or(usize::MAX),
            leechers: usize::try_from(inner.leechers).unwrap_or(usize::MAX),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_counts_sweeps_in_turn_and_forgets_idle_empty_swarms() {
        let local = LocalSwarms::new(2);
        local.served(InfoHash([1; 20]), 1, 2, 10);
        local.served(InfoHash([2; 20]), 0, 1, 10);
        local.served(InfoHash([3; 20]), 5, 5, 10); // over the bound: not remembered
        local.served(InfoHash([1; 20]), 2, 2, 11);
        let t = local.totals();
        assert_eq!((t.torrents, t.seeders, t.leechers), (2, 2, 3));
        let batch = local.next_batch(10);
        assert_eq!(batch, vec![InfoHash([1; 20]), InfoHash([2; 20])]);
        assert!(local.next_batch(10).is_empty());
        local.swept(InfoHash([1; 20]), 1, 0, 100, 60);
        local.swept(InfoHash([2; 20]), 0, 0, 100, 60); // empty and idle: forgotten
        let t = local.totals();
        assert_eq!((t.torrents, t.seeders, t.leechers), (1, 1, 0));
        assert_eq!(local.next_batch(10), vec![InfoHash([1; 20])]);
        local.retry(InfoHash([1; 20]));
        assert_eq!(local.next_batch(1), vec![InfoHash([1; 20])]);
    }
}
