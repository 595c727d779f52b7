//! Fixed-window rate limits kept in memory, keyed by what is limited (an address, an
//! account, a client IP). Bounded: past `max_keys` the expired windows are dropped, and if
//! that is not enough the oldest half goes (an attacker spraying keys cannot exhaust memory).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One limit: at most `max` events per `window` for each key.
#[derive(Debug)]
pub struct RateLimit {
    max: u32,
    window: Duration,
    max_keys: usize,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimit {
    /// A limit of `max` events per `window` per key.
    pub fn new(max: u32, window: Duration) -> Self {
        Self {
            max,
            window,
            max_keys: 100_000,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` is under its limit now (does not count an event).
    pub fn allowed(&self, key: &str) -> bool {
        let now = Instant::now();
        let map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(key) {
            Some((start, n)) if now.duration_since(*start) < self.window => *n < self.max,
            _ => true,
        }
    }

    /// Counts an event for `key`; false if it went over the limit.
    pub fn hit(&self, key: &str) -> bool {
        let now = Instant::now();
        let mut map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.max_keys && !map.contains_key(key) {
            self.prune(&mut map, now);
        }
        let entry = map.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1 <= self.max
    }

    /// Forgets `key` (after a successful login, its failures no longer count).
    pub fn reset(&self, key: &str) {
        self.windows.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }

    fn prune(&self, map: &mut HashMap<String, (Instant, u32)>, now: Instant) {
        map.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        if map.len() >= self.max_keys {
            let mut starts: Vec<Instant> = map.values().map(|v| v.0).collect();
            starts.sort_unstable();
            let cut = starts[starts.len() / 2];
            map.retain(|_, (start, _)| *start > cut);
        }
    }
}

/// The site's limits.
#[derive(Debug)]
pub struct Limits {
    /// Failed logins per account (e-mail).
    pub login_account: RateLimit,
    /// Failed logins per client IP.
    pub login_ip: RateLimit,
    /// Codes mailed per address.
    pub code_address: RateLimit,
    /// Codes mailed per client IP.
    pub code_ip: RateLimit,
    /// Sign-up attempts per client IP.
    pub signup_ip: RateLimit,
    /// Uploads per user.
    pub upload_user: RateLimit,
}

impl Default for Limits {
    fn default() -> Self {
        let min = |m: u64| Duration::from_secs(m * 60);
        Self {
            login_account: RateLimit::new(5, min(15)),
            login_ip: RateLimit::new(20, min(15)),
            code_address: RateLimit::new(3, min(10)),
            code_ip: RateLimit::new(10, min(10)),
            signup_ip: RateLimit::new(20, min(10)),
            upload_user: RateLimit::new(60, min(60)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_key_and_window() {
        let l = RateLimit::new(2, Duration::from_secs(60));
        assert!(l.hit("a") && l.hit("a"));
        assert!(!l.allowed("a"));
        assert!(!l.hit("a"));
        assert!(l.allowed("b"));
        l.reset("a");
        assert!(l.allowed("a"));
        let zero = RateLimit::new(1, Duration::ZERO);
        assert!(zero.hit("x") && zero.hit("x"), "an elapsed window starts again");
    }

    #[test]
    fn bounded_memory() {
        let mut l = RateLimit::new(1, Duration::from_secs(60));
        l.max_keys = 10;
        for i in 0..100 {
            l.hit(&i.to_string());
        }
        assert!(l.windows.lock().unwrap().len() <= 10);
    }
}
