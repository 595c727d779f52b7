//! LEDBAT (RFC 6817) as BEP 29 and libtorrent use it: the window grows while the measured
//! queuing delay stays under a 100 ms target and shrinks as it goes over (multiplicatively, as
//! LEDBAT++ does), so a uTP transfer gives way to other traffic; halved on a loss, one packet after a timeout. The round-trip
//! time is estimated as TCP does, for the retransmission timeout.

/// Queuing delay LEDBAT aims for, microseconds.
pub const TARGET: u64 = 100_000;
/// Most bytes the window grows by in one round trip (libutp's figure).
const MAX_GAIN: f64 = 3000.0;
/// How long a delay minimum counts as the base delay: two minutes, one slot a minute.
const BASE_SLOT: u64 = 60_000_000;
const BASE_SLOTS: usize = 2;
/// Shortest and longest retransmission timeouts (BEP 29: 500 ms at least), microseconds.
const MIN_RTO: u64 = 500_000;
const MAX_RTO: u64 = 60_000_000;

/// The congestion window and the delay measurements behind it.
#[derive(Debug, Clone)]
pub struct Ledbat {
    cwnd: f64,
    mss: usize,
    slow_start: bool,
    /// Per-minute minimums of the one-way delay samples: (slot start, minimum).
    base: Vec<(u64, u32)>,
    /// The latest few samples: the current delay is their minimum (filters noise).
    recent: [u32; 4],
    recent_at: usize,
}

impl Ledbat {
    /// A window of two packets of `mss` bytes.
    pub fn new(mss: usize) -> Self {
        Self {
            cwnd: (2 * mss) as f64,
            mss,
            slow_start: true,
            base: Vec::new(),
            recent: [u32::MAX; 4],
            recent_at: 0,
        }
    }

    /// The window in bytes.
    pub fn window(&self) -> usize {
        self.cwnd as usize
    }

    /// The queuing delay now (current minus base), microseconds.
    pub fn queuing_delay(&self) -> u64 {
        let current = self.recent.iter().copied().min().unwrap_or(u32::MAX);
        let base = self.base.iter().map(|(_, d)| *d).min().unwrap_or(current);
        u64::from(current.saturating_sub(base))
    }

    fn sample(&mut self, delay: u32, now: u64) {
        self.recent[self.recent_at] = delay;
        self.recent_at = (self.recent_at + 1) % self.recent.len();
        match self.base.last_mut() {
            Some((start, min)) if now.saturating_sub(*start) < BASE_SLOT => *min = (*min).min(delay),
            _ => {
                self.base.push((now, delay));
                if self.base.len() > BASE_SLOTS {
                    self.base.remove(0);
                }
            }
        }
    }

    /// `acked` bytes were acknowledged by a packet whose `timestamp_diff` was `delay` (our
    /// packets' one-way delay as the peer measured it; 0 when it has none yet).
    pub fn on_ack(&mut self, acked: usize, delay: u32, now: u64) {
        if delay != 0 {
            self.sample(delay, now);
        }
        let queuing = self.queuing_delay() as f64;
        let off_target = ((TARGET as f64 - queuing) / TARGET as f64).clamp(-1.0, 1.0);
        if self.slow_start && off_target > 0.5 {
            self.cwnd += acked as f64;
            return;
        }
        self.slow_start = false;
        let acked = acked as f64;
        if off_target < 0.0 {
            // Over the target: a multiplicative decrease (LEDBAT++), up to half the window a
            // round trip. The additive one of RFC 6817 (3,000 bytes a round trip) takes minutes
            // to leave a bottleneck's queue to the TCP flow that needs it.
            let over = (queuing / TARGET as f64 - 1.0).min(0.5);
            self.cwnd = (self.cwnd - acked * over).max(self.min());
            return;
        }
        let window_factor = acked.min(self.cwnd) / self.cwnd.max(acked);
        self.cwnd = (self.cwnd + MAX_GAIN * off_target * window_factor).max(self.min());
    }

