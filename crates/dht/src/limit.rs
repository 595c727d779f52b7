//! Packets per source address, counted before a packet is decoded: a host that floods us is
//! dropped cheaply, and the table of sources is itself capped.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Packets accepted from one address per second (libtorrent blocks past 5 queries a second per
/// address; nodes on one host, or behind one NAT, need more room than that).
pub const PER_SECOND: u32 = 250;
/// Addresses tracked at most; past it the table is emptied (a flood of spoofed sources gets
/// no more than a fresh count each).
const MAX_SOURCES: usize = 10_000;

/// A per-address packet counter over one-second windows.
#[derive(Debug, Default)]
pub struct SourceLimit {
    counts: HashMap<IpAddr, (Instant, u32)>,
}

impl SourceLimit {
    /// Counts a packet from `ip`; false when it is over [`PER_SECOND`]. Loopback is exempt
    /// (nodes of one host, test networks), as in the routing table.
    pub fn allow(&mut self, ip: IpAddr, now: Instant) -> bool {
        if ip.to_canonical().is_loopback() {
            return true;
        }
        if self.counts.len() >= MAX_SOURCES && !self.counts.contains_key(&ip) {
            self.counts
                .retain(|_, (since, _)| now.saturating_duration_since(*since) < Duration::from_secs(1));
            if self.counts.len() >= MAX_SOURCES {
                self.counts.clear();
            }
        }
        let (since, n) = self.counts.entry(ip.to_canonical()).or_insert((now, 0));
        if now.saturating_duration_since(*since) >= Duration::from_secs(1) {
            *since = now;
            *n = 0;
        }
        *n += 1;
        *n <= PER_SECOND
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_cut_and_others_pass() {
        let t0 = Instant::now();
        let mut l = SourceLimit::default();
        let flood: IpAddr = "198.51.100.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let allowed = (0..1000).filter(|_| l.allow(flood, t0)).count();
        assert_eq!(allowed, PER_SECOND as usize);
        assert!(
            l.allow("198.51.100.2".parse().unwrap_or(flood), t0),
            "another source is not affected"
        );
        assert!(
            l.allow(flood, t0 + Duration::from_secs(1)),
            "a new second, a new count"
        );
    }
}
