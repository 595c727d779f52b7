//! Peers leaving: expiry with a fake clock, empty swarms freed, the address index switching
//! on and off with the swarm's size, totals.

use tracker_proto::common::{AnnounceEvent, ScrapeStats};

use super::super::select::Rng;
use super::super::torrent::{Admission, Swarm};
use super::super::{SwarmConfig, Swarms, Totals};
use super::*;

#[test]
fn empty_swarms_are_freed() {
    let s = store();
    let mut out = Vec::new();
    s.announce(&leecher(1, 1), 0, &mut out);
    s.announce(&seeder(1, 2), 0, &mut out);
    s.announce(&leecher(2, 1), 0, &mut out);
    assert_eq!(s.totals().torrents, 2);
    s.announce(&with(leecher(1, 1), AnnounceEvent::Stopped), 1, &mut out);
    s.announce(&with(seeder(1, 2), AnnounceEvent::Stopped), 1, &mut out);
    assert_eq!(
        s.totals(),
        Totals {
            torrents: 1,
            seeders: 0,
            leechers: 1
        }
    );
    assert_eq!(s.scrape(&hash(1)), ScrapeStats::default());
}

#[test]
fn expiry_follows_the_clock() {
    let s = Swarms::new(SwarmConfig {
        shards: 2,
        peer_timeout_secs: 100,
        ..SwarmConfig::default()
    });
    let mut out = Vec::new();
    s.announce(&leecher(1, 1), 0, &mut out);
    s.announce(&seeder(1, 2), 50, &mut out);
    s.announce(&leecher(2, 3), 10, &mut out);
    s.announce(&leecher(1, 4), 0, &mut out);
    s.announce(&leecher(1, 4), 60, &mut out); // refreshed
    assert_eq!(s.expire(99), 0);
    assert_eq!(s.expire(100), 1); // peer 1
    assert_eq!(
        s.totals(),
        Totals {
            torrents: 2,
            seeders: 1,
            leechers: 2
        }
    );
    assert_eq!(s.expire(110), 1); // peer 3, and torrent 2 with it
    assert_eq!(
        s.totals(),
        Totals {
            torrents: 1,
            seeders: 1,
            leechers: 1
        }
    );
    assert_eq!(s.scrape(&hash(2)), ScrapeStats::default());
    // A clock that went backwards (another worker's `now`) expires nothing.
    assert_eq!(s.expire(5), 0);
    assert_eq!(s.expire(160), 2);
    assert_eq!(s.totals(), Totals::default());
}

#[test]
fn expiry_of_many_peers_keeps_the_index_right() {
    let s = Swarms::new(SwarmConfig {
        shards: 1,
        peer_timeout_secs: 10,
        ..SwarmConfig::default()
    });
    let mut out = Vec::new();
    for p in 0..200 {
        let a = if p % 2 == 0 { seeder(1, p) } else { leecher(1, p) };
        s.announce(&a, p % 20, &mut out);
    }
    // Peers announced at 0..=9 go; 10..=19 stay.
    assert_eq!(s.expire(19), 100);
    for p in (0..200).filter(|p| p % 20 >= 10) {
        let a = if p % 2 == 0 { seeder(1, p) } else { leecher(1, p) };
        assert_eq!(
            s.announce(&a, 21, &mut out).previous,
            Some(a.transfer.into()),
            "{p}"
        );
    }
    assert_eq!(
        s.totals(),
        Totals {
            torrents: 1,
            seeders: 50,
            leechers: 50
        }
    );
}

#[test]
fn totals_sum_every_shard() {
    let s = Swarms::new(SwarmConfig {
        shards: 0,
        ..SwarmConfig::default()
    }); // treated as 1
    let s64 = Swarms::new(SwarmConfig::default());
    let mut out = Vec::new();
    for store in [&s, &s64] {
        for t in 0..300 {
            store.announce(&seeder(t, 1), 0, &mut out);
            store.announce(&leecher(t, 2), 0, &mut out);
            store.announce(&leecher(t, 1001), 0, &mut out);
        }
        assert_eq!(
            store.totals(),
            Totals {
                torrents: 300,
                seeders: 300,
                leechers: 600
            }
        );
    }
}

