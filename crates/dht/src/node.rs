//! A DHT node's answers to queries (BEP 5, 32, 43, 51), given its routing tables, its tokens
//! and its peer store. Pure: the driver passes the packet, its source and the time, and sends
//! what comes back.
//!
//! No amplification: an answer to a source we have not verified (not a good node of our table)
//! is kept within [`AMPLIFICATION`] times the query's size, so a spoofed query cannot make us
//! send much more than it cost.

use std::net::SocketAddr;
use std::time::Instant;

use ids::{InfoHash, NodeId};

use crate::krpc::{Body, CompactNode, KrpcError, Message, Method, Query, Response, code};
use crate::store::PeerStore;
use crate::table::{Heard, K, Status, Table};
use crate::token::Tokens;

/// An answer to an unverified source is at most this many times the size of its query.
pub const AMPLIFICATION: usize = 4;
/// BEP 51: seconds before asking us for samples again.
pub const SAMPLE_INTERVAL: i64 = 300;
/// BEP 51: most info-hashes in one answer.
pub const MAX_SAMPLES: usize = 20;

/// The state a node answers from.
#[derive(Debug)]
pub struct Node {
    /// Our id.
    pub id: NodeId,
    /// IPv4 routing table.
    pub table4: Table,
    /// IPv6 routing table (BEP 32).
    pub table6: Table,
    /// Tokens for `announce_peer`.
    pub tokens: Tokens,
    /// Announced peers.
    pub store: PeerStore,
    /// BEP 43: we only ask; queries get no answer.
    pub read_only: bool,
    /// Our client version (`v`).
    pub version: Vec<u8>,
    /// Queries answered, by method (in the order of [`crate::krpc::METHOD_NAMES`]).
    pub answered: [u64; 5],
}

/// What a packet from the network led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A query was answered: send this.
    Answer(Vec<u8>),
    /// A response or an error to one of our queries: the driver matches it by transaction id.
    Reply(Box<Message>),
    /// Nothing to do (a read-only node, or a packet not worth an answer).
    Nothing,
}

impl Node {
    /// A node with empty tables.
    pub fn new(id: NodeId, tokens: Tokens, store: PeerStore, now: Instant) -> Self {
        Self {
            id,
            table4: Table::new(id, now),
            table6: Table::new(id, now),
            tokens,
            store,
            read_only: false,
            version: b"NX01".to_vec(),
            answered: [0; 5],
        }
    }

    /// Takes a new id (BEP 42, once our external address is known): the tables are rebuilt
    /// around it.
    pub fn set_id(&mut self, id: NodeId, now: Instant) {
        self.id = id;
        self.table4.recentre(id, now);
        self.table6.recentre(id, now);
    }

    fn table(&self, v4: bool) -> &Table {
        if v4 { &self.table4 } else { &self.table6 }
    }

    /// The table of `addr`'s family.
    pub fn table_mut(&mut self, addr: &SocketAddr) -> &mut Table {
        if addr.is_ipv4() {
            &mut self.table4
        } else {
            &mut self.table6
        }
    }

    fn verified(&self, from: &SocketAddr, now: Instant) -> bool {
        let t = self.table(from.is_ipv4());
        t.nodes()
            .any(|n| n.addr == *from && n.status(now) == Status::Good)
    }

    /// Handles one packet from `from`. `start` is a random number (which stored peers and
    /// samples to give first).
    pub fn incoming(&mut self, packet: &[u8], from: SocketAddr, now: Instant, start: usize) -> Incoming {
        let m = match Message::decode(packet) {
            Ok(m) => m,
            Err(e) => return self.refuse(&e, from),
        };
        match m.body {
            Body::Query(ref q) => {
                if self.read_only {
                    return Incoming::Nothing;
                }
                if !m.read_only {
                    self.table_mut(&from).heard(q.id, from, Heard::Queried, now);
                }
                let budget = if self.verified(&from, now) {
                    usize::MAX
                } else {
                    AMPLIFICATION * packet.len()
                };
                self.answered[q.method.index()] += 1;
                let answer = self.answer(&m.tid, q, from, now, start);
                Incoming::Answer(fit(answer, budget))
            }
            Body::Response(_) | Body::Error(..) => Incoming::Reply(Box::new(m)),
        }
    }

    fn refuse(&self, e: &KrpcError, from: SocketAddr) -> Incoming {
        match e.reply() {
            Some((tid, code)) if !self.read_only => Incoming::Answer(
                Message {
                    tid: tid.to_vec(),
                    body: Body::Error(code, e.to_string()),
                    version: Some(self.version.clone()),
                    ip: Some(from),
                    read_only: false,
                }
                .encode(),
            ),
            _ => Incoming::Nothing,
        }
    }

