//! A property test: random announces, stops and expiries against a plain reference model.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use tracker_proto::common::{AnnounceEvent, ResponsePeer, ScrapeStats, Transfer};

use super::super::{AnnounceOutcome, SwarmConfig, Swarms, Totals};
use super::*;

const TIMEOUT: u32 = 600;
const TORRENTS: u32 = 3;

#[derive(Debug, Clone)]
enum Op {
    Announce {
        torrent: u32,
        peer: u32,
        id: u32,
        seeding: bool,
        event: AnnounceEvent,
        numwant: usize,
    },
    Tick(u32),
    Expire,
}

fn op() -> impl Strategy<Value = Op> {
    let event = prop_oneof![
        4 => Just(AnnounceEvent::None),
        1 => Just(AnnounceEvent::Started),
        2 => Just(AnnounceEvent::Completed),
        2 => Just(AnnounceEvent::Stopped),
    ];
    // Addresses: even numbers are IPv4, odd ones IPv6 (see `addr`). Up to 30 peers a swarm,
    // so that swarms cross the size where they build and drop their address index.
    let peer = (0..30u32).prop_map(|k| if k % 2 == 1 { 1000 + k } else { k });
    prop_oneof![
        10 => (0..TORRENTS, peer, 0..3u32, any::<bool>(), event, 0..12usize).prop_map(
            |(torrent, peer, id, seeding, event, numwant)| Op::Announce { torrent, peer, id, seeding, event, numwant }
        ),
        2 => (0..400u32).prop_map(Op::Tick),
        1 => Just(Op::Expire),
    ]
}

/// What the model keeps of a peer.
#[derive(Debug, Clone, Copy)]
struct Peer {
    id: u32,
    transfer: Transfer,
    last_seen: u32,
    completed: bool,
}

/// The reference: for each torrent, its peers by address number, and its downloads.
#[derive(Debug, Default)]
struct Model {
    torrents: HashMap<u32, (HashMap<u32, Peer>, u32)>,
    /// `downloaded` of torrents whose swarm emptied (scrape still reports it).
    retired: HashMap<u32, u32>,
}

impl Model {
    /// The rules, written the obvious way. Returns the outcome and the candidates for peers.
    fn announce(
        &mut self,
        a: &Announce,
        torrent: u32,
        peer: u32,
        id: u32,
        now: u32,
    ) -> (AnnounceOutcome, Vec<u32>) {
        let stopped = a.event == AnnounceEvent::Stopped;
        if stopped && !self.torrents.contains_key(&torrent) {
            return (AnnounceOutcome::default(), Vec::new());
        }
        let retired = &mut self.retired;
        let (peers, downloaded) = self
            .torrents
            .entry(torrent)
            .or_insert_with(|| (HashMap::new(), retired.remove(&torrent).unwrap_or(0)));
        let old = peers.get(&peer).copied();
        let previous = old.filter(|o| o.id == id).map(|o| o.transfer.into());
        let elapsed = old
            .filter(|o| o.id == id)
            .map_or(0, |o| now.saturating_sub(o.last_seen));
        if stopped {
            peers.remove(&peer);
        } else {
            let was_leecher = old.is_none_or(|o| o.transfer.left > 0);
            let already = old.is_some_and(|o| o.completed);
            let counts = a.event == AnnounceEvent::Completed && was_leecher && !already;
            *downloaded += u32::from(counts);
            peers.insert(
                peer,
                Peer {
                    id,
                    transfer: a.transfer,
                    last_seen: now,
                    completed: already || counts,
                },
            );
        }
        let me_seeding = a.transfer.left == 0;
        let candidates = if stopped {
            Vec::new()
        } else {
            peers
                .iter()
                .filter(|(p, rec)| **p != peer && !(me_seeding && rec.transfer.left == 0))
                .map(|(p, _)| *p)
                .collect()
        };
        let outcome = AnnounceOutcome {
            complete: count(peers, true),
            incomplete: count(peers, false),
            previous,
            elapsed,
            early: false,
            turned: None,
        };
        if peers.is_empty() {
            let n = *downloaded;
            self.torrents.remove(&torrent);
            self.retire(torrent, n);
        }
        (outcome, candidates)
    }

