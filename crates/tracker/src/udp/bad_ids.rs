//! Addresses that keep sending connection ids we never issued (scanners, spoofers, clients
//! stuck on a stale id) stop getting answers: each error reply would be free amplification
//! traffic for whoever forged the source address.

use std::collections::HashMap;
use std::net::IpAddr;

/// Bad ids an address may send within one window before it is ignored.
pub const ALLOWED: u16 = 10;

/// Seconds a window lasts; an ignored address is answered again in the next one.
pub const WINDOW_SECS: u32 = 60;

/// Addresses tracked at most (per worker); the table is pruned, then cleared, when full.
const MAX_TRACKED: usize = 1 << 16;

/// Per-worker record of bad connection ids by source address.
#[derive(Debug, Default)]
pub struct BadIds {
    seen: HashMap<IpAddr, (u32, u16)>,
}

impl BadIds {
    /// Notes a bad id from `ip` at `now`; returns whether the address may still get an error
    /// reply (false: drop silently).
    pub fn note(&mut self, ip: IpAddr, now: u32) -> bool {
        if self.seen.len() >= MAX_TRACKED && !self.seen.contains_key(&ip) {
            self.seen
                .retain(|_, (start, _)| now.saturating_sub(*start) < WINDOW_SECS);
            if self.seen.len() >= MAX_TRACKED {
                self.seen.clear();
            }
        }
        let (start, count) = self.seen.entry(ip).or_insert((now, 0));
        if now.saturating_sub(*start) >= WINDOW_SECS {
            (*start, *count) = (now, 0);
        }
        *count = count.saturating_add(1);
        *count <= ALLOWED
    }

    /// Whether `ip` is being ignored at `now`.
    pub fn ignored(&self, ip: &IpAddr, now: u32) -> bool {
        self.seen
            .get(ip)
            .is_some_and(|(start, count)| *count > ALLOWED && now.saturating_sub(*start) < WINDOW_SECS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_offenders_are_ignored_for_a_window() {
        let mut b = BadIds::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..ALLOWED {
            assert!(b.note(ip, 5));
        }
        assert!(!b.ignored(&ip, 5));
        assert!(!b.note(ip, 6));
        assert!(b.ignored(&ip, 6));
        assert!(!b.ignored(&other, 6));
        assert!(b.note(other, 6));
        assert!(!b.ignored(&ip, 5 + WINDOW_SECS), "a new window forgives");
        assert!(b.note(ip, 5 + WINDOW_SECS));
    }

    #[test]
    fn the_table_stays_bounded() {
        let mut b = BadIds::default();
        for i in 0..(MAX_TRACKED as u32 + 10) {
            b.note(IpAddr::from(i.to_be_bytes()), 0);
        }
        assert!(b.seen.len() <= MAX_TRACKED);
    }
}
