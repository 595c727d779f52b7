//! The routing table (BEP 5): k-buckets of K = 8 nodes over the XOR distance to our id. Only
//! the bucket that holds our own id splits, so the table knows many nodes near us and a few
//! far away. Each bucket keeps a replacement cache of nodes seen while it was full; at most
//! one node per IP address in a bucket, so one host cannot fill it.
//!
//! A node is good when it answered one of our queries in the last 15 minutes, or answered
//! once and queried us in the last 15 minutes; bad after [`BAD_AFTER`] failed queries in a
//! row; questionable otherwise. Bad nodes make room; questionable ones are pinged first (the
//! caller does that). Time is a parameter.
//!
//! Loopback addresses are exempt from the one-node-per-IP rule.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ids::NodeId;

use crate::bep42;

/// Nodes per bucket.
pub const K: usize = 8;
/// After this long without hearing from it, a good node becomes questionable, and a bucket
/// that did not change is refreshed.
pub const FRESH: Duration = Duration::from_secs(15 * 60);
/// Failed queries in a row that make a node bad.
pub const BAD_AFTER: u32 = 2;

/// A node in the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Its id.
    pub id: NodeId,
    /// Its address.
    pub addr: SocketAddr,
    /// When it last answered one of our queries.
    pub last_reply: Option<Instant>,
    /// When it last queried us.
    pub last_query: Option<Instant>,
    /// Our queries it failed to answer, in a row.
    pub fails: u32,
}

/// BEP 5's three kinds of node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Heard from lately.
    Good,
    /// Not heard from in 15 minutes.
    Questionable,
    /// Failed our queries.
    Bad,
}

impl Node {
    /// A node as we just heard of it.
    pub fn new(id: NodeId, addr: SocketAddr) -> Self {
        Self {
            id,
            addr,
            last_reply: None,
            last_query: None,
            fails: 0,
        }
    }

    /// Its status at `now`.
    pub fn status(&self, now: Instant) -> Status {
        let fresh = |t: Option<Instant>| t.is_some_and(|t| now.saturating_duration_since(t) < FRESH);
        if self.fails >= BAD_AFTER {
            Status::Bad
        } else if fresh(self.last_reply) || (self.last_reply.is_some() && fresh(self.last_query)) {
            Status::Good
        } else {
            Status::Questionable
        }
    }
}

/// How we heard of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// It answered our query.
    Replied,
    /// It queried us.
    Queried,
    /// Another node named it (not verified).
    Named,
}

/// What [`Table::heard`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// It is in the table now (or was, and is updated).
    Yes,
    /// Its bucket is full of good nodes: it waits in the replacement cache; pinging these
    /// questionable nodes may make room.
    Cached {
        /// Questionable nodes of that bucket.
        ping: Vec<(NodeId, SocketAddr)>,
    },
    /// Refused: our own id, another id at an address already in the bucket, or an id
    /// known at another address.
    Refused,
}

#[derive(Debug, Clone)]
struct Bucket {
    nodes: Vec<Node>,
    replacements: Vec<Node>,
    changed: Instant,
}

/// The routing table of one address family.
#[derive(Debug, Clone)]
pub struct Table {
    own: NodeId,
    buckets: Vec<Bucket>,
}

impl Table {
    /// An empty table around `own`.
    pub fn new(own: NodeId, now: Instant) -> Self {
        Self {
            own,
            buckets: vec![Bucket {
                nodes: Vec::new(),
                replacements: Vec::new(),
                changed: now,
            }],
        }
    }

    /// Our id.
    pub fn own_id(&self) -> NodeId {
        self.own
    }

    /// Nodes in the table (not counting replacement caches).
    pub fn len(&self) -> usize {
        self.buckets.iter().map(|b| b.nodes.len()).sum()
    }

    /// Whether the table holds no node.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of buckets.
    pub fn buckets(&self) -> usize {
        self.buckets.len()
    }

    fn index(&self, id: &NodeId) -> usize {
        (self.own.common_prefix(id) as usize).min(self.buckets.len() - 1)
    }

    /// Records that we heard of or from a node.
    pub fn heard(&mut self, id: NodeId, addr: SocketAddr, how: Heard, now: Instant) -> Inserted {
        if id == self.own {
            return Inserted::Refused;
        }
        loop {
            let i = self.index(&id);
            let splittable = i == self.buckets.len() - 1 && self.buckets.len() < 160;
            let b = &mut self.buckets[i];
            if let Some(n) = b.nodes.iter_mut().find(|n| n.id == id) {
                if n.addr != addr {
                    // Keep the address we verified; a spoofed packet cannot move a node.
                    return Inserted::Refused;
                }
                match how {
                    Heard::Replied => {
                        n.last_reply = Some(now);
                        n.fails = 0;
                        b.changed = now;
                    }
                    Heard::Queried => n.last_query = Some(now),
                    Heard::Named => {}
                }
                return Inserted::Yes;
            }
            // One node per IP address; loopback is exempt (test networks and several nodes on
            // one host, which no remote attacker can pose as).
            if !addr.ip().is_loopback() && b.nodes.iter().any(|n| n.addr.ip() == addr.ip()) {
                return Inserted::Refused;
            }
            let mut node = Node::new(id, addr);
            match how {
                Heard::Replied => node.last_reply = Some(now),
                Heard::Queried => node.last_query = Some(now),
                Heard::Named => {}
            }
            if b.nodes.len() < K {
                b.nodes.push(node);
                b.changed = now;
                return Inserted::Yes;
            }
            if let Some(bad) = b.nodes.iter().position(|n| n.status(now) == Status::Bad) {
                b.nodes[bad] = node;
                b.changed = now;
                return Inserted::Yes;
            }
            if splittable {
                self.split(now);
                continue;
            }
            // BEP 42, preferred but not enforced: a node that answered us with an id that fits
            // its address takes the place of one whose id does not.
            if how == Heard::Replied
                && bep42::is_valid(&id, addr.ip())
                && let Some(i) = b.nodes.iter().position(|n| !bep42::is_valid(&n.id, n.addr.ip()))
            {
                b.nodes[i] = node;
                b.changed = now;
                return Inserted::Yes;
            }
            b.replacements.retain(|r| r.id != id && r.addr.ip() != addr.ip());
            if b.replacements.len() >= K {
                b.replacements.remove(0);
            }
            b.replacements.push(node);
            let ping = b
                .nodes
                .iter()
                .filter(|n| n.status(now) == Status::Questionable)
                .map(|n| (n.id, n.addr))
                .collect();
            return Inserted::Cached { ping };
        }
    }

