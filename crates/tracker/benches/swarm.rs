//! The swarm store on one core: announces per second in the two shapes a public tracker sees.
//!
//! - `swarm/re-announce, 100k torrents x 10 peers`: the steady state of a big tracker, known
//!   peers re-announcing at random over 1M records (every lookup a cache miss);
//! - `swarm/re-announce, 1k torrents x 200 peers`: big swarms, where every reply is a random
//!   window of 50 out of 200;
//! - `swarm/first announce (insert)`: new peers joining fresh swarms.
//!
//! Run with `cargo bench -p nexsuj-tracker --bench swarm`. The UDP and HTTP servers as a whole,
//! against aquatic and opentracker, are measured by `bench/tracker-*.sh`.

use std::hint::black_box;
use std::net::SocketAddr;

use criterion::{BatchSize, Criterion, Throughput};
use ids::{InfoHash, PeerId};
use rng::Rng;
use tracker::swarm::{Announce, SwarmConfig, Swarms};
use tracker_proto::common::{AnnounceEvent, ResponsePeer, Transfer};

/// Torrent `t`'s info-hash: its first bytes vary, so torrents spread over the shards.
fn hash(t: u32) -> InfoHash {
    let mut h = [0x5a; 20];
    h[..4].copy_from_slice(&t.wrapping_mul(0x9E37_79B9).to_le_bytes());
    h[16..].copy_from_slice(&t.to_le_bytes());
    InfoHash(h)
}

/// Peer `p` of torrent `t` out of `per` a torrent; about a third of them seed.
fn announce(t: u32, p: u32, per: u32, event: AnnounceEvent) -> Announce {
    let n = t.wrapping_mul(per).wrapping_add(p);
    let mut id = *b"-NX0001-000000000000";
    id[16..].copy_from_slice(&n.to_be_bytes());
    Announce {
        info_hash: hash(t),
        peer_id: PeerId(id),
        addr: SocketAddr::from((n.to_be_bytes(), 6881 + (n % 7) as u16)),
        transfer: Transfer {
            uploaded: u64::from(n),
            downloaded: 10,
            left: if p % 3 == 0 { 0 } else { 100 },
        },
        event,
        numwant: 50,
    }
}

/// A store holding `torrents` x `per` peers.
fn filled(torrents: u32, per: u32) -> Swarms {
    let store = Swarms::new(SwarmConfig::default());
    let mut out = Vec::with_capacity(64);
    for i in 0..torrents * per {
        out.clear();
        store.announce(
            &announce(i % torrents, i / torrents, per, AnnounceEvent::Started),
            0,
            &mut out,
        );
    }
    store
}

fn re_announces(c: &mut Criterion, torrents: u32, per: u32) {
    let store = filled(torrents, per);
    let mut rng = Rng::seeded(42);
    let mut out: Vec<ResponsePeer> = Vec::with_capacity(64);
    let mut group = c.benchmark_group("swarm");
    group.throughput(Throughput::Elements(1));
    group.bench_function(format!("re-announce, {torrents} torrents x {per} peers"), |b| {
        b.iter(|| {
            let t = rng.below(torrents as usize) as u32;
            let p = rng.below(per as usize) as u32;
            out.clear();
            let a = announce(t, p, per, AnnounceEvent::None);
            black_box(store.announce(&a, 1, &mut out));
        })
    });
    group.finish();
}

fn inserts(c: &mut Criterion) {
    const BATCH: u32 = 100_000;
    let mut out: Vec<ResponsePeer> = Vec::with_capacity(64);
    let mut group = c.benchmark_group("swarm");
    group.throughput(Throughput::Elements(u64::from(BATCH)));
    group.sample_size(10);
    group.bench_function("first announce (insert), 100k peers into 10k torrents", |b| {
        b.iter_batched(
            || Swarms::new(SwarmConfig::default()),
            |store| {
                for i in 0..BATCH {
                    out.clear();
                    let a = announce(i % 10_000, i / 10_000, 10, AnnounceEvent::Started);
                    black_box(store.announce(&a, 0, &mut out));
                }
                store
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    re_announces(&mut c, 100_000, 10);
    re_announces(&mut c, 1_000, 200);
    inserts(&mut c);
    c.final_summary();
}
