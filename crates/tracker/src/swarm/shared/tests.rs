//! The shared store against a real Redis (`NEXSUJ_TEST_REDIS`, e.g. redis://127.0.0.1:6379;
//! `.ci/run` starts one), each test under a prefix of its own.

use std::net::SocketAddr;
use std::sync::Arc;

use ids::{InfoHash, PeerId};
use tracker_proto::common::{AnnounceEvent, Transfer};

use super::*;
use crate::swarm::{SwarmConfig, Swarms};

pub(super) fn redis_url() -> Option<String> {
    let url = std::env::var("NEXSUJ_TEST_REDIS").ok();
    if url.is_none() {
        eprintln!("skipped: NEXSUJ_TEST_REDIS not set");
    }
    url
}

fn store(url: &str, prefix: &str, min_credit: u32) -> SharedSwarms {
    let config = SharedConfig {
        url: url.into(),
        prefix: prefix.into(),
        // 10,000 announces queued at once on a debug build: generous.
        timeout_ms: 20_000,
        ..SharedConfig::default()
    };
    SharedSwarms::new(&config, 1800, min_credit).unwrap()
}

pub(super) fn prefix(test: &str) -> String {
    format!(
        "nexsuj-test:{test}:{}",
        u64::from_le_bytes(rng::os_bytes().unwrap())
    )
}

fn announce(n: u8, left: u64, event: AnnounceEvent) -> Announce {
    Announce {
        info_hash: InfoHash([0xab; 20]),
        peer_id: PeerId([n; 20]),
        addr: SocketAddr::from(([10, 0, 0, n], 6881)),
        transfer: Transfer {
            uploaded: u64::from(n) * 1000,
            downloaded: 5,
            left,
        },
        event,
        numwant: 50,
    }
}

#[tokio::test]
async fn a_swarm_lives_and_empties_as_in_memory() {
    let Some(url) = redis_url() else { return };
    let s = store(&url, &prefix("life"), 0);
    let mut peers = Vec::new();
    let seeder = announce(1, 0, AnnounceEvent::Started);
    let o = s.announce(&seeder, false, &mut peers).await.unwrap();
    assert_eq!((o.complete, o.incomplete, o.previous), (1, 0, None));
    assert!(peers.is_empty());
    let leecher = announce(2, 100, AnnounceEvent::Started);
    let o = s.announce(&leecher, false, &mut peers).await.unwrap();
    assert_eq!((o.complete, o.incomplete), (1, 1));
    assert_eq!(peers.iter().map(|p| p.addr).collect::<Vec<_>>(), [seeder.addr]);
    // The same peer again: its previous counters come back.
    peers.clear();
    let again = Announce {
        transfer: Transfer {
            uploaded: 7777,
            ..leecher.transfer
        },
        event: AnnounceEvent::None,
        ..leecher
    };
    let o = s.announce(&again, false, &mut peers).await.unwrap();
    assert_eq!(
        o.previous,
        Some(Traffic {
            uploaded: 2000,
            downloaded: 5
        })
    );
    assert!(!o.early);
    // Completing moves it to the seeders and counts once, however often it says so.
    for _ in 0..2 {
        let done = Announce {
            transfer: Transfer {
                left: 0,
                ..again.transfer
            },
            event: AnnounceEvent::Completed,
            ..again
        };
        let o = s.announce(&done, false, &mut peers).await.unwrap();
        assert_eq!((o.complete, o.incomplete), (2, 0));
    }
    let stats = s.scrape(&seeder.info_hash).await.unwrap();
    assert_eq!((stats.complete, stats.incomplete, stats.downloaded), (2, 0, 1));
    // Another peer id naming the seeder's address may not take its record.
    let squatter = Announce {
        peer_id: PeerId([9; 20]),
        ..seeder
    };
    let o = s.announce(&squatter, true, &mut peers).await.unwrap();
    assert_eq!(o.turned, Some(Turned::AddressTaken));
    // Both stop: the swarm empties, the completed count stays.
    for a in [seeder, leecher] {
        let stop = Announce {
            event: AnnounceEvent::Stopped,
            ..a
        };
        peers.clear();
        s.announce(&stop, false, &mut peers).await.unwrap();
        assert!(peers.is_empty());
    }
    let stats = s.scrape(&seeder.info_hash).await.unwrap();
    assert_eq!((stats.complete, stats.incomplete, stats.downloaded), (0, 0, 1));
    assert_eq!(s.sweep(&seeder.info_hash).await.unwrap(), [0, 0, 0]);
    s.forget(&seeder.info_hash).await.unwrap();
    assert_eq!(s.scrape(&seeder.info_hash).await.unwrap().downloaded, 0);
}

