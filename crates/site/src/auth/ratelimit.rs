//! Fixed-window rate limits kept in memory, keyed by what is limited (an address, an
//! account, a client IP). Bounded: past `max_keys` the expired windows are dropped, and if
//! that is not enough the oldest half goes (an attacker spraying keys cannot exhaust memory).
//!
//! Per-client limits are [`IpRateLimit`]s, keyed by [`ip_key`]: an IPv6 client usually holds
//! a whole /64 and could otherwise take a fresh address for every request.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::config::LimitsSection;

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

    /// Counts an event for `key` only if it is under its limit: false (nothing counted) when
    /// the limit is reached. Check and count are one step, so parallel requests cannot all
    /// pass a check made before any of them was counted.
    pub fn take(&self, key: &str) -> bool {
        let now = Instant::now();
        let mut map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.max_keys && !map.contains_key(key) {
            self.prune(&mut map, now);
        }
        let entry = map.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.max {
            return false;
        }
        entry.1 += 1;
        true
    }

    /// Gives back one event taken for `key` (it turned out not to be one to count).
    pub fn refund(&self, key: &str) {
        let mut map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = map.get_mut(key) {
            entry.1 = entry.1.saturating_sub(1);
        }
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

/// The key a client address is limited under: an IPv4 address (IPv4-mapped IPv6 included)
/// as itself, an IPv6 address by its /64.
pub fn ip_key(ip: IpAddr) -> String {
    // The same grouping as the HTTP server's per-address connection cap.
    http_server::ip_group(ip).to_string()
}

/// A [`RateLimit`] per client address, keyed by [`ip_key`] (so no caller can forget the
/// IPv6 grouping).
#[derive(Debug)]
pub struct IpRateLimit(RateLimit);

impl IpRateLimit {
    /// A limit of `max` events per `window` per client.
    pub fn new(max: u32, window: Duration) -> Self {
        Self(RateLimit::new(max, window))
    }

    /// [`RateLimit::hit`] for the client's key.
    pub fn hit(&self, ip: IpAddr) -> bool {
        self.0.hit(&ip_key(ip))
    }

    /// [`RateLimit::take`] for the client's key.
    pub fn take(&self, ip: IpAddr) -> bool {
        self.0.take(&ip_key(ip))
    }

    /// [`RateLimit::refund`] for the client's key.
    pub fn refund(&self, ip: IpAddr) {
        self.0.refund(&ip_key(ip));
    }
}

/// The site's limits.
#[derive(Debug)]
pub struct Limits {
    /// Login attempts per account (e-mail); a success clears them.
    pub login_account: RateLimit,
    /// Failed logins per client.
    pub login_ip: IpRateLimit,
    /// Codes mailed per address.
    pub code_address: RateLimit,
    /// Codes mailed per client.
    pub code_ip: IpRateLimit,
    /// Sign-up attempts per client.
    pub signup_ip: IpRateLimit,
    /// Uploads per user.
    pub upload_user: RateLimit,
    /// Uploads being read now (each may hold `max_torrent_bytes`).
    pub uploads: Arc<Semaphore>,
}

impl Limits {
    /// The limits of a configuration.
    pub fn new(config: &LimitsSection) -> Self {
        let min = |m: u64| Duration::from_secs(m * 60);
        Self {
            login_account: RateLimit::new(config.login_attempts_per_account, min(15)),
            login_ip: IpRateLimit::new(config.login_attempts_per_ip, min(15)),
            code_address: RateLimit::new(3, min(10)),
            code_ip: IpRateLimit::new(10, min(10)),
            signup_ip: IpRateLimit::new(20, min(10)),
            upload_user: RateLimit::new(60, min(60)),
            uploads: Arc::new(Semaphore::new(config.max_concurrent_uploads.max(1))),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::new(&LimitsSection::default())
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
    fn take_counts_only_under_the_limit_and_refunds() {
        let l = RateLimit::new(2, Duration::from_secs(60));
        assert!(l.take("a") && l.take("a"));
        assert!(!l.take("a"), "the limit is reached");
        l.refund("a");
        assert!(l.take("a"), "a refunded event is free again");
        assert!(!l.take("a"));
        l.refund("b");
        assert!(l.take("b"), "refunding an unknown key does nothing");
    }

    #[test]
    fn ipv6_clients_are_grouped_by_their_64() {
        let key = |s: &str| ip_key(s.parse().unwrap());
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(key("192.0.2.7"), "192.0.2.7");
        let l = IpRateLimit::new(1, Duration::from_secs(60));
        assert!(l.take("2001:db8::1".parse().unwrap()));
        assert!(!l.take("2001:db8::2".parse().unwrap()));
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
