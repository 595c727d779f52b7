//! The DHT on a UDP socket: the thin tokio driver around [`dht`]'s pure core. One task reads
//! packets (queries are answered inline by [`dht::DhtNode`]; answers to our queries go to
//! whoever waits on their transaction id), one keeps time (token rotation, peer expiry, query
//! timeouts, bucket refresh). Lookups run on the caller's task.

mod lookup;

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use dht::{Body, DhtNode, Heard, Incoming, Message, Method, PeerStore, StoreLimits, Tokens};
use ids::NodeId;
use tokio::net::UdpSocket;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::rng::Rng;

pub use lookup::{Found, find_peers, keep_announcing};

/// How a DHT node runs.
#[derive(Debug, Clone)]
pub struct DhtConfig {
    /// Where it listens (UDP).
    pub listen: SocketAddr,
    /// Nodes to start from.
    pub bootstrap: Vec<SocketAddr>,
    /// Nodes to start from by name, HOST:PORT, resolved when bootstrapping (at most 3 s each;
    /// one that does not resolve is skipped).
    pub bootstrap_hosts: Vec<String>,
    /// Queries a lookup keeps outstanding (libtorrent: 5).
    pub alpha: usize,
    /// How long a query waits for its answer.
    pub query_timeout: Duration,
    /// Only ask; never answer (BEP 43).
    pub read_only: bool,
}

impl Default for DhtConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 6881)),
            bootstrap: Vec::new(),
            bootstrap_hosts: Vec::new(),
            alpha: 5,
            query_timeout: Duration::from_secs(2),
            read_only: false,
        }
    }
}

/// The well-known routers new nodes join through (libtorrent's defaults).
pub const DEFAULT_BOOTSTRAP: &[&str] = &[
    "router.bittorrent.com:6881",
    "router.utorrent.com:6881",
    "dht.transmissionbt.com:6881",
    "dht.libtorrent.org:25401",
];

/// Why a query got no answer.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// No answer in time.
    #[error("no answer from {0}")]
    Timeout(SocketAddr),
    /// An error answer.
    #[error("{0} answered with error {1}: {2}")]
    Refused(SocketAddr, i64, String),
    /// The socket failed.
    #[error("sending to {0}")]
    Send(SocketAddr, #[source] io::Error),
}

/// Counts for `/stats` and `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DhtStats {
    /// Queries answered.
    pub queries_in: u64,
    /// Queries sent.
    pub queries_out: u64,
    /// Answers to our queries.
    pub replies: u64,
    /// Our queries that timed out.
    pub timeouts: u64,
    /// Packets that were not KRPC or were refused.
    pub bad_packets: u64,
    /// Packets dropped unread: their address sent more than `dht::limit::PER_SECOND` a second.
    pub rate_limited: u64,
    /// Lookups run.
    pub lookups: u64,
}

struct Pending {
    to: SocketAddr,
    sent: Instant,
    reply: oneshot::Sender<Message>,
}

struct State {
    node: DhtNode,
    pending: HashMap<u16, Pending>,
    next_tid: u16,
    rng: Rng,
    stats: DhtStats,
    sources: dht::limit::SourceLimit,
}

struct Shared {
    socket: UdpSocket,
    state: Mutex<State>,
    config: DhtConfig,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running DHT node. Cheap to clone; stops when the last clone is dropped.
#[derive(Clone)]
pub struct Dht {
    shared: Arc<Shared>,
    _tasks: Arc<Tasks>,
}

struct Tasks(Vec<JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

impl std::fmt::Debug for Dht {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dht")
            .field("listen", &self.local_addr().ok())
            .finish()
    }
}

/// Most packets handled at a time while waiting for none (one task reads; a flood from one
/// source costs one packet buffer, never a queue).
const PACKET: usize = dht::krpc::MAX_PACKET + 1;

impl Dht {
    /// Binds the socket and starts answering. Call [`Dht::bootstrap`] to join the network.
    pub async fn start(config: DhtConfig) -> io::Result<Self> {
        let socket = UdpSocket::bind(config.listen).await?;
        let mut rng = Rng::from_entropy(3);
        let mut id = [0u8; 20];
        rng.fill(&mut id);
        let mut secrets = [0u8; 32];
        rng.fill(&mut secrets);
        let now = Instant::now().into_std();
        let mut node = DhtNode::new(
            NodeId(id),
            Tokens::new(now, secrets),
            PeerStore::new(StoreLimits::default()),
            now,
        );
        node.read_only = config.read_only;
        let shared = Arc::new(Shared {
            socket,
            state: Mutex::new(State {
                node,
                pending: HashMap::new(),
                next_tid: rng.next_u64() as u16,
                rng,
                stats: DhtStats::default(),
                sources: dht::limit::SourceLimit::default(),
            }),
            config,
        });
        let tasks = vec![
            tokio::spawn(receive(shared.clone())),
            tokio::spawn(keep_time(shared.clone())),
        ];
        Ok(Self {
            shared,
            _tasks: Arc::new(Tasks(tasks)),
        })
    }

    /// Where the node listens.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.shared.socket.local_addr()
    }

    /// Our node id.
    pub fn id(&self) -> NodeId {
        self.shared.state().node.id
    }

    /// Nodes in the routing tables.
    pub fn table_size(&self) -> usize {
        let s = self.shared.state();
        s.node.table4.len() + s.node.table6.len()
    }

    /// Peers stored from announces, and torrents they belong to.
    pub fn stored(&self) -> (usize, usize) {
        let s = self.shared.state();
        (s.node.store.len(), s.node.store.torrents())
    }

