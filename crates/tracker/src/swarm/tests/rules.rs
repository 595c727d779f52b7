//! One test per rule of an announce: stops, restarts, completions, who gets which peers.

use std::net::SocketAddr;

use tracker_proto::common::{AnnounceEvent, ResponsePeer, ScrapeStats, Transfer};

use super::super::peer::{PeerAddr, PeerRecord};
use super::super::{AnnounceOutcome, Swarms, Totals};
use super::*;

fn addrs(peers: &[ResponsePeer]) -> Vec<SocketAddr> {
    let mut v: Vec<_> = peers.iter().map(|p| p.addr).collect();
    v.sort();
    v
}

#[test]
fn record_is_compact() {
    let size = std::mem::size_of::<PeerRecord>();
    let swarm = std::mem::size_of::<super::super::torrent::Swarm>();
    println!("size_of::<PeerRecord>() = {size}, size_of::<Swarm>() = {swarm}");
    assert!(size <= 64, "{size}");
    assert_eq!(std::mem::size_of::<PeerAddr>(), 18);
}

#[test]
fn addresses_round_trip() {
    for n in [0, 1, 7, 1001, 1003, 70_000, u32::MAX] {
        assert_eq!(PeerAddr::new(addr(n)).get(), addr(n), "{n}");
    }
    let v6: SocketAddr = "[::1]:80".parse().unwrap();
    assert_eq!(PeerAddr::new(v6).get(), v6);
    // 1.2.3.4:80 and its mapped form are different keys only if the caller forgot to
    // canonicalise; the store treats them as the same peer.
    let v4: SocketAddr = "1.2.3.4:80".parse().unwrap();
    let mapped: SocketAddr = "[::ffff:1.2.3.4]:80".parse().unwrap();
    assert_eq!(PeerAddr::new(mapped), PeerAddr::new(v4));
}

#[test]
fn announcer_gets_every_other_peer_but_never_itself() {
    let s = store();
    let mut out = Vec::new();
    let first = s.announce(&leecher(1, 1), 0, &mut out);
    assert!(out.is_empty());
    assert_eq!(
        first,
        AnnounceOutcome {
            complete: 0,
            incomplete: 1,
            previous: None,
            elapsed: 0,
            early: false,
            turned: None
        }
    );
    for p in 2..=5 {
        s.announce(&seeder(1, p), 0, &mut out);
    }
    out.clear();
    let again = s.announce(&leecher(1, 1), 1, &mut out);
    assert_eq!((again.complete, again.incomplete), (4, 1));
    assert_eq!(addrs(&out), (2..=5).map(addr).collect::<Vec<_>>());
    assert!(out.iter().all(|p| p.peer_id.is_some()));
    for n in 2..=5 {
        assert!(
            out.contains(&ResponsePeer {
                addr: addr(n),
                peer_id: Some(peer_id(n))
            }),
            "{n}"
        );
    }
}

#[test]
fn output_is_appended_to() {
    let s = store();
    let mut out = Vec::new();
    s.announce(&leecher(1, 1), 0, &mut out);
    s.announce(&leecher(1, 2), 0, &mut out);
    s.announce(&leecher(1, 3), 0, &mut out);
    // 0 peers, then 1, then 2.
    assert_eq!(out.len(), 3);
}

#[test]
fn previous_counters_are_returned() {
    let s = store();
    let mut out = Vec::new();
    let a = leecher(1, 1);
    assert_eq!(s.announce(&a, 0, &mut out).previous, None);
    let later = Announce {
        transfer: Transfer {
            uploaded: 500,
            downloaded: 60,
            left: 40,
        },
        ..a
    };
    assert_eq!(s.announce(&later, 10, &mut out).previous, Some(a.transfer.into()));
    assert_eq!(
        s.announce(&later, 20, &mut out).previous,
        Some(later.transfer.into())
    );
}

#[test]
fn stop_removes_the_peer_at_once() {
    let s = store();
    let mut out = Vec::new();
    s.announce(&seeder(1, 1), 0, &mut out);
    s.announce(&leecher(1, 2), 0, &mut out);
    out.clear();
    let stopped = s.announce(&with(leecher(1, 2), AnnounceEvent::Stopped), 5, &mut out);
    assert_eq!(
        stopped,
        AnnounceOutcome {
            complete: 1,
            incomplete: 0,
            previous: Some(leecher(1, 2).transfer.into()),
            elapsed: 5,
            early: false,
            turned: None
        }
    );
    assert!(out.is_empty(), "a stopped peer gets no peers");
    assert_eq!(
        s.scrape(&hash(1)),
        ScrapeStats {
            complete: 1,
            downloaded: 0,
            incomplete: 0
        }
    );
    // The remaining seeder no longer sees it.
    let mut out = Vec::new();
    s.announce(&leecher(1, 3), 6, &mut out);
    assert_eq!(addrs(&out), vec![addr(1)]);
}

