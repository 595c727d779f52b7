//! An iterative lookup (BEP 5's `find_node` / `get_peers` walk) as a state machine: the caller
//! sends the queries [`Lookup::next`] names, and reports each answer or timeout. Like
//! libtorrent's "aggressive" lookups it keeps `alpha` queries outstanding (a query past its
//! timeout stops counting, and counts as failed if no answer ever comes), and it ends when the
//! `k` closest nodes that are still candidates have all answered. Time is a parameter.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ids::{Distance, NodeId};

use crate::krpc::CompactNode;

/// Most candidates kept (the rest are farther than anything that matters).
const MAX_CANDIDATES: usize = 128;
/// Most peers collected by one lookup.
const MAX_PEERS: usize = 2_000;

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Fresh,
    Asked(Instant),
    Replied(Option<Vec<u8>>),
    Failed,
}

#[derive(Debug, Clone)]
struct Candidate {
    id: Option<NodeId>,
    addr: SocketAddr,
    distance: Distance,
    state: State,
    /// Queries on the chain that led to it: 1 for a seed, one more than the node that named it.
    hop: u32,
}

/// One lookup.
#[derive(Debug, Clone)]
pub struct Lookup {
    target: NodeId,
    alpha: usize,
    k: usize,
    timeout: Duration,
    candidates: Vec<Candidate>,
    known: HashSet<SocketAddr>,
    peers: Vec<SocketAddr>,
    peers_seen: HashSet<SocketAddr>,
    queries: usize,
}

impl Lookup {
    /// A lookup of `target` starting from `seeds` (table nodes; bootstrap addresses have no id
    /// yet), with `alpha` queries at a time, ending on the `k` closest, each query given
    /// `timeout` before another is sent in its place.
    pub fn new(
        target: NodeId,
        seeds: &[(Option<NodeId>, SocketAddr)],
        alpha: usize,
        k: usize,
        timeout: Duration,
    ) -> Self {
        let mut l = Self {
            target,
            alpha: alpha.max(1),
            k: k.max(1),
            timeout,
            candidates: Vec::new(),
            known: HashSet::new(),
            peers: Vec::new(),
            peers_seen: HashSet::new(),
            queries: 0,
        };
        for (id, addr) in seeds {
            l.add(*id, *addr, 1);
        }
        l
    }

    /// The target.
    pub fn target(&self) -> NodeId {
        self.target
    }

    /// Queries sent so far.
    pub fn queries(&self) -> usize {
        self.queries
    }

    fn add(&mut self, id: Option<NodeId>, addr: SocketAddr, hop: u32) {
        if !self.known.insert(addr) {
            return;
        }
        let distance = id.map_or(Distance([0xff; 20]), |id| id.distance(&self.target));
        let at = self.candidates.partition_point(|c| c.distance <= distance);
        self.candidates.insert(
            at,
            Candidate {
                id,
                addr,
                distance,
                state: State::Fresh,
                hop,
            },
        );
        if self.candidates.len() > MAX_CANDIDATES {
            // Drop the farthest candidate that was never asked.
            if let Some(i) = self.candidates.iter().rposition(|c| c.state == State::Fresh) {
                self.candidates.remove(i);
            }
        }
    }

    fn outstanding(&self, now: Instant) -> usize {
        self.candidates
            .iter()
            .filter(|c| matches!(c.state, State::Asked(t) if now.saturating_duration_since(t) < self.timeout))
            .count()
    }

    /// The nodes to query now (each is then counted as asked).
    pub fn next(&mut self, now: Instant) -> Vec<SocketAddr> {
        if self.is_done(now) {
            return Vec::new();
        }
        let mut room = self.alpha.saturating_sub(self.outstanding(now));
        let mut out = Vec::new();
        for c in &mut self.candidates {
            if room == 0 {
                break;
            }
            if c.state == State::Fresh {
                c.state = State::Asked(now);
                out.push(c.addr);
                room -= 1;
            }
        }
        self.queries += out.len();
        out
    }

    /// `from` answered: its id, the nodes it named, the peers it gave and its token.
    pub fn replied(
        &mut self,
        from: SocketAddr,
        id: NodeId,
        nodes: &[CompactNode],
        peers: &[SocketAddr],
        token: Option<Vec<u8>>,
    ) {
        let hop = if let Some(c) = self.candidates.iter_mut().find(|c| c.addr == from) {
            if c.id.is_some_and(|known| known != id) {
                // Not the node we asked: its answer is not trusted for this lookup.
                c.state = State::Failed;
                return;
            }
            c.id = Some(id);
            c.distance = id.distance(&self.target);
            c.state = State::Replied(token);
            c.hop
        } else {
            return;
        };
        self.candidates.sort_by_key(|c| c.distance);
        for n in nodes {
            self.add(Some(n.id), n.addr, hop + 1);
        }
        for p in peers {
            if self.peers.len() < MAX_PEERS && self.peers_seen.insert(*p) {
                self.peers.push(*p);
            }
        }
    }

    /// `from` did not answer (or answered with an error).
    pub fn failed(&mut self, from: SocketAddr) {
        if let Some(c) = self.candidates.iter_mut().find(|c| c.addr == from) {
            c.state = State::Failed;
        }
    }

    /// Done when the `k` closest candidates that have not failed have all answered, or when
    /// nothing is left to ask and nothing is outstanding.
    pub fn is_done(&self, now: Instant) -> bool {
        let mut closest = self
            .candidates
            .iter()
            .filter(|c| c.state != State::Failed)
            .take(self.k);
        let settled = closest.all(|c| matches!(c.state, State::Replied(_)));
        let exhausted =
            !self.candidates.iter().any(|c| c.state == State::Fresh) && self.outstanding(now) == 0;
        settled || exhausted
    }

    /// The peers found so far.
    pub fn peers(&self) -> &[SocketAddr] {
        &self.peers
    }

    /// Hops the lookup took: the longest chain of queries (each asking a node the previous one
    /// named) that led to one of the `k` closest nodes that answered.
    pub fn hops(&self) -> u32 {
        self.candidates
            .iter()
            .filter(|c| matches!(c.state, State::Replied(_)))
            .take(self.k)
            .map(|c| c.hop)
            .max()
            .unwrap_or(0)
    }

    /// The `k` closest nodes that answered, with their tokens (where to `announce_peer`).
    pub fn closest(&self) -> Vec<(NodeId, SocketAddr, Option<Vec<u8>>)> {
        self.candidates
            .iter()
            .filter_map(|c| match (&c.state, c.id) {
                (State::Replied(t), Some(id)) => Some((id, c.addr, t.clone())),
                _ => None,
            })
            .take(self.k)
            .collect()
    }
}