    /// The counters.
    pub fn stats(&self) -> DhtStats {
        self.shared.state().stats
    }

    /// Adds a node we heard of (a peer's BEP 5 `port` message, a saved table).
    pub fn add_node(&self, addr: SocketAddr) {
        let me = self.clone();
        tokio::spawn(async move {
            let _ = me.ping(addr).await;
        });
    }

    /// Pings `addr`; its id.
    pub async fn ping(&self, addr: SocketAddr) -> Result<NodeId, QueryError> {
        match self.query(addr, Method::Ping).await?.body {
            Body::Response(r) => Ok(r.id),
            _ => Err(QueryError::Timeout(addr)),
        }
    }

    /// Sends one query and waits for its answer.
    pub async fn query(&self, to: SocketAddr, method: Method) -> Result<Message, QueryError> {
        let (tx, rx) = oneshot::channel();
        let packet = {
            let mut s = self.shared.state();
            let tid = s.next_tid;
            s.next_tid = s.next_tid.wrapping_add(1);
            s.pending.insert(
                tid,
                Pending {
                    to,
                    sent: Instant::now(),
                    reply: tx,
                },
            );
            s.stats.queries_out += 1;
            s.node.query(tid.to_be_bytes().to_vec(), method)
        };
        self.shared
            .socket
            .send_to(&packet, to)
            .await
            .map_err(|e| QueryError::Send(to, e))?;
        let answer = tokio::time::timeout(self.shared.config.query_timeout, rx).await;
        let Ok(Ok(m)) = answer else {
            let now = Instant::now().into_std();
            let mut s = self.shared.state();
            s.stats.timeouts += 1;
            let table = s.node.table_mut(&to);
            let id = table.nodes().find(|n| n.addr == to).map(|n| n.id);
            if let Some(id) = id {
                table.failed(&id, now);
            }
            return Err(QueryError::Timeout(to));
        };
        match m.body {
            Body::Error(code, why) => Err(QueryError::Refused(to, code, why)),
            _ => Ok(m),
        }
    }

    /// Joins the network: pings the bootstrap nodes, then looks up our own id (which fills
    /// the buckets near us). Returns the table size.
    pub async fn bootstrap(&self) -> usize {
        let mut routers = self.shared.config.bootstrap.clone();
        for host in &self.shared.config.bootstrap_hosts {
            let resolved =
                tokio::time::timeout(Duration::from_secs(3), tokio::net::lookup_host(host.as_str())).await;
            if let Ok(Ok(addrs)) = resolved {
                routers.extend(addrs.filter(SocketAddr::is_ipv4).take(2));
            }
        }
        let mut pings = tokio::task::JoinSet::new();
        for a in routers {
            let me = self.clone();
            pings.spawn(async move { me.ping(a).await });
        }
        while let Some(done) = pings.join_next().await {
            if let Ok(Err(e)) = done {
                tracing::debug!(error = %e, "DHT bootstrap node");
            }
        }
        let own = self.id();
        self.find_node(own).await;
        tracing::debug!(table = self.table_size(), "DHT bootstrapped");
        self.table_size()
    }
}

/// Reads packets until the socket fails.
async fn receive(shared: Arc<Shared>) {
    let mut buf = vec![0u8; PACKET];
    loop {
        let Ok((len, from)) = shared.socket.recv_from(&mut buf).await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let answer = {
            let mut s = shared.state();
            let now = Instant::now().into_std();
            if !s.sources.allow(from.ip(), now) {
                s.stats.rate_limited += 1;
                continue;
            }
            let start = s.rng.below(usize::MAX);
            match s.node.incoming(&buf[..len], from, now, start) {
                Incoming::Answer(a) => {
                    s.stats.queries_in += 1;
                    Some(a)
                }
                Incoming::Reply(m) => {
                    on_reply(&mut s, *m, from, now);
                    None
                }
                Incoming::Nothing => {
                    s.stats.bad_packets += 1;
                    None
                }
            }
        };
        if let Some(a) = answer {
            let _ = shared.socket.send_to(&a, from).await;
        }
    }
}

/// An answer to one of our queries: to its waiter, and its sender into the table.
fn on_reply(s: &mut State, m: Message, from: SocketAddr, now: std::time::Instant) {
    let Ok(tid) = <[u8; 2]>::try_from(m.tid.as_slice()).map(u16::from_be_bytes) else {
        s.stats.bad_packets += 1;
        return;
    };
    // Only the address we asked may answer a transaction.
    if s.pending.get(&tid).is_none_or(|p| p.to != from) {
        s.stats.bad_packets += 1;
        return;
    }
    let Some(p) = s.pending.remove(&tid) else { return };
    s.stats.replies += 1;
    if let Body::Response(r) = &m.body
        && !m.read_only
    {
        s.node.table_mut(&from).heard(r.id, from, Heard::Replied, now);
    }
    let _ = p.reply.send(m);
}

/// Once a second: rotate tokens, expire peers and forgotten queries, refresh idle buckets.
async fn keep_time(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let now = Instant::now();
        let mut s = shared.state();
        let mut fresh = [0u8; 16];
        s.rng.fill(&mut fresh);
        let std_now = now.into_std();
        s.node.tokens.tick(std_now, fresh);
        s.node.store.expire(std_now);
        let limit = shared.config.query_timeout * 2;
        s.pending.retain(|_, p| now.duration_since(p.sent) < limit);
    }
}