    /// Splits the last bucket: nodes sharing one more bit with us move to a new last one.
    fn split(&mut self, now: Instant) {
        let depth = self.buckets.len() - 1;
        let own = self.own;
        let last = &mut self.buckets[depth];
        let (far, near): (Vec<Node>, Vec<Node>) = last
            .nodes
            .drain(..)
            .partition(|n| own.common_prefix(&n.id) as usize == depth);
        let (far_r, near_r): (Vec<Node>, Vec<Node>) = last
            .replacements
            .drain(..)
            .partition(|n| own.common_prefix(&n.id) as usize == depth);
        last.nodes = far;
        last.replacements = far_r;
        self.buckets.push(Bucket {
            nodes: near,
            replacements: near_r,
            changed: now,
        });
    }

    /// A query to `id` went unanswered. A node that becomes bad gives its place to the
    /// freshest replacement, if there is one.
    pub fn failed(&mut self, id: &NodeId, now: Instant) {
        let i = self.index(id);
        let b = &mut self.buckets[i];
        let Some(pos) = b.nodes.iter().position(|n| n.id == *id) else {
            b.replacements.retain(|r| r.id != *id);
            return;
        };
        b.nodes[pos].fails += 1;
        if b.nodes[pos].status(now) == Status::Bad
            && let Some(r) = b.replacements.pop()
        {
            b.nodes[pos] = r;
            b.changed = now;
        }
    }

    /// Up to `n` nodes closest to `target`, bad ones left out, nearest first.
    pub fn closest(&self, target: &NodeId, n: usize, now: Instant) -> Vec<Node> {
        let mut all: Vec<&Node> = self
            .buckets
            .iter()
            .flat_map(|b| &b.nodes)
            .filter(|x| x.status(now) != Status::Bad)
            .collect();
        all.sort_by_key(|x| x.id.distance(target));
        all.into_iter().take(n).cloned().collect()
    }

    /// A node by id.
    pub fn get(&self, id: &NodeId) -> Option<&Node> {
        self.buckets[self.index(id)].nodes.iter().find(|n| n.id == *id)
    }

    /// Every node, bucket by bucket (what is saved at exit).
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.buckets.iter().flat_map(|b| &b.nodes)
    }

    /// The same nodes around a new id of ours (after BEP 42 gave us one): buckets are
    /// rebuilt; what we knew of each node is kept.
    pub fn recentre(&mut self, own: NodeId, now: Instant) {
        let old = std::mem::replace(self, Table::new(own, now));
        for n in old.buckets.into_iter().flat_map(|b| b.nodes) {
            if self.heard(n.id, n.addr, Heard::Named, now) == Inserted::Yes {
                let i = self.index(&n.id);
                if let Some(slot) = self.buckets[i].nodes.iter_mut().find(|x| x.id == n.id) {
                    *slot = n;
                }
            }
        }
    }

    /// Questionable nodes, the longest unheard first, at most `n` (pinged to keep the table
    /// fresh).
    pub fn questionable(&self, n: usize, now: Instant) -> Vec<(NodeId, SocketAddr)> {
        let mut q: Vec<&Node> = self
            .nodes()
            .filter(|x| x.status(now) == Status::Questionable)
            .collect();
        q.sort_by_key(|x| x.last_reply.max(x.last_query));
        q.into_iter().take(n).map(|x| (x.id, x.addr)).collect()
    }

    /// Targets to look up for the buckets that did not change for [`FRESH`]: a random id in
    /// each (from `random`, 20 bytes per bucket). Marks them refreshed.
    pub fn refresh(&mut self, now: Instant, mut random: impl FnMut() -> [u8; 20]) -> Vec<NodeId> {
        let own = self.own;
        let mut out = Vec::new();
        for (i, b) in self.buckets.iter_mut().enumerate() {
            if now.saturating_duration_since(b.changed) >= FRESH {
                b.changed = now;
                // Sharing exactly `i` bits with us puts an id in bucket `i` (the last bucket
                // holds every deeper prefix as well).
                out.push(own.in_bucket(i as u32, &random()));
            }
        }
        out
    }
}
