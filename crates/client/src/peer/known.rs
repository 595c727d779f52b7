//! The addresses a torrent knows of (from trackers, PEX and the user), kept under a cap: PEX
//! messages and tracker replies would otherwise grow the list without end, and the torrent
//! scans it every second under its lock. Past the cap the worst go: those that failed most,
//! then those of lowest canonical priority (BEP 40), so that trimming keeps the connections
//! the swarm as a whole favours and an attacker cannot choose which addresses survive.

use std::cmp::{Ordering, Reverse};
use std::collections::HashMap;
use std::net::SocketAddr;

use wire::priority::peer_priority;

use crate::torrent::Known;

/// Drops the worst addresses until at most `cap` remain, sparing those in use (connected or
/// connecting); `us` gives our own address as seen from a peer's. Returns how many went.
pub(crate) fn trim(
    known: &mut HashMap<SocketAddr, Known>,
    cap: usize,
    us: impl Fn(SocketAddr) -> SocketAddr,
) -> usize {
    let excess = known.len().saturating_sub(cap);
    if excess == 0 {
        return 0;
    }
    let mut spare: Vec<(u32, u32, SocketAddr)> = known
        .iter()
        .filter(|(_, k)| !k.connected)
        .map(|(a, k)| (k.failures, peer_priority(us(*a), *a), *a))
        .collect();
    let n = excess.min(spare.len());
    if n < spare.len() {
        // The first `n` are then the worst, in no particular order.
        spare.select_nth_unstable_by(n, worst_first);
    }
    for (_, _, a) in &spare[..n] {
        known.remove(a);
    }
    n
}

/// More failures first, then lower priority; the address breaks ties so the order is total.
fn worst_first(a: &(u32, u32, SocketAddr), b: &(u32, u32, SocketAddr)) -> Ordering {
    (Reverse(a.0), a.1, a.2).cmp(&(Reverse(b.0), b.1, b.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(failures: u32, connected: bool) -> Known {
        Known {
            connected,
            failures,
            ..Known::default()
        }
    }

    #[test]
    fn the_most_failed_then_the_lowest_priority_go_first() {
        let us: SocketAddr = "10.0.0.1:6881".parse().unwrap();
        // Each in a /16 of its own: no two mask alike, so no two share a priority.
        let fresh: Vec<SocketAddr> = (1..=10)
            .map(|i| format!("192.{i}.0.1:6881").parse().unwrap())
            .collect();
        let failed: SocketAddr = "198.51.100.1:6881".parse().unwrap();
        let busy: SocketAddr = "198.51.100.2:6881".parse().unwrap();
        let mut list: HashMap<SocketAddr, Known> = fresh.iter().map(|a| (*a, known(0, false))).collect();
        list.insert(failed, known(3, false));
        list.insert(busy, known(5, true));

        assert_eq!(trim(&mut list, 5, |_| us), 7);
        assert_eq!(list.len(), 5);
        assert!(list.contains_key(&busy), "addresses in use stay, however bad");
        assert!(!list.contains_key(&failed), "the failed address went first");
        // The survivors among the fresh ones are those of highest BEP 40 priority.
        let mut ranked = fresh.clone();
        ranked.sort_by_key(|a| Reverse(peer_priority(us, *a)));
        for a in &ranked[..4] {
            assert!(list.contains_key(a), "{a} has one of the 4 highest priorities");
        }
        assert_eq!(trim(&mut list, 5, |_| us), 0, "under the cap nothing goes");
    }

    #[test]
    fn addresses_in_use_are_never_dropped() {
        let us: SocketAddr = "10.0.0.1:6881".parse().unwrap();
        let mut list: HashMap<SocketAddr, Known> = (1..=4)
            .map(|i| (format!("192.0.2.{i}:1").parse().unwrap(), known(0, true)))
            .collect();
        list.insert("192.0.2.9:1".parse().unwrap(), known(0, false));
        assert_eq!(trim(&mut list, 2, |_| us), 1);
        assert_eq!(list.len(), 4);
    }
}
