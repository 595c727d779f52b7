//! A BEP 51 walk: ask node after node for a sample of the info-hashes it stores, learning more
//! nodes from each answer, until enough nodes were asked. What a DHT crawler is built on.

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;

use dht::{Body, Method};
use ids::{InfoHash, NodeId};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::Dht;

/// Nodes waiting to be asked, at most.
const MAX_QUEUE: usize = 10_000;

/// What a walk did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SampleWalk {
    /// Distinct info-hashes found, in the order found.
    pub info_hashes: Vec<InfoHash>,
    /// Nodes asked.
    pub asked: usize,
    /// Nodes that answered with samples (BEP 51 support).
    pub sampled: usize,
    /// Nodes that answered without samples (an older node answers as to `find_node`, or with
    /// an error).
    pub unsupported: usize,
}

impl Dht {
    /// Walks the network asking `sample_infohashes` of up to `max_nodes` nodes, `alpha` at a
    /// time, starting from our table (and the bootstrap nodes); calls `found` for each new
    /// info-hash as it arrives.
    pub async fn sample(&self, max_nodes: usize, mut found: impl FnMut(InfoHash)) -> SampleWalk {
        let start: Vec<SocketAddr> = {
            let now = Instant::now().into_std();
            let s = self.shared.state();
            s.node
                .table4
                .closest(&s.node.id, usize::MAX, now)
                .into_iter()
                .chain(s.node.table6.closest(&s.node.id, usize::MAX, now))
                .map(|n| n.addr)
                .chain(self.shared.config.bootstrap.iter().copied())
                .collect()
        };
        let mut seen = HashSet::new();
        let mut queue: VecDeque<SocketAddr> = start.into_iter().filter(|a| seen.insert(*a)).collect();
        let mut hashes = HashSet::new();
        let mut walk = SampleWalk::default();
        let mut flying = JoinSet::new();
        loop {
            while flying.len() < self.shared.config.alpha.max(1) && walk.asked < max_nodes {
                let Some(to) = queue.pop_front() else { break };
                walk.asked += 1;
                let mut target = [0u8; 20];
                self.shared.state().rng.fill(&mut target);
                let me = self.clone();
                flying.spawn(async move {
                    let answer = me
                        .query(
                            to,
                            Method::SampleInfohashes {
                                target: NodeId(target),
                            },
                        )
                        .await;
                    (to, answer)
                });
            }
            let Some(done) = flying.join_next().await else {
                break;
            };
            let Ok((_, answer)) = done else { continue };
            let Ok(m) = answer else {
                walk.unsupported += usize::from(matches!(answer, Err(super::QueryError::Refused(..))));
                continue;
            };
            let Body::Response(r) = m.body else { continue };
            if r.num.is_some() || !r.samples.is_empty() {
                walk.sampled += 1;
            } else {
                walk.unsupported += 1;
            }
            for h in r.samples {
                if hashes.insert(h) {
                    walk.info_hashes.push(h);
                    found(h);
                }
            }
            for n in r.nodes.iter().chain(&r.nodes6) {
                if queue.len() < MAX_QUEUE
                    && n.addr.port() != 0
                    && self.shared.reaches(&n.addr)
                    && seen.insert(n.addr)
                {
                    queue.push_back(n.addr);
                }
            }
        }
        walk
    }
}
