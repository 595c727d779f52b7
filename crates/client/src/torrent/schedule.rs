//! When a torrent announces, runs its choker, tells peers about peers and saves its resume
//! state. Plain values that are told the time (`now`) and what happened, and answer what to
//! do now and when next: the driver owns one of each and feeds them its clock and its
//! events, and tests drive hours of a torrent's life through them in microseconds.
//!
//! The driver asks on its one-second tick, as it always has; `next_at` (used by the tests
//! for now) would let it sleep until the next deadline instead.
//!
//! Time is `tokio::time::Instant`, the driver's clock: under tokio's paused clock a whole
//! torrent (its timers, timeouts and these schedules) runs on test time, and no second,
//! fake clock can disagree with the runtime's timers.

use std::time::Duration;

use tokio::time::Instant;
use tracker_proto::common::AnnounceEvent;

/// Announces no more often than this, whatever a tracker asks for.
pub(crate) const MIN_ANNOUNCE_INTERVAL: Duration = Duration::from_secs(30);
/// With no tracker to announce to, look again this much later.
const NO_TRACKER_RECHECK: Duration = Duration::from_secs(3600);

/// Something that happens every `period`.
#[derive(Debug, Clone)]
pub(crate) struct Every {
    last: Instant,
    period: Duration,
}

impl Every {
    /// The first time is one `period` after `now`.
    pub fn new(now: Instant, period: Duration) -> Self {
        Self { last: now, period }
    }

    /// True when a `period` has passed since the last time (which is then `now`).
    pub fn due(&mut self, now: Instant) -> bool {
        if now.saturating_duration_since(self.last) < self.period {
            return false;
        }
        self.last = now;
        true
    }

    /// When it is due next.
    #[cfg(test)]
    pub fn next_at(&self) -> Instant {
        self.last + self.period
    }
}

/// A choke round to run (BEP 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChokeRound {
    /// Pick a new optimistic unchoke as well.
    pub rotate: bool,
}

/// The choker's rounds: regular every `choke_interval` (10 s), and every
/// `optimistic_interval` (30 s) the round also rotates the optimistic unchoke.
#[derive(Debug, Clone)]
pub(crate) struct ChokeSchedule {
    regular: Every,
    optimistic: Every,
}

impl ChokeSchedule {
    pub fn new(now: Instant, choke_interval: Duration, optimistic_interval: Duration) -> Self {
        Self {
            regular: Every::new(now, choke_interval),
            optimistic: Every::new(now, optimistic_interval),
        }
    }

    /// The round to run now, if one is due.
    pub fn due(&mut self, now: Instant) -> Option<ChokeRound> {
        if !self.regular.due(now) {
            return None;
        }
        // Rotations happen on regular rounds only: the optimistic peer changes as the
        // others' slots are decided.
        Some(ChokeRound {
            rotate: self.optimistic.due(now),
        })
    }

    /// When the next round is due.
    #[cfg(test)]
    pub fn next_at(&self) -> Instant {
        self.regular.next_at()
    }
}

/// What a tracker said about when to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Reply {
    /// Seconds until the next regular announce.
    pub interval: u32,
    /// Seconds the tracker wants between announces at least (HTTP `min interval`).
    pub min_interval: Option<u32>,
}

/// When to announce and with which event: at once with `started`, then as the trackers'
/// `interval` says (never sooner than their `min interval` or 30 s), at once with
/// `completed` when the download ends, and after failures with a back-off that doubles from
/// `retry_min` up to `retry_max`. One announce at a time.
#[derive(Debug, Clone)]
pub(crate) struct AnnounceSchedule {
    next: Instant,
    in_flight: bool,
    failures: u32,
    pending: AnnounceEvent,
    /// The event of the announce in flight: a failed `started` or `completed` is sent again.
    sending: AnnounceEvent,
    started_sent: bool,
    retry_min: Duration,
    retry_max: Duration,
}

impl AnnounceSchedule {
    pub fn new(now: Instant, retry_min: Duration, retry_max: Duration) -> Self {
        Self {
            next: now,
            in_flight: false,
            failures: 0,
            pending: AnnounceEvent::Started,
            sending: AnnounceEvent::None,
            started_sent: false,
            retry_min,
            retry_max,
        }
    }

    /// The event of the announce to send now, if one is due (it is then in flight until
    /// [`succeeded`](Self::succeeded) or [`failed`](Self::failed)). Without trackers nothing
    /// is sent, and the question comes back in an hour.
    pub fn due(&mut self, now: Instant, has_trackers: bool) -> Option<AnnounceEvent> {
        if self.in_flight || now < self.next {
            return None;
        }
        if !has_trackers {
            self.next = now + NO_TRACKER_RECHECK;
            return None;
        }
        self.in_flight = true;
        self.sending = std::mem::replace(&mut self.pending, AnnounceEvent::None);
        Some(self.sending)
    }

    /// A tracker answered.
    pub fn succeeded(&mut self, now: Instant, reply: Reply) {
        self.in_flight = false;
        self.failures = 0;
        self.started_sent = true;
        let secs = reply.interval.max(reply.min_interval.unwrap_or(0));
        self.next = now + Duration::from_secs(u64::from(secs)).max(MIN_ANNOUNCE_INTERVAL);
    }

    /// No tracker answered: try again after the back-off, with the same event (a tracker that
    /// never heard `started` or `completed` must still hear it).
    pub fn failed(&mut self, now: Instant) {
        self.in_flight = false;
        if self.pending == AnnounceEvent::None {
            self.pending = self.sending;
        }
        let wait = self.retry_min.saturating_mul(1 << self.failures.min(10));
        self.failures += 1;
        self.next = now + wait.min(self.retry_max);
    }

    /// The download completed: say so at once, if the trackers know we started.
    pub fn completed(&mut self, now: Instant) {
        if self.started_sent {
            self.pending = AnnounceEvent::Completed;
            self.next = now;
        }
    }

    /// A tracker has heard our `started` (so it should hear `stopped` at the end).
    pub fn started_sent(&self) -> bool {
        self.started_sent
    }

    /// When the next announce is due; `None` while one is in flight.
    #[cfg(test)]
    pub fn next_at(&self) -> Option<Instant> {
        (!self.in_flight).then_some(self.next)
    }
}

/// When to rewrite the resume snapshot: at most every `interval` while pieces arrive, and
/// at once when the download completes.
#[derive(Debug, Clone)]
pub(crate) struct ResumeSchedule {
    dirty: bool,
    soon: bool,
    last_save: Instant,
    interval: Duration,
}

impl ResumeSchedule {
    pub fn new(now: Instant, interval: Duration) -> Self {
        Self {
            dirty: false,
            soon: false,
            last_save: now,
            interval,
        }
    }

    /// The state changed (a piece verified, a recheck).
    pub fn changed(&mut self) {
        self.dirty = true;
    }

    /// The download completed: save at the next chance, whenever the last save was.
    pub fn completed(&mut self) {
        self.soon = true;
    }

    /// True when a snapshot should be written now (it counts as written).
    pub fn due(&mut self, now: Instant) -> bool {
        let waited = now.saturating_duration_since(self.last_save) >= self.interval;
        if !self.dirty || !(self.soon || waited) {
            return false;
        }
        self.dirty = false;
        self.soon = false;
        self.last_save = now;
        true
    }
}

#[cfg(test)]
mod tests;