#[test]
fn the_index_is_built_and_dropped_as_the_swarm_grows_and_shrinks() {
    let mut swarm = Swarm::new();
    let hasher = std::hash::RandomState::new();
    let mut rng = Rng::seeded(5);
    let mut out = Vec::new();
    let kind = |p: u32| if p % 3 == 0 { seeder(1, p) } else { leecher(1, p) };
    let (mut check_rng, mut check_out) = (Rng::seeded(6), Vec::new());
    // Re-announces `live[from..]` (each must be found at its own record), then checks counts.
    let mut check = |swarm: &mut Swarm, live: &[u32], from: usize, now: u32| {
        for &p in &live[from..] {
            let o = swarm.announce(&kind(p), now, any(), (&mut check_rng, &hasher), &mut check_out);
            assert_eq!(o.previous, Some(kind(p).transfer.into()), "{p}");
        }
        let seeders = live.iter().filter(|p| *p % 3 == 0).count();
        assert_eq!(
            (swarm.seeders(), swarm.leechers()),
            (seeders, live.len() - seeders)
        );
    };
    let mut live: Vec<u32> = Vec::new();
    for p in 0..40 {
        swarm.announce(&kind(p), 0, any(), (&mut rng, &hasher), &mut out);
        live.push(p);
        assert_eq!(swarm.is_indexed(), live.len() > 16, "{p}");
        check(&mut swarm, &live, 0, 0);
    }
    // Shrink by stops from the front, then grow again.
    while live.len() > 3 {
        let p = live.remove(0);
        swarm.announce(
            &with(kind(p), AnnounceEvent::Stopped),
            1,
            any(),
            (&mut rng, &hasher),
            &mut out,
        );
        assert_eq!(swarm.is_indexed(), live.len() >= 8, "{p}");
        check(&mut swarm, &live, 0, 1);
    }
    for p in 100..120 {
        swarm.announce(&kind(p), 500, any(), (&mut rng, &hasher), &mut out);
        live.push(p);
        check(&mut swarm, &live, 3, 500); // 3 old peers: not refreshed
    }
    assert!(swarm.is_indexed());
    // Expiry of a few keeps the index; expiry of all drops it on the way down.
    let dropped = swarm.expire(1000, 999, &hasher, &mut |_| ());
    assert_eq!((dropped.seeders, dropped.leechers), (1, 2)); // 37, 38, 39
    assert!(swarm.is_indexed());
    live.retain(|p| *p >= 100);
    check(&mut swarm, &live, 0, 1000);
    let dropped = swarm.expire(2000, 999, &hasher, &mut |_| ());
    assert_eq!((dropped.seeders, dropped.leechers), (6, 14));
    assert!(swarm.is_empty() && !swarm.is_indexed());
}

#[test]
fn downloaded_survives_an_empty_swarm_and_the_oldest_counts_go_first() {
    let s = Swarms::new(SwarmConfig {
        shards: 1,
        retired_counts: 2,
        ..SwarmConfig::default()
    });
    let mut out = Vec::new();
    for t in 1..=3 {
        s.announce(&with(seeder(t, 1), AnnounceEvent::Completed), 0, &mut out);
        s.announce(&with(seeder(t, 1), AnnounceEvent::Stopped), 1, &mut out);
    }
    assert_eq!(s.totals().torrents, 0);
    // Torrent 1 was retired first and evicted when torrent 3 came in.
    assert_eq!(s.scrape(&hash(1)).downloaded, 0);
    assert_eq!(s.scrape(&hash(3)).downloaded, 1);
    // A swarm that starts again carries its count on; expiry retires it like a stop.
    s.announce(&with(leecher(3, 2), AnnounceEvent::Completed), 5, &mut out);
    assert_eq!(s.scrape(&hash(3)).downloaded, 2);
    assert_eq!(s.expire(5 + 1800), 1);
    assert_eq!(
        s.scrape(&hash(3)),
        ScrapeStats {
            complete: 0,
            downloaded: 2,
            incomplete: 0
        }
    );
}

/// No store limits: the swarm's own rules only.
fn any() -> Admission<'static> {
    fn yes() -> bool {
        true
    }
    Admission {
        named: false,
        admit_new: &yes,
        min_credit_interval: 0,
    }
}
