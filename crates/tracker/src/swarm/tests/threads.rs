//! Several workers announcing at once into one store.

use std::thread;

use tracker_proto::common::{AnnounceEvent, ScrapeStats};

use super::super::{SwarmConfig, Swarms, Totals};
use super::*;

const THREADS: u32 = 4;
const ANNOUNCES: u32 = 10_000;
const TORRENTS: u32 = 100;

#[test]
fn four_threads_announcing_agree_on_the_totals() {
    let store = Swarms::new(SwarmConfig {
        shards: 8,
        ..SwarmConfig::default()
    });
    thread::scope(|scope| {
        for t in 0..THREADS {
            let store = &store;
            scope.spawn(move || {
                let mut out = Vec::new();
                for i in 0..ANNOUNCES {
                    // Each thread has its own 20 peers per torrent, each announcing 5 times;
                    // peers 0..5 seed, 5..15 leech, 15..20 stop at their last announce.
                    let torrent = i % TORRENTS;
                    let n = (i / TORRENTS) % 20;
                    let last = i / TORRENTS / 20 == ANNOUNCES / TORRENTS / 20 - 1;
                    let peer = t * 1000 + n;
                    let mut a = if n < 5 {
                        seeder(torrent, peer)
                    } else {
                        leecher(torrent, peer)
                    };
                    if n >= 15 && last {
                        a.event = AnnounceEvent::Stopped;
                    }
                    out.clear();
                    let o = store.announce(&a, i / 1000, &mut out);
                    assert!(out.len() <= a.numwant);
                    assert!(!out.iter().any(|p| p.addr == a.addr));
                    assert!(o.complete + o.incomplete <= THREADS * 20);
                }
            });
        }
    });
    let per_torrent = ScrapeStats {
        complete: THREADS * 5,
        downloaded: 0,
        incomplete: THREADS * 10,
    };
    for torrent in 0..TORRENTS {
        assert_eq!(store.scrape(&hash(torrent)), per_torrent, "{torrent}");
    }
    let torrents = TORRENTS as usize;
    let want = Totals {
        torrents,
        seeders: torrents * 20,
        leechers: torrents * 40,
    };
    assert_eq!(store.totals(), want);
    assert_eq!(store.expire(u32::MAX), torrents * 60);
    assert_eq!(store.totals(), Totals::default());
}