    fn retire(&mut self, torrent: u32, downloaded: u32) {
        if downloaded > 0 {
            self.retired.insert(torrent, downloaded);
        }
    }

    fn expire(&mut self, now: u32) -> usize {
        let mut dropped = 0;
        for (peers, _) in self.torrents.values_mut() {
            let before = peers.len();
            peers.retain(|_, p| now.saturating_sub(p.last_seen) < TIMEOUT);
            dropped += before - peers.len();
        }
        let emptied: Vec<(u32, u32)> = self
            .torrents
            .iter()
            .filter(|(_, (peers, _))| peers.is_empty())
            .map(|(t, (_, n))| (*t, *n))
            .collect();
        for (t, n) in emptied {
            self.torrents.remove(&t);
            self.retire(t, n);
        }
        dropped
    }

    fn scrape(&self, torrent: u32) -> ScrapeStats {
        let retired = ScrapeStats {
            downloaded: self.retired.get(&torrent).copied().unwrap_or(0),
            ..ScrapeStats::default()
        };
        self.torrents
            .get(&torrent)
            .map_or(retired, |(peers, downloaded)| ScrapeStats {
                complete: count(peers, true),
                downloaded: *downloaded,
                incomplete: count(peers, false),
            })
    }

    fn totals(&self) -> Totals {
        let mut t = Totals {
            torrents: self.torrents.len(),
            ..Totals::default()
        };
        for (peers, _) in self.torrents.values() {
            t.seeders += count(peers, true) as usize;
            t.leechers += count(peers, false) as usize;
        }
        t
    }
}

fn count(peers: &HashMap<u32, Peer>, seeders: bool) -> u32 {
    peers
        .values()
        .filter(|p| (p.transfer.left == 0) == seeders)
        .count() as u32
}

/// Checks one announce's reply against the model's candidates.
fn check_peers(out: &[ResponsePeer], candidates: &[u32], numwant: usize, model: &Model, torrent: u32) {
    assert_eq!(out.len(), numwant.min(candidates.len()));
    let wanted: HashMap<SocketAddr, u32> = candidates.iter().map(|&p| (addr(p), p)).collect();
    let mut seen = HashSet::new();
    for rp in out {
        assert!(seen.insert(rp.addr), "duplicate {rp:?}");
        let p = wanted
            .get(&rp.addr)
            .unwrap_or_else(|| panic!("not a candidate: {rp:?}"));
        let id = model.torrents[&torrent].0[p].id;
        assert_eq!(rp.peer_id, Some(peer_id(id)));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn store_matches_the_model(ops in proptest::collection::vec(op(), 1..500)) {
        let store = Swarms::new(SwarmConfig { shards: 2, peer_timeout_secs: TIMEOUT, ..SwarmConfig::default() });
        let mut model = Model::default();
        let mut now = 0;
        let mut out = Vec::new();
        for op in ops {
            match op {
                Op::Announce { torrent, peer, id, seeding, event, numwant } => {
                    let transfer = Transfer { uploaded: u64::from(now), downloaded: 7, left: if seeding { 0 } else { 9 } };
                    let a = Announce { peer_id: peer_id(id), transfer, event, numwant, ..leecher(torrent, peer) };
                    out.clear();
                    let got = store.announce(&a, now, &mut out);
                    let (want, candidates) = model.announce(&a, torrent, peer, id, now);
                    prop_assert_eq!(got, want);
                    check_peers(&out, &candidates, numwant, &model, torrent);
                }
                Op::Tick(d) => now += d,
                Op::Expire => prop_assert_eq!(store.expire(now), model.expire(now)),
            }
            for t in 0..TORRENTS {
                prop_assert_eq!(store.scrape(&hash(t)), model.scrape(t));
            }
            prop_assert_eq!(store.totals(), model.totals());
        }
    }
}
