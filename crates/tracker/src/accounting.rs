//! Upload/download accounting for private trackers (the Ocelot model): each announce's
//! absolute counters become deltas against the peer's previous announce, deltas are summed in
//! memory per (user, torrent), and the site drains the sums into its database in one
//! transaction every few seconds. The tracker never talks to the database itself.

use std::collections::HashMap;
use std::sync::Mutex;

use ids::InfoHash;
use tracker_proto::common::{AnnounceEvent, Transfer};

use crate::access::UserId;
use crate::swarm::Traffic;

/// What one announce adds to a user's totals on one torrent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delta {
    /// Bytes uploaded since the previous announce of the same peer.
    pub uploaded: u64,
    /// Bytes downloaded since the previous announce of the same peer.
    pub downloaded: u64,
    /// True when a jump was larger than the cap and was cut down to it (worth a log line).
    pub capped: bool,
}

/// Computes the delta between a peer's previous and current counters.
///
/// A counter that went backwards means the client restarted its session: the new value is
/// all new traffic, never a negative delta. A delta above `cap` bytes (an absurd jump, a
/// cheat or a bug) is cut to `cap`.
///
/// A peer the swarm does not know (`previous` is `None`) counts from zero only when it says
/// `started`, the first announce of a session. Any other event from an unknown peer takes
/// its counters as the baseline and credits nothing: that is a session already counted —
/// the second `stopped` of a client announcing to several of our URLs, or the first announce
/// after a tracker restart (Ocelot's rule). At most one interval of traffic is lost that way;
/// counting it twice would be worse.
pub fn delta(previous: Option<Traffic>, current: Transfer, event: AnnounceEvent, cap: u64) -> Delta {
    if previous.is_none() && event != AnnounceEvent::Started {
        return Delta::default();
    }
    let step = |prev: Option<u64>, now: u64| match prev {
        Some(p) if now >= p => now - p,
        _ => now,
    };
    let up = step(previous.map(|p| p.uploaded), current.uploaded);
    let down = step(previous.map(|p| p.downloaded), current.downloaded);
    Delta {
        uploaded: up.min(cap),
        downloaded: down.min(cap),
        capped: up > cap || down > cap,
    }
}

/// Summed traffic of one user on one torrent since the last drain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    /// Bytes uploaded.
    pub uploaded: u64,
    /// Bytes downloaded.
    pub downloaded: u64,
    /// `completed` events (snatches).
    pub completions: u32,
    /// Announces folded in.
    pub announces: u32,
    /// Bytes left at the latest announce (0 = the user is seeding this torrent).
    pub left: u64,
    /// The latest announce was a `stopped`: the user left the swarm.
    pub stopped: bool,
}

impl Sums {
    /// Folds `later` (what arrived after `self`) into `self`: counts add up, the peer state
    /// (`left`, `stopped`) is the later one's.
    fn merge(&mut self, later: &Sums) {
        self.uploaded = self.uploaded.saturating_add(later.uploaded);
        self.downloaded = self.downloaded.saturating_add(later.downloaded);
        self.completions = self.completions.saturating_add(later.completions);
        self.announces = self.announces.saturating_add(later.announces);
        self.left = later.left;
        self.stopped = later.stopped;
    }
}

/// What one announce says of the peer besides its traffic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeerReport {
    /// Its event (`completed` counts a snatch, `stopped` ends its presence).
    pub event: AnnounceEvent,
    /// Bytes it still lacks.
    pub left: u64,
}

pub use crate::error::QueueFull;

/// In-memory sums per (user, torrent), bounded by a number of distinct entries.
#[derive(Debug)]
pub struct Accumulator {
    limit: usize,
    sums: Mutex<HashMap<(UserId, InfoHash), Sums>>,
}