    /// A packet was lost (three duplicate acks, or acks past it): half the window.
    pub fn on_loss(&mut self) {
        self.slow_start = false;
        self.cwnd = (self.cwnd / 2.0).max(self.min());
    }

    /// The retransmission timer fired: one packet.
    pub fn on_timeout(&mut self) {
        self.slow_start = false;
        self.cwnd = self.mss as f64;
    }

    fn min(&self) -> f64 {
        (2 * self.mss) as f64
    }
}

/// Smoothed round-trip time and its variation (RFC 6298), microseconds.
#[derive(Debug, Clone, Default)]
pub struct Rtt {
    srtt: Option<u64>,
    var: u64,
    backoff: u32,
}

impl Rtt {
    /// A measured round trip (of a packet sent once).
    pub fn sample(&mut self, rtt: u64) {
        self.backoff = 0;
        match self.srtt {
            None => {
                self.srtt = Some(rtt);
                self.var = rtt / 2;
            }
            Some(s) => {
                self.var = (3 * self.var + s.abs_diff(rtt)) / 4;
                self.srtt = Some((7 * s + rtt) / 8);
            }
        }
    }

    /// The timer fired: the next timeout is twice as long.
    pub fn back_off(&mut self) {
        self.backoff = (self.backoff + 1).min(8);
    }

    /// New data was acknowledged: the timeout is no longer backed off.
    pub fn reset_backoff(&mut self) {
        self.backoff = 0;
    }

    /// The retransmission timeout: `srtt + 4 var`, at least 500 ms, 1 s before any sample,
    /// doubled per timeout in a row.
    pub fn rto(&self) -> u64 {
        let base = self.srtt.map_or(1_000_000, |s| (s + 4 * self.var).max(MIN_RTO));
        (base << self.backoff).min(MAX_RTO)
    }

    /// The smoothed round trip, if measured.
    pub fn srtt(&self) -> Option<u64> {
        self.srtt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_grows_under_the_target_and_shrinks_over_it() {
        let mut l = Ledbat::new(1000);
        l.on_loss(); // out of slow start
        let start = l.window();
        for i in 0..100 {
            l.on_ack(1000, 20_000, i * 1000);
        }
        let grown = l.window();
        assert!(grown > start, "{start} -> {grown}");
        // The delay rises 150 ms over its base: 50 ms over the target.
        for i in 0..100 {
            l.on_ack(1000, 170_000, 100_000 + i * 1000);
        }
        assert!(l.window() < grown, "{grown} -> {}", l.window());
        assert!(l.queuing_delay() >= 140_000);
    }

    #[test]
    fn slow_start_doubles_until_the_delay_builds() {
        let mut l = Ledbat::new(1000);
        l.on_ack(2000, 10_000, 0);
        assert_eq!(l.window(), 4000);
        l.on_ack(4000, 10_000, 1);
        assert_eq!(l.window(), 8000);
        l.on_ack(1000, 80_000, 2); // 70 ms of queue: past half the target
        assert!(l.window() <= 8000 + 3000);
    }

    #[test]
    fn losses_halve_and_timeouts_reset() {
        let mut l = Ledbat::new(1000);
        l.on_ack(30_000, 10_000, 0);
        l.on_loss();
        assert_eq!(l.window(), 16_000);
        l.on_timeout();
        assert_eq!(l.window(), 1000);
        l.on_loss();
        assert_eq!(l.window(), 2000, "never under two packets");
    }

    #[test]
    fn the_timeout_follows_the_round_trip_and_backs_off() {
        let mut r = Rtt::default();
        assert_eq!(r.rto(), 1_000_000);
        r.sample(200_000);
        assert_eq!(r.rto(), 600_000);
        for _ in 0..20 {
            r.sample(10_000);
        }
        assert_eq!(r.rto(), 500_000, "at least 500 ms");
        r.back_off();
        assert_eq!(r.rto(), 1_000_000);
        for _ in 0..20 {
            r.back_off();
        }
        assert_eq!(r.rto(), 60_000_000);
    }
}