#[test]
fn stop_of_an_unknown_peer_or_torrent_changes_nothing() {
    let s = store();
    let mut out = Vec::new();
    let o = s.announce(&with(leecher(1, 1), AnnounceEvent::Stopped), 0, &mut out);
    assert_eq!(o, AnnounceOutcome::default());
    assert_eq!(s.totals(), Totals::default());
    s.announce(&leecher(1, 1), 0, &mut out);
    let o = s.announce(&with(seeder(1, 2), AnnounceEvent::Stopped), 0, &mut out);
    assert_eq!(
        o,
        AnnounceOutcome {
            complete: 0,
            incomplete: 1,
            previous: None,
            elapsed: 0,
            early: false,
            turned: None
        }
    );
    assert!(out.is_empty());
}

#[test]
fn new_peer_id_from_same_address_replaces_the_record() {
    let s = store();
    let mut out = Vec::new();
    s.announce(&leecher(1, 1), 0, &mut out);
    let restarted = Announce {
        peer_id: peer_id(99),
        transfer: Transfer::default(),
        ..leecher(1, 1)
    };
    let o = s.announce(&restarted, 10, &mut out);
    // Same peer (address), so no second record; its counters restarted, so no previous.
    assert_eq!(
        o,
        AnnounceOutcome {
            complete: 1,
            incomplete: 0,
            previous: None,
            elapsed: 0,
            early: false,
            turned: None
        }
    );
    out.clear();
    s.announce(&leecher(1, 2), 11, &mut out);
    assert_eq!(
        out,
        vec![ResponsePeer {
            addr: addr(1),
            peer_id: Some(peer_id(99))
        }]
    );
    // A stop from the restarted client removes it.
    let o = s.announce(&with(restarted, AnnounceEvent::Stopped), 12, &mut out);
    assert_eq!(
        o,
        AnnounceOutcome {
            complete: 0,
            incomplete: 1,
            previous: Some(restarted.transfer.into()),
            elapsed: 2,
            early: false,
            turned: None
        }
    );
}

#[test]
fn same_ip_other_port_is_another_peer() {
    let s = store();
    let mut out = Vec::new();
    s.announce(&leecher(1, 1), 0, &mut out);
    let other_port = Announce {
        addr: SocketAddr::new(addr(1).ip(), 1),
        ..leecher(1, 1)
    };
    let o = s.announce(&other_port, 0, &mut out);
    assert_eq!(o.incomplete, 2);
}

#[test]
fn completed_is_counted_once_per_peer() {
    let s = store();
    let mut out = Vec::new();
    s.announce(&with(leecher(1, 1), AnnounceEvent::Started), 0, &mut out);
    let done = with(seeder(1, 1), AnnounceEvent::Completed);
    assert_eq!(s.announce(&done, 1, &mut out).complete, 1);
    assert_eq!(s.scrape(&hash(1)).downloaded, 1);
    // Sent again (a retry), or by a seeder: not counted again.
    s.announce(&done, 2, &mut out);
    assert_eq!(s.scrape(&hash(1)).downloaded, 1);
    // Leeching again (data deleted) and completing again: still the same peer.
    s.announce(&leecher(1, 1), 3, &mut out);
    s.announce(&done, 4, &mut out);
    assert_eq!(s.scrape(&hash(1)).downloaded, 1);
    // Restarted with a new peer id: still the same peer.
    s.announce(
        &Announce {
            peer_id: peer_id(77),
            ..leecher(1, 1)
        },
        5,
        &mut out,
    );
    s.announce(
        &Announce {
            peer_id: peer_id(77),
            ..done
        },
        6,
        &mut out,
    );
    assert_eq!(s.scrape(&hash(1)).downloaded, 1);
}

#[test]
fn completed_from_a_known_seeder_is_not_counted() {
    let s = store();
    let mut out = Vec::new();
    s.announce(&with(seeder(1, 1), AnnounceEvent::Started), 0, &mut out);
    s.announce(&with(seeder(1, 1), AnnounceEvent::Completed), 1, &mut out);
    assert_eq!(s.scrape(&hash(1)).downloaded, 0);
}

