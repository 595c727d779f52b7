//! Tokens, the peer store, and lookups over a simulated network of tables.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use dht::table::K;
use dht::token::{ROTATE, TOKEN_LEN};
use dht::{CompactNode, Heard, Lookup, PeerStore, StoreLimits, Table, Tokens};
use ids::{InfoHash, NodeId};

#[test]
fn tokens_live_for_two_rotations_and_bind_the_ip() {
    let t0 = Instant::now();
    let mut t = Tokens::new(t0, [1; 32]);
    let ip = "192.0.2.1".parse().unwrap();
    let tok = t.issue(ip);
    assert_eq!(tok.len(), TOKEN_LEN);
    assert!(t.check(ip, &tok));
    assert!(!t.check("192.0.2.2".parse().unwrap(), &tok), "bound to the IP");
    assert!(!t.check(ip, &tok[..4]));
    t.tick(t0 + ROTATE, [2; 16]);
    assert!(t.check(ip, &tok), "the previous secret still counts");
    t.tick(t0 + 2 * ROTATE, [3; 16]);
    assert!(!t.check(ip, &tok), "two rotations later it is gone");
}

#[test]
fn the_store_is_capped_and_expires() {
    let t0 = Instant::now();
    let limits = StoreLimits {
        per_torrent: 3,
        torrents: 2,
        total: 5,
    };
    let mut s = PeerStore::new(limits);
    let h = |b| InfoHash([b; 20]);
    let p = |i: u16| SocketAddr::from(([10, 0, 0, 1], i));
    for i in 0..10 {
        s.announce(h(1), p(i), t0 + Duration::from_secs(u64::from(i)));
    }
    assert_eq!(s.get(&h(1), true, 10, t0, 0).len(), 3, "per torrent");
    s.announce(h(2), p(1), t0);
    s.announce(h(3), p(1), t0 + Duration::from_secs(20));
    assert_eq!(s.torrents(), 2, "torrents");
    assert!(s.len() <= 5);
    assert!(
        s.get(&h(1), false, 10, t0, 0).is_empty(),
        "IPv6 asked, only IPv4 stored"
    );
    assert_eq!(s.sample(10, 0).len(), 2);
    s.expire(t0 + Duration::from_secs(3 * 3600));
    assert!(s.is_empty());
}

/// A network of `n` tables that know each other at random; lookups walk it by calling the
/// tables directly (what the UDP driver will do over sockets).
struct Net {
    ids: Vec<NodeId>,
    tables: Vec<Table>,
    by_addr: HashMap<SocketAddr, usize>,
}

fn addr(i: usize) -> SocketAddr {
    SocketAddr::from(([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 6881))
}

impl Net {
    fn new(n: usize, now: Instant) -> Self {
        let mut rng = rng::Rng::seeded(7);
        let ids: Vec<NodeId> = (0..n)
            .map(|_| {
                let mut b = [0u8; 20];
                rng.fill(&mut b);
                NodeId(b)
            })
            .collect();
        let mut tables: Vec<Table> = ids.iter().map(|id| Table::new(*id, now)).collect();
        // Each node learns 64 random others, as a bootstrap would give it.
        for (i, t) in tables.iter_mut().enumerate() {
            for _ in 0..64 {
                let j = rng.below(n);
                if j != i {
                    t.heard(ids[j], addr(j), Heard::Replied, now);
                }
            }
        }
        let by_addr = (0..n).map(|i| (addr(i), i)).collect();
        let mut net = Self { ids, tables, by_addr };
        // Then each looks itself up, as a node does when it joins: that fills its near buckets.
        for i in 0..n {
            let own = net.ids[i];
            net.lookup(i, own, now);
        }
        net
    }

    /// Runs a lookup from node `from`; returns (queries, the closest found).
    fn lookup(&mut self, from: usize, target: NodeId, now: Instant) -> (usize, Vec<NodeId>) {
        let seeds: Vec<_> = self.tables[from]
            .closest(&target, K, now)
            .into_iter()
            .map(|n| (Some(n.id), n.addr))
            .collect();
        let mut l = Lookup::new(target, &seeds, 5, K, Duration::from_secs(2));
        loop {
            let asked = l.next(now);
            if asked.is_empty() {
                break;
            }
            for a in asked {
                let j = self.by_addr[&a];
                let nodes: Vec<CompactNode> = self.tables[j]
                    .closest(&target, K, now)
                    .into_iter()
                    .map(|n| CompactNode {
                        id: n.id,
                        addr: n.addr,
                    })
                    .collect();
                self.tables[j].heard(self.ids[from], addr(from), Heard::Queried, now);
                // A node learns every node that answers it.
                self.tables[from].heard(self.ids[j], a, Heard::Replied, now);
                l.replied(a, self.ids[j], &nodes, &[], Some(vec![1]));
            }
        }
        (l.queries(), l.closest().into_iter().map(|c| c.0).collect())
    }
}

#[test]
fn lookups_find_the_true_closest_nodes() {
    let now = Instant::now();
    let mut net = Net::new(2_000, now);
    let mut rng = rng::Rng::seeded(11);
    let (mut exact, mut queries) = (0, Vec::new());
    let runs = 50;
    for _ in 0..runs {
        let mut t = [0u8; 20];
        rng.fill(&mut t);
        let target = NodeId(t);
        let (q, found) = net.lookup(rng.below(2_000), target, now);
        let mut truth = net.ids.clone();
        truth.sort_by_key(|id| id.distance(&target));
        exact += usize::from(found == truth[..K]);
        queries.push(q);
    }
    queries.sort_unstable();
    let median = queries[runs / 2];
    println!(
        "{exact} of {runs} lookups exact; queries: median {median}, max {}",
        queries[runs - 1]
    );
    assert!(
        exact * 100 >= runs * 95,
        "{exact} of {runs} lookups found the true closest {K}"
    );
    assert!(median < 60, "median {median} queries");
}
