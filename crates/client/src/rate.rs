//! Transfer rates and token buckets. Time is a parameter, so both are tested without a clock;
//! [`Limiter`] is the async wrapper the peers use.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A rate estimate: bytes per second over a sliding window of one-second samples.
#[derive(Debug, Clone, Default)]
pub struct RateMeter {
    last_total: u64,
    samples: [u64; 5],
    next: usize,
    filled: usize,
}

impl RateMeter {
    /// Records the counter's total at the end of a one-second tick.
    pub fn tick(&mut self, total: u64) {
        let delta = total.saturating_sub(self.last_total);
        self.last_total = total;
        self.samples[self.next] = delta;
        self.next = (self.next + 1) % self.samples.len();
        self.filled = (self.filled + 1).min(self.samples.len());
    }

    /// Records the counter's total after `seconds` seconds without a tick (an idle torrent
    /// ticks less often): the bytes since the last tick are spread evenly over that many
    /// one-second samples.
    pub fn tick_over(&mut self, total: u64, seconds: u64) {
        let n = seconds.clamp(1, self.samples.len() as u64);
        let delta = total.saturating_sub(self.last_total);
        for i in 0..n {
            let share = delta / n + u64::from(i < delta % n);
            self.tick(self.last_total + share);
        }
        self.last_total = total;
    }

    /// Bytes per second, averaged over the window.
    pub fn rate(&self) -> u64 {
        if self.filled == 0 {
            return 0;
        }
        self.samples.iter().sum::<u64>() / self.filled as u64
    }
}

/// A token bucket: `rate` bytes per second, bursts up to one second's worth. A rate of 0
/// means unlimited. Spending may go into debt; the debt is the wait.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: u64,
    tokens: i64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate: u64, now: Instant) -> Self {
        Self {
            rate,
            tokens: i64::try_from(rate).unwrap_or(i64::MAX),
            last: now,
        }
    }

    /// Changes the rate (0 = unlimited).
    pub fn set_rate(&mut self, rate: u64) {
        self.rate = rate;
        self.tokens = self.tokens.min(i64::try_from(rate).unwrap_or(i64::MAX));
    }

    /// The rate, 0 for unlimited.
    pub fn rate(&self) -> u64 {
        self.rate
    }

    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.last);
        self.last = now;
        let add = (self.rate as u128 * dt.as_micros() / 1_000_000) as i64;
        let cap = i64::try_from(self.rate).unwrap_or(i64::MAX);
        self.tokens = self.tokens.saturating_add(add).min(cap);
    }

    /// Bytes that may move now without waiting (`None` when unlimited).
    pub fn available(&mut self, now: Instant) -> Option<u64> {
        if self.rate == 0 {
            return None;
        }
        self.refill(now);
        Some(u64::try_from(self.tokens).unwrap_or(0))
    }

    /// Spends `n` bytes and returns how long to wait before the next transfer.
    pub fn spend(&mut self, n: u64, now: Instant) -> Duration {
        if self.rate == 0 {
            return Duration::ZERO;
        }
        self.refill(now);
        self.tokens = self.tokens.saturating_sub(i64::try_from(n).unwrap_or(i64::MAX));
        if self.tokens >= 0 {
            return Duration::ZERO;
        }
        Duration::from_micros((self.tokens.unsigned_abs() as u128 * 1_000_000 / self.rate as u128) as u64)
    }
}

/// A token bucket shared by tasks; [`spend`] sleeps off any debt.
#[derive(Debug)]
pub struct Limiter(Mutex<TokenBucket>);

impl Limiter {
    /// A limiter of `rate` bytes per second (0 = unlimited).
    pub fn new(rate: u64) -> Self {
        Self(Mutex::new(TokenBucket::new(rate, Instant::now())))
    }

    /// Changes the rate.
    pub fn set_rate(&self, rate: u64) {
        if let Ok(mut b) = self.0.lock() {
            b.set_rate(rate);
        }
    }

    /// The rate, 0 for unlimited.
    pub fn rate(&self) -> u64 {
        self.0.lock().map(|b| b.rate()).unwrap_or(0)
    }

    /// Bytes that may move now without waiting (`None` when unlimited).
    pub fn available(&self) -> Option<u64> {
        self.0.lock().ok().and_then(|mut b| b.available(Instant::now()))
    }

    /// How long to wait after moving `n` bytes.
    pub fn charge(&self, n: u64) -> Duration {
        self.0
            .lock()
            .map(|mut b| b.spend(n, Instant::now()))
            .unwrap_or_default()
    }
}

/// How many bytes to read next: what the tightest limiter allows now, but at least `min`
/// (so a transfer always progresses) and at most `max`.
pub fn read_quota(limiters: &[&Limiter], min: usize, max: usize) -> usize {
    let allowed = limiters.iter().filter_map(|l| l.available()).min();
    allowed.map_or(max, |a| (a as usize).max(min).min(max))
}

/// Charges `n` bytes to each limiter and sleeps for the longest debt, in steps of at most
/// 250 ms so that lifting a limit takes effect at once.
pub async fn spend(limiters: &[&Limiter], n: u64) {
    let mut wait = limiters.iter().map(|l| l.charge(n)).max().unwrap_or_default();
    while !wait.is_zero() {
        let step = wait.min(Duration::from_millis(250));
        tokio::time::sleep(step).await;
        wait -= step;
        if limiters.iter().all(|l| l.rate() == 0) {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meter_averages_the_window() {
        let mut m = RateMeter::default();
        assert_eq!(m.rate(), 0);
        m.tick(100);
        m.tick(300);
        assert_eq!(m.rate(), 150);
        for t in [300, 300, 300, 300, 300] {
            m.tick(t);
        }
        assert_eq!(m.rate(), 0);
    }

    #[test]
    fn a_late_tick_spreads_its_bytes() {
        let mut m = RateMeter::default();
        m.tick(0);
        m.tick_over(3000, 3);
        // Four samples: 0, 1000, 1000, 1000.
        assert_eq!(m.rate(), 750);
        m.tick_over(3000, 60);
        assert_eq!(m.rate(), 0);
    }

    #[test]
    fn bucket_makes_debt_a_wait() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(1000, t0);
        assert_eq!(b.spend(1000, t0), Duration::ZERO);
        assert_eq!(b.spend(500, t0), Duration::from_millis(500));
        // Half a second later the debt is paid.
        assert_eq!(b.spend(0, t0 + Duration::from_millis(500)), Duration::ZERO);
        let mut free = TokenBucket::new(0, t0);
        assert_eq!(free.spend(u64::MAX, t0), Duration::ZERO);
    }
}