    fn nodes_for(
        &self,
        target: &NodeId,
        from: &SocketAddr,
        want: crate::krpc::Want,
        now: Instant,
    ) -> (Vec<CompactNode>, Vec<CompactNode>) {
        let (v4, v6) = match (want.v4, want.v6) {
            (false, false) => (from.is_ipv4(), from.is_ipv6()),
            w => w,
        };
        let pick = |t: &Table| -> Vec<CompactNode> {
            t.closest(target, K, now)
                .into_iter()
                .map(|n| CompactNode {
                    id: n.id,
                    addr: n.addr,
                })
                .collect()
        };
        (
            if v4 { pick(&self.table4) } else { Vec::new() },
            if v6 { pick(&self.table6) } else { Vec::new() },
        )
    }

    fn answer(&mut self, tid: &[u8], q: &Query, from: SocketAddr, now: Instant, start: usize) -> Message {
        let mut r = Response {
            id: self.id,
            ..Response::default()
        };
        let body = match &q.method {
            Method::Ping => Body::Response(r),
            Method::FindNode { target } => {
                (r.nodes, r.nodes6) = self.nodes_for(target, &from, q.want, now);
                Body::Response(r)
            }
            Method::GetPeers { info_hash } => {
                r.token = Some(self.tokens.issue(from.ip()).to_vec());
                r.values = self.store.get(info_hash, from.is_ipv4(), 100, now, start);
                if r.values.is_empty() {
                    (r.nodes, r.nodes6) = self.nodes_for(&NodeId::from(*info_hash), &from, q.want, now);
                }
                Body::Response(r)
            }
            Method::AnnouncePeer {
                info_hash,
                port,
                implied_port,
                token,
            } => {
                if self.tokens.check(from.ip(), token) {
                    let port = if *implied_port { from.port() } else { *port };
                    if port != 0 {
                        self.store
                            .announce(*info_hash, SocketAddr::new(from.ip(), port), now);
                    }
                    Body::Response(r)
                } else {
                    Body::Error(code::PROTOCOL, "bad token".into())
                }
            }
            Method::SampleInfohashes { target } => {
                (r.nodes, r.nodes6) = self.nodes_for(target, &from, q.want, now);
                r.samples = self.store.sample(MAX_SAMPLES, start);
                r.num = Some(self.store.torrents() as i64);
                r.interval = Some(SAMPLE_INTERVAL);
                Body::Response(r)
            }
        };
        Message {
            tid: tid.to_vec(),
            body,
            version: Some(self.version.clone()),
            ip: Some(from),
            read_only: false,
        }
    }

    /// A query of ours, ready to send.
    pub fn query(&self, tid: Vec<u8>, method: Method) -> Vec<u8> {
        Message {
            tid,
            body: Body::Query(Query {
                id: self.id,
                method,
                want: Default::default(),
            }),
            version: Some(self.version.clone()),
            ip: None,
            read_only: self.read_only,
        }
        .encode()
    }

    /// Peers announced to us for `info_hash` (what a local `get_peers` starts from).
    pub fn stored_peers(&self, info_hash: &InfoHash, now: Instant) -> Vec<SocketAddr> {
        let mut all = self.store.get(info_hash, true, 100, now, 0);
        all.extend(self.store.get(info_hash, false, 100, now, 0));
        all
    }
}

/// Trims an answer to `budget` bytes: fewer values, then fewer nodes, then samples.
fn fit(mut m: Message, budget: usize) -> Vec<u8> {
    loop {
        let bytes = m.encode();
        if bytes.len() <= budget {
            return bytes;
        }
        let Body::Response(r) = &mut m.body else {
            return bytes;
        };
        // Each entry is at least 8 bytes: drop enough at once that this loops a few times only.
        let n = ((bytes.len() - budget) / 26).max(1);
        let cut = |len: usize| len.saturating_sub(n);
        if !r.values.is_empty() {
            r.values.truncate(cut(r.values.len()));
        } else if !r.nodes6.is_empty() {
            r.nodes6.truncate(cut(r.nodes6.len()));
        } else if !r.nodes.is_empty() {
            r.nodes.truncate(cut(r.nodes.len()));
        } else if !r.samples.is_empty() {
            r.samples.truncate(cut(r.samples.len()));
        } else {
            return bytes;
        }
    }
}