#[test]
fn completed_from_an_unknown_peer_is_counted_once() {
    let s = store();
    let mut out = Vec::new();
    // It finished while the tracker was down.
    let done = with(seeder(1, 1), AnnounceEvent::Completed);
    s.announce(&done, 0, &mut out);
    s.announce(&done, 1, &mut out);
    assert_eq!(
        s.scrape(&hash(1)),
        ScrapeStats {
            complete: 1,
            downloaded: 1,
            incomplete: 0
        }
    );
    s.announce(&with(leecher(1, 2), AnnounceEvent::Completed), 1, &mut out);
    assert_eq!(s.scrape(&hash(1)).downloaded, 2);
}

#[test]
fn seeders_get_only_leechers() {
    let s = store();
    let mut out = Vec::new();
    for p in 1..=3 {
        s.announce(&seeder(1, p), 0, &mut out);
    }
    for p in 4..=7 {
        s.announce(&leecher(1, p), 0, &mut out);
    }
    out.clear();
    s.announce(&seeder(1, 1), 1, &mut out);
    assert_eq!(addrs(&out), (4..=7).map(addr).collect::<Vec<_>>());
    out.clear();
    s.announce(&leecher(1, 4), 1, &mut out);
    assert_eq!(addrs(&out), [1, 2, 3, 5, 6, 7].map(addr).to_vec());
    // A seeder in a swarm of seeders gets nobody.
    out.clear();
    s.announce(&seeder(2, 1), 1, &mut out);
    s.announce(&seeder(2, 2), 1, &mut out);
    assert!(out.is_empty());
}

#[test]
fn numwant_is_respected() {
    let s = store();
    let mut out = Vec::new();
    for p in 0..100 {
        s.announce(&leecher(1, p), 0, &mut out);
    }
    for numwant in [0, 1, 10, 98, 99, 100, 1000] {
        out.clear();
        s.announce(
            &Announce {
                numwant,
                ..leecher(1, 0)
            },
            1,
            &mut out,
        );
        assert_eq!(out.len(), numwant.min(99), "{numwant}");
    }
}

#[test]
fn counts_stay_right_through_swap_remove() {
    let s = store();
    let mut out = Vec::new();
    for p in 0..50 {
        let a = if p % 3 == 0 { seeder(1, p) } else { leecher(1, p) };
        s.announce(&a, 0, &mut out);
    }
    // Remove from the middle and the ends of both lists, and move peers between them.
    for p in [0, 1, 25, 26, 48, 49, 12] {
        s.announce(&with(leecher(1, p), AnnounceEvent::Stopped), 1, &mut out);
    }
    for p in [2, 4, 5] {
        s.announce(&seeder(1, p), 1, &mut out);
    }
    for p in [3, 6, 9] {
        s.announce(&leecher(1, p), 1, &mut out);
    }
    // Every remaining peer is still found at its own record.
    let (mut seeders, mut leechers) = (0, 0);
    for p in (0..50).filter(|p| ![0, 1, 25, 26, 48, 49, 12].contains(p)) {
        let is_seeder = [2, 4, 5].contains(&p) || (p % 3 == 0 && ![3, 6, 9].contains(&p));
        let a = if is_seeder { seeder(1, p) } else { leecher(1, p) };
        let o = s.announce(&a, 2, &mut out);
        assert_eq!(o.previous, Some(a.transfer.into()), "{p}");
        if is_seeder { seeders += 1 } else { leechers += 1 }
    }
    let stats = s.scrape(&hash(1));
    assert_eq!((stats.complete, stats.incomplete), (seeders, leechers));
    assert_eq!(
        s.totals(),
        Totals {
            torrents: 1,
            seeders: seeders as usize,
            leechers: leechers as usize
        }
    );
}

#[test]
fn scrape_reports_the_counts() {
    let s = store();
    let mut out = Vec::new();
    assert_eq!(s.scrape(&hash(9)), ScrapeStats::default());
    s.announce(&leecher(9, 1), 0, &mut out);
    s.announce(&leecher(9, 2), 0, &mut out);
    s.announce(&seeder(9, 3), 0, &mut out);
    s.announce(&with(seeder(9, 1), AnnounceEvent::Completed), 0, &mut out);
    assert_eq!(
        s.scrape(&hash(9)),
        ScrapeStats {
            complete: 2,
            downloaded: 1,
            incomplete: 1
        }
    );
}

#[test]
fn swarms_are_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Swarms>();
    assert!(format!("{:?}", store()).contains("shards: 4"));
}
