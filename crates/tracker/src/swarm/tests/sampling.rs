//! Peer sampling: sizes, no duplicates, never the announcer, every peer reachable.

use std::collections::HashSet;

use ids::PeerId;
use tracker_proto::common::ResponsePeer;

use super::super::peer::{PeerAddr, PeerRecord};
use super::super::select::{Rng, sample};
use super::*;

fn records(range: std::ops::Range<u32>) -> Vec<PeerRecord> {
    range
        .map(|n| PeerRecord {
            traffic: Default::default(),
            last_seen: 0,
            traffic_at: 0,
            addr: PeerAddr::new(addr(n)),
            peer_id: PeerId([0; 20]),
            completed: false,
        })
        .collect()
}

#[test]
fn windows_wrap_skip_the_announcer_and_never_repeat() {
    let a = records(0..7);
    let b = records(100..105);
    let mut rng = Rng::seeded(1);
    for skip in [None, Some(0), Some(6), Some(7), Some(11)] {
        for numwant in 0..14 {
            for _ in 0..50 {
                let mut out = Vec::new();
                sample([&a, &b], skip, numwant, &mut rng, &mut out);
                let candidates = 12 - usize::from(skip.is_some());
                assert_eq!(out.len(), numwant.min(candidates));
                let distinct: HashSet<_> = out.iter().map(|p| p.addr).collect();
                assert_eq!(distinct.len(), out.len());
                if let Some(s) = skip {
                    let me = a.iter().chain(&b).nth(s).unwrap().addr.get();
                    assert!(!distinct.contains(&me));
                }
            }
        }
    }
}

#[test]
fn rng_is_not_stuck_and_stays_in_range() {
    let mut zero = Rng::seeded(0);
    assert_ne!(zero.next_u64(), zero.next_u64());
    let mut rng = Rng::from_entropy(3);
    let mut seen = [false; 10];
    for _ in 0..1000 {
        seen[rng.below(10)] = true;
    }
    assert!(seen.iter().all(|&s| s));
}

#[test]
fn random_samples_have_no_duplicates_and_reach_every_peer() {
    let s = store();
    let mut out = Vec::new();
    for p in 0..200 {
        let a = if p % 4 == 0 { seeder(1, p) } else { leecher(1, p) };
        s.announce(&a, 0, &mut out);
    }
    let mut reached = HashSet::new();
    for round in 0..400 {
        let me = round % 200;
        let a = if me % 4 == 0 {
            seeder(1, me)
        } else {
            leecher(1, me)
        };
        out.clear();
        s.announce(&Announce { numwant: 30, ..a }, 1, &mut out);
        assert_eq!(out.len(), 30);
        let distinct: HashSet<SocketAddr> = out.iter().map(|p| p.addr).collect();
        assert_eq!(distinct.len(), 30, "duplicates in {out:?}");
        assert!(!distinct.contains(&addr(me)));
        assert!(out.iter().all(|p: &ResponsePeer| p.peer_id.is_some()));
        reached.extend(distinct);
    }
    // 300 leecher replies of 30 out of 199 miss a given peer with probability about e^-45.
    assert_eq!(reached.len(), 200);
}