impl Accumulator {
    /// An accumulator holding at most `limit` distinct (user, torrent) entries between drains.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            sums: Mutex::new(HashMap::new()),
        }
    }

    /// Adds one announce's delta and what it said of the peer.
    pub fn add(
        &self,
        user: UserId,
        torrent: InfoHash,
        d: Delta,
        report: PeerReport,
    ) -> Result<(), QueueFull> {
        let mut sums = self.sums.lock().unwrap_or_else(|e| e.into_inner());
        let len = sums.len();
        let key = (user, torrent);
        if len >= self.limit && !sums.contains_key(&key) {
            return Err(QueueFull(len));
        }
        sums.entry(key).or_default().merge(&Sums {
            uploaded: d.uploaded,
            downloaded: d.downloaded,
            completions: u32::from(report.event == AnnounceEvent::Completed),
            announces: 1,
            left: report.left,
            stopped: report.event == AnnounceEvent::Stopped,
        });
        Ok(())
    }

    /// Whether an add for this (user, torrent) would be accepted now; checked before an
    /// announce changes the swarm, so a refused announce loses no traffic.
    pub fn has_room(&self, user: UserId, torrent: InfoHash) -> bool {
        let sums = self.sums.lock().unwrap_or_else(|e| e.into_inner());
        sums.len() < self.limit || sums.contains_key(&(user, torrent))
    }

    /// Takes everything summed so far, leaving the accumulator empty. If writing the batch
    /// fails, hand it back with [`restore`](Self::restore) so nothing is lost.
    pub fn drain(&self) -> Vec<((UserId, InfoHash), Sums)> {
        let mut sums = self.sums.lock().unwrap_or_else(|e| e.into_inner());
        sums.drain().collect()
    }

    /// Puts a batch that could not be written back (merging with what arrived since, which
    /// keeps its newer peer state).
    pub fn restore(&self, batch: Vec<((UserId, InfoHash), Sums)>) {
        let mut sums = self.sums.lock().unwrap_or_else(|e| e.into_inner());
        for (key, mut older) in batch {
            if let Some(newer) = sums.get(&key) {
                older.merge(newer);
            }
            sums.insert(key, older);
        }
    }

    /// Entries waiting (for metrics).
    pub fn len(&self) -> usize {
        self.sums.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// True when nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(uploaded: u64, downloaded: u64) -> Transfer {
        Transfer {
            uploaded,
            downloaded,
            left: 0,
        }
    }

    fn tr(uploaded: u64, downloaded: u64) -> Traffic {
        t(uploaded, downloaded).into()
    }

    #[test]
    fn deltas_from_absolute_counters() {
        assert_eq!(
            delta(None, t(100, 50), AnnounceEvent::Started, u64::MAX),
            Delta {
                uploaded: 100,
                downloaded: 50,
                capped: false
            }
        );
        assert_eq!(
            delta(Some(tr(100, 50)), t(150, 80), AnnounceEvent::None, u64::MAX),
            Delta {
                uploaded: 50,
                downloaded: 30,
                capped: false
            }
        );
        // A restart (counters went backwards) starts a new session: no negative delta.
        assert_eq!(
            delta(Some(tr(1000, 500)), t(10, 5), AnnounceEvent::None, u64::MAX),
            Delta {
                uploaded: 10,
                downloaded: 5,
                capped: false
            }
        );
        // An unknown peer that is not starting a session was counted already.
        for event in [
            AnnounceEvent::None,
            AnnounceEvent::Stopped,
            AnnounceEvent::Completed,
        ] {
            assert_eq!(delta(None, t(100, 50), event, u64::MAX), Delta::default());
        }
        // An absurd jump is capped.
        let d = delta(Some(tr(0, 0)), t(10 << 40, 3), AnnounceEvent::Completed, 1 << 30);
        assert_eq!((d.uploaded, d.downloaded, d.capped), (1 << 30, 3, true));
    }

    #[test]
    fn sums_drain_and_restore() {
        let acc = Accumulator::new(2);
        let (u, h) = (UserId(7), InfoHash([1; 20]));
        let d = Delta {
            uploaded: 10,
            downloaded: 20,
            capped: false,
        };
        let plain = PeerReport {
            event: AnnounceEvent::None,
            left: 5,
        };
        let done = PeerReport {
            event: AnnounceEvent::Completed,
            left: 0,
        };
        acc.add(u, h, d, plain).unwrap();
        acc.add(u, h, d, done).unwrap();
        acc.add(UserId(8), h, d, plain).unwrap();
        assert_eq!(acc.add(UserId(9), h, d, plain), Err(QueueFull(2)));
        acc.add(u, h, d, done).unwrap(); // existing entries still accepted when full
        let batch = acc.drain();
        assert!(acc.is_empty());
        let mine = batch.iter().find(|(k, _)| *k == (u, h)).unwrap().1;
        assert_eq!(
            mine,
            Sums {
                uploaded: 30,
                downloaded: 60,
                completions: 2,
                announces: 3,
                left: 0,
                stopped: false,
            }
        );
        let stop = PeerReport {
            event: AnnounceEvent::Stopped,
            left: 0,
        };
        acc.add(u, h, d, stop).unwrap();
        acc.restore(batch);
        let again = acc.drain();
        let mine = again.iter().find(|(k, _)| *k == (u, h)).unwrap().1;
        assert_eq!(
            mine,
            Sums {
                uploaded: 40,
                downloaded: 80,
                completions: 2,
                announces: 4,
                left: 0,
                stopped: true,
            }
        );
        assert_eq!(again.len(), 2);
    }
}
