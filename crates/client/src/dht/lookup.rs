//! Lookups over the network: [`dht::Lookup`] names whom to ask, this sends the queries
//! (`alpha` at a time, each on its own task) and feeds the answers back.

use std::net::SocketAddr;

use dht::{Body, Lookup, Method};
use ids::{InfoHash, NodeId};
use tokio::task::JoinSet;
use tokio::time::Instant;

use std::sync::Arc;

use super::{Dht, QueryError, Shared};

/// What a lookup found.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// Peers of the torrent (`get_peers`).
    pub peers: Vec<SocketAddr>,
    /// The closest nodes that answered, with the tokens they gave.
    pub closest: Vec<(NodeId, SocketAddr, Option<Vec<u8>>)>,
    /// Queries sent.
    pub queries: usize,
    /// Hops: the longest chain of queries that led to one of the closest nodes.
    pub hops: u32,
    /// How long after the lookup started the first peer came.
    pub first_peer: Option<std::time::Duration>,
}

impl Shared {
    /// A lookup of `target`: one per address family we have a socket for (BEP 32 keeps the
    /// two networks apart: IPv6 nodes name IPv6 nodes and give IPv6 peers), run together.
    pub(super) async fn walk(self: &Arc<Self>, target: NodeId, peers: bool) -> Found {
        self.state().stats.lookups += 1;
        if self.socket6.is_none() {
            let v4 = self.socket.local_addr().is_ok_and(|a| a.is_ipv4());
            return self.walk_family(target, peers, v4).await;
        }
        let (mut a, b) = tokio::join!(
            self.walk_family(target, peers, true),
            self.walk_family(target, peers, false)
        );
        for p in b.peers {
            if !a.peers.contains(&p) {
                a.peers.push(p);
            }
        }
        a.closest.extend(b.closest);
        a.queries += b.queries;
        a.hops = a.hops.max(b.hops);
        a.first_peer = match (a.first_peer, b.first_peer) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        a
    }

    async fn walk_family(self: &Arc<Self>, target: NodeId, peers: bool, v4: bool) -> Found {
        let seeds: Vec<(Option<NodeId>, SocketAddr)> = {
            let now = Instant::now().into_std();
            let s = self.state();
            let table = if v4 { &s.node.table4 } else { &s.node.table6 };
            let mut seeds: Vec<_> = table
                .closest(&target, 16, now)
                .into_iter()
                .map(|n| (Some(n.id), n.addr))
                .collect();
            if seeds.len() < 8 {
                seeds.extend(
                    self.config
                        .bootstrap
                        .iter()
                        .filter(|a| a.is_ipv4() == v4)
                        .map(|a| (None, *a)),
                );
            }
            seeds
        };
        let config = &self.config;
        let mut lookup = Lookup::new(target, &seeds, config.alpha, dht::table::K, config.query_timeout);
        let mut flying = JoinSet::new();
        let started = Instant::now();
        let mut first_peer = None;
        loop {
            for to in lookup.next(Instant::now().into_std()) {
                let me = self.clone();
                let method = if peers {
                    Method::GetPeers {
                        info_hash: target.into(),
                    }
                } else {
                    Method::FindNode { target }
                };
                flying.spawn(async move { (to, me.query(to, method).await) });
            }
            let Some(done) = flying.join_next().await else {
                break;
            };
            let Ok((from, answer)) = done else { continue };
            match answer {
                Ok(m) => match m.body {
                    Body::Response(r) => {
                        // Only nodes of this lookup's family.
                        let nodes: Vec<_> = r
                            .nodes
                            .iter()
                            .chain(&r.nodes6)
                            .filter(|n| n.addr.is_ipv4() == v4)
                            .copied()
                            .collect();
                        lookup.replied(from, r.id, &nodes, &r.values, r.token);
                        if first_peer.is_none() && !lookup.peers().is_empty() {
                            first_peer = Some(started.elapsed());
                        }
                    }
                    _ => lookup.failed(from),
                },
                Err(QueryError::Timeout(_) | QueryError::Refused(..) | QueryError::Send(..)) => {
                    lookup.failed(from)
                }
            }
            if lookup.is_done(Instant::now().into_std()) && flying.is_empty() {
                break;
            }
        }
        flying.abort_all();
        Found {
            peers: lookup.peers().to_vec(),
            closest: lookup.closest(),
            queries: lookup.queries(),
            hops: lookup.hops(),
            first_peer,
        }
    }
}

impl Dht {
    /// The nodes closest to `target` (`find_node` walk).
    pub async fn find_node(&self, target: NodeId) -> Found {
        self.shared.walk(target, false).await
    }

    /// Peers of a torrent (`get_peers` walk), with the closest nodes and their tokens.
    pub async fn get_peers(&self, info_hash: InfoHash) -> Found {
        self.shared.walk(info_hash.into(), true).await
    }

    /// Announces that we have `info_hash` on `port` (or, with `None`, on the port the packets
    /// come from: BEP 5 `implied_port`) to the closest nodes; returns the peers found on the
    /// way and how many nodes took the announce.
    pub async fn announce(&self, info_hash: InfoHash, port: Option<u16>) -> (Found, usize) {
        let found = self.get_peers(info_hash).await;
        let mut sends = JoinSet::new();
        for (_, addr, token) in &found.closest {
            let Some(token) = token.clone() else { continue };
            let me = self.clone();
            let method = Method::AnnouncePeer {
                info_hash,
                port: port.unwrap_or(0),
                implied_port: port.is_none(),
                token,
            };
            let addr = *addr;
            sends.spawn(async move { me.query(addr, method).await.is_ok() });
        }
        let mut took = 0;
        while let Some(ok) = sends.join_next().await {
            took += usize::from(ok.unwrap_or(false));
        }
        (found, took)
    }
}

/// Keeps a torrent in the DHT while it runs: announces it (we listen for peers on `port`),
/// hands the peers found to the torrent, and does it again every `every` (BEP 5 suggests
/// re-announcing within 30 minutes; peers expire from the nodes after that).
pub async fn keep_announcing(dht: Dht, torrent: crate::TorrentHandle, port: u16, every: std::time::Duration) {
    // Until an announce reaches some node (the network may still be forming), try again
    // sooner: 5 s, doubling up to `every`.
    let mut retry = std::time::Duration::from_secs(5);
    loop {
        if dht.table_size() == 0 {
            dht.bootstrap().await;
        }
        let (found, took) = dht.announce(torrent.info_hash(), Some(port)).await;
        tracing::debug!(peers = found.peers.len(), nodes = took, "DHT announce");
        if !found.peers.is_empty() {
            torrent.add_peers(found.peers);
        }
        let wait = if took == 0 { retry } else { every };
        retry = (retry * 2).min(every);
        tokio::time::sleep(wait).await;
    }
}

/// Looks a torrent up until some peer turns up or `patience` runs out (a magnet with only
/// an info-hash has nothing else to go on).
pub async fn find_peers(dht: &Dht, info_hash: InfoHash, patience: std::time::Duration) -> Vec<SocketAddr> {
    let deadline = Instant::now() + patience;
    let mut retry = std::time::Duration::from_secs(2);
    loop {
        if dht.table_size() == 0 {
            dht.bootstrap().await;
        }
        let found = dht.get_peers(info_hash).await;
        if !found.peers.is_empty() || Instant::now() + retry > deadline {
            return found.peers;
        }
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(std::time::Duration::from_secs(30));
    }
}