#[tokio::test]
async fn early_announces_keep_the_baseline() {
    let Some(url) = redis_url() else { return };
    let s = store(&url, &prefix("early"), 900);
    let mut peers = Vec::new();
    let first = announce(3, 10, AnnounceEvent::Started);
    s.announce(&first, false, &mut peers).await.unwrap();
    let soon = Announce {
        transfer: Transfer {
            uploaded: 99_999,
            ..first.transfer
        },
        event: AnnounceEvent::None,
        ..first
    };
    let o = s.announce(&soon, false, &mut peers).await.unwrap();
    assert!(o.early);
    assert_eq!(o.previous.unwrap().uploaded, 3000);
    // The baseline is still the first announce's.
    let o = s.announce(&soon, false, &mut peers).await.unwrap();
    assert_eq!(o.previous.unwrap().uploaded, 3000);
    // An event always counts and moves the baseline.
    let done = Announce {
        event: AnnounceEvent::Completed,
        ..soon
    };
    let o = s.announce(&done, false, &mut peers).await.unwrap();
    assert!(!o.early);
    let o = s.announce(&soon, false, &mut peers).await.unwrap();
    assert_eq!(o.previous.unwrap().uploaded, 99_999);
}

/// A cheap deterministic generator for the random walk below.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[tokio::test]
async fn random_announces_agree_with_the_in_memory_store() {
    let Some(url) = redis_url() else { return };
    let shared = store(&url, &prefix("model"), 0);
    let memory = Swarms::new(SwarmConfig::default());
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for step in 0..2000 {
        let r = next(&mut state);
        let n = (r % 24) as u8 + 1;
        let event = match (r >> 8) % 8 {
            0 => AnnounceEvent::Stopped,
            1 => AnnounceEvent::Completed,
            2 => AnnounceEvent::Started,
            _ => AnnounceEvent::None,
        };
        let left = if (r >> 16) % 3 == 0 { 0 } else { 100 };
        let mut ann = announce(n, left, event);
        ann.info_hash = InfoHash([((r >> 24) % 3) as u8; 20]);
        // A restarted client: same address, new peer id.
        if (r >> 32) % 10 == 0 {
            ann.peer_id = PeerId([n.wrapping_add(100); 20]);
        }
        ann.numwant = ((r >> 40) % 30) as usize;
        let named = (r >> 48) % 7 == 0;
        a.clear();
        b.clear();
        let want = if named {
            memory.announce_named(&ann, 0, &mut a)
        } else {
            memory.announce(&ann, 0, &mut a)
        };
        let got = shared.announce(&ann, named, &mut b).await.unwrap();
        let key = |o: &AnnounceOutcome| (o.complete, o.incomplete, o.previous, o.turned);
        assert_eq!(key(&got), key(&want), "step {step}: {ann:?} named {named}");
        assert_eq!(b.len(), a.len(), "step {step}: reply size");
        assert!(
            !b.iter().any(|p| p.addr == ann.addr),
            "step {step}: the announcer itself"
        );
        let mut distinct: Vec<_> = b.iter().map(|p| p.addr).collect();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), b.len(), "step {step}: a peer twice");
    }
    for t in 0..3u8 {
        let h = InfoHash([t; 20]);
        assert_eq!(shared.scrape(&h).await.unwrap(), memory.scrape(&h), "torrent {t}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_announces_from_three_instances_count_exactly() {
    let Some(url) = redis_url() else { return };
    let prefix = prefix("concurrent");
    let instances: Vec<Arc<SharedSwarms>> = (0..3).map(|_| Arc::new(store(&url, &prefix, 0))).collect();
    // 10,000 peers start (every third a seeder), then every fifth stops and every seventh
    // leecher completes, all at once from three connections.
    let peer = |i: u32, event, left| Announce {
        info_hash: InfoHash([0x5a; 20]),
        peer_id: PeerId({
            let mut id = [0u8; 20];
            id[..4].copy_from_slice(&i.to_be_bytes());
            id
        }),
        addr: SocketAddr::from(([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 6881)),
        transfer: Transfer {
            left,
            ..Transfer::default()
        },
        event,
        numwant: 30,
    };
    let seeds = |i: u32| i % 3 == 0;
    let run = |phase: u32| {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..10_000u32 {
            let s = instances[i as usize % 3].clone();
            let a = match phase {
                0 => peer(i, AnnounceEvent::Started, if seeds(i) { 0 } else { 10 }),
                _ if i % 5 == 0 => peer(i, AnnounceEvent::Stopped, 10),
                _ if !seeds(i) && i % 7 == 0 => peer(i, AnnounceEvent::Completed, 0),
                _ => peer(i, AnnounceEvent::None, if seeds(i) { 0 } else { 10 }),
            };
            tasks.spawn(async move {
                let mut out = Vec::new();
                s.announce(&a, false, &mut out).await.unwrap();
                out.len()
            });
        }
        tasks
    };
    for phase in 0..2 {
        let mut tasks = run(phase);
        while let Some(n) = tasks.join_next().await {
            assert!(n.unwrap() <= 30);
        }
    }
    let (mut seeders, mut leechers, mut completed) = (0, 0, 0);
    for i in 0..10_000u32 {
        if i % 5 == 0 {
            continue;
        }
        if seeds(i) || i % 7 == 0 {
            seeders += 1;
        } else {
            leechers += 1;
        }
        completed += u32::from(!seeds(i) && i % 7 == 0);
    }
    let stats = instances[1].scrape(&InfoHash([0x5a; 20])).await.unwrap();
    assert_eq!(
        (stats.complete, stats.incomplete, stats.downloaded),
        (seeders, leechers, completed)
    );
    instances[0].forget(&InfoHash([0x5a; 20])).await.unwrap();
}

#[tokio::test]
async fn an_unreachable_redis_is_an_error_not_an_empty_swarm() {
    // Nothing listens on port 1.
    let s = store("redis://127.0.0.1:1", "x", 0);
    let mut peers = Vec::new();
    let err = s
        .announce(&announce(1, 0, AnnounceEvent::Started), false, &mut peers)
        .await
        .unwrap_err();
    assert!(matches!(err, SharedError::Redis(_)), "{err}");
    assert!(matches!(
        SharedSwarms::new(
            &SharedConfig {
                url: "http://x".into(),
                ..SharedConfig::default()
            },
            1,
            0
        ),
        Err(SharedUrlError::Scheme(_))
    ));
}

#[test]
fn passwords_stay_out_of_url_errors() {
    let e = SharedSwarms::new(
        &SharedConfig {
            url: "rediss://u:hunter2@h:1".into(),
            ..SharedConfig::default()
        },
        1,
        0,
    )
    .unwrap_err();
    assert!(!e.to_string().contains("hunter2"), "{e}");
    assert_eq!(connection::redacted("redis://:pw@h:1/0"), "redis://:***@h:1/0");
    assert_eq!(connection::redacted("redis://tok@h:1"), "redis://***@h:1");
    assert_eq!(
        connection::redacted("redis+cluster://a:1,u:pw@b:2"),
        "redis+cluster://a:1,u:***@b:2"
    );
}

#[test]
fn addresses_round_trip() {
    for a in ["1.2.3.4:5", "[2001:db8::1]:65535"] {
        let a: SocketAddr = a.parse().unwrap();
        assert_eq!(decode_addr(&encode_addr(a)), Some(a));
    }
    assert_eq!(decode_addr(b"short"), None);
}
