//! A quick speed check, run by hand:
//! `cargo test --release -p nexsuj-tracker -- --ignored --nocapture speed`.
//!
//! It prints rates and asserts nothing about them (timings vary from machine to machine).

use std::time::Instant;

use tracker_proto::common::AnnounceEvent;

use super::super::select::Rng;
use super::super::{SwarmConfig, Swarms};
use super::*;

const TORRENTS: u32 = 100_000;
const PEERS: u32 = 10;
const ANNOUNCES: u32 = 1_000_000;

fn announce(torrent: u32, p: u32) -> Announce {
    // Peer numbers unique per torrent; about a third of the peers seed.
    let peer = torrent.wrapping_mul(PEERS) + p;
    let a = if p % 3 == 0 {
        seeder(torrent, peer)
    } else {
        leecher(torrent, peer)
    };
    Announce { numwant: 50, ..a }
}

#[test]
#[ignore = "a speed check to run by hand in release mode"]
fn speed_of_one_million_announces() {
    let store = Swarms::new(SwarmConfig::default());
    let mut out = Vec::with_capacity(64);
    let mut rng = Rng::seeded(42);
    let mut returned = 0usize;

    // 1M new peers: 10 per torrent over 100k torrents. Consecutive torrent numbers have
    // unrelated info-hashes, so this order already hits the maps at random places.
    let start = Instant::now();
    for i in 0..ANNOUNCES {
        out.clear();
        let a = with(announce(i % TORRENTS, i / TORRENTS), AnnounceEvent::Started);
        store.announce(&a, 0, &mut out);
        returned += out.len();
    }
    report("first announces (inserts)", start);
    let totals = store.totals();
    println!("  {totals:?}, {returned} peers returned");

    // 1M re-announces of known peers at random: the steady state of a tracker.
    returned = 0;
    let start = Instant::now();
    for i in 0..ANNOUNCES {
        let torrent = rng.below(TORRENTS as usize) as u32;
        let p = rng.below(PEERS as usize) as u32;
        out.clear();
        store.announce(&announce(torrent, p), 1 + i / 100_000, &mut out);
        returned += out.len();
    }
    report("re-announces (updates)", start);
    println!("  {:?}, {returned} peers returned", store.totals());

    let start = Instant::now();
    let dropped = store.expire(u32::MAX);
    println!(
        "expire of {dropped} peers: {:.1} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
}

#[test]
#[ignore = "a speed check to run by hand in release mode"]
fn speed_of_announces_into_big_swarms() {
    // 1,000 torrents of 200 peers: every swarm is indexed and every reply is a random window.
    const BIG: u32 = 200;
    let store = Swarms::new(SwarmConfig::default());
    let mut out = Vec::with_capacity(64);
    let mut rng = Rng::seeded(7);
    let big = |torrent: u32, p: u32| {
        let peer = torrent * BIG + p;
        let a = if p % 3 == 0 {
            seeder(torrent, peer)
        } else {
            leecher(torrent, peer)
        };
        Announce { numwant: 50, ..a }
    };
    for i in 0..1000 * BIG {
        store.announce(&big(i % 1000, i / 1000), 0, &mut out);
        out.clear();
    }
    let mut returned = 0usize;
    let start = Instant::now();
    for _ in 0..ANNOUNCES {
        let (torrent, p) = (rng.below(1000) as u32, rng.below(BIG as usize) as u32);
        out.clear();
        store.announce(&big(torrent, p), 1, &mut out);
        returned += out.len();
    }
    report("re-announces into 200-peer swarms", start);
    println!("  {:?}, {returned} peers returned", store.totals());
}

fn report(what: &str, start: Instant) {
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{what}: {ANNOUNCES} in {secs:.3} s = {:.0} announces/s",
        f64::from(ANNOUNCES) / secs
    );
}
