//! The DHT on a UDP socket: the thin tokio driver around [`dht`]'s pure core. One task reads
//! packets — or takes them from uTP, which reads a session's sockets and passes KRPC on — (queries are answered inline by [`dht::DhtNode`]; answers to our queries go to
//! whoever waits on their transaction id), one keeps time (token rotation, peer expiry, query
//! timeouts, bucket refresh, pings of questionable nodes, the saved state). Lookups run on the
//! caller's task.

mod config;
mod lookup;
mod run;
mod sample;
mod state;

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use dht::bep42::ExternalIp;
use dht::{Body, DhtNode, Message, Method, PeerStore, StoreLimits, Tokens};
use ids::NodeId;
use tokio::net::UdpSocket;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::rng::Rng;

use config::bind_v6_only;
pub use config::{DEFAULT_BOOTSTRAP, Datagram, DhtConfig, UdpPair};
pub use lookup::{Found, find_peers, keep_announcing};
pub use sample::SampleWalk;

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
    /// Queries answered by method, in the order of [`dht::krpc::METHOD_NAMES`].
    pub queries_in_by: [u64; 5],
    /// Queries sent.
    pub queries_out: u64,
    /// Queries sent by method.
    pub queries_out_by: [u64; 5],
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
    /// Times our id changed to fit our external address (BEP 42).
    pub id_changes: u64,
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
    external: ExternalIp,
    /// Nodes read from the saved state, pinged when bootstrapping.
    saved: Vec<SocketAddr>,
}

struct Shared {
    socket: Arc<UdpSocket>,
    socket6: Option<Arc<UdpSocket>>,
    /// Where packets that are not KRPC go (uTP shares the socket: its packets never start
    /// with `d`), once something takes them.
    others: std::sync::OnceLock<tokio::sync::mpsc::Sender<Datagram>>,
    state: Mutex<State>,
    config: DhtConfig,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The socket that reaches `to`, if we have one of its family.
    fn socket_for(&self, to: &SocketAddr) -> Option<&UdpSocket> {
        let family = |s: &UdpSocket| s.local_addr().is_ok_and(|a| a.is_ipv4() == to.is_ipv4());
        if family(&self.socket) {
            return Some(&self.socket);
        }
        self.socket6.as_deref().filter(|s| family(s))
    }

    /// Whether we can reach nodes of `addr`'s family.
    fn reaches(&self, addr: &SocketAddr) -> bool {
        self.socket_for(addr).is_some()
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

impl Dht {
    /// Binds the socket and starts answering. Call [`Dht::bootstrap`] to join the network.
    pub async fn start(config: DhtConfig) -> io::Result<Self> {
        Self::launch(config, None).await
    }

    /// Starts the node; with `fed`, another reader of the sockets passes their KRPC packets.
    async fn launch(
        config: DhtConfig,
        fed: Option<tokio::sync::mpsc::Receiver<Datagram>>,
    ) -> io::Result<Self> {
        let (socket, socket6) = match &config.sockets {
            Some(pair) => (pair.v4.clone(), pair.v6.clone()),
            None => {
                let socket = Arc::new(UdpSocket::bind(config.listen).await?);
                let socket6 = match config.listen6 {
                    Some(a) if config.listen.is_ipv4() => Some(Arc::new(bind_v6_only(a)?)),
                    _ => None,
                };
                (socket, socket6)
            }
        };
        let mut rng = Rng::from_entropy(3);
        let saved = match &config.state_file {
            Some(path) => state::read_state(path).await,
            None => None,
        };
        let mut random = [0u8; 20];
        rng.fill(&mut random);
        let id = match (&saved, config.external_ip) {
            (Some(s), Some(ip)) if !dht::bep42::is_valid(&s.id, ip) => dht::bep42::id_for(ip, random),
            (Some(s), _) => s.id,
            (None, Some(ip)) => dht::bep42::id_for(ip, random),
            (None, None) => NodeId(random),
        };
        let mut secrets = [0u8; 32];
        rng.fill(&mut secrets);
        let now = Instant::now().into_std();
        let mut node = DhtNode::new(
            id,
            Tokens::new(now, secrets),
            PeerStore::new(StoreLimits::default()),
            now,
        );
        node.read_only = config.read_only;
        let shared = Arc::new(Shared {
            socket,
            socket6,
            others: std::sync::OnceLock::new(),
            state: Mutex::new(State {
                node,
                pending: HashMap::new(),
                next_tid: rng.next_u64() as u16,
                rng,
                stats: DhtStats::default(),
                sources: dht::limit::SourceLimit::default(),
                external: ExternalIp::default(),
                saved: saved.map(|s| s.nodes).unwrap_or_default(),
            }),
            config,
        });
        let mut tasks = vec![tokio::spawn(run::keep_time(shared.clone()))];
        match fed {
            Some(packets) => tasks.push(tokio::spawn(run::receive_fed(shared.clone(), packets))),
            None => {
                tasks.push(tokio::spawn(run::receive(shared.clone(), false)));
                if shared.socket6.is_some() {
                    tasks.push(tokio::spawn(run::receive(shared.clone(), true)));
                }
            }
        }
        Ok(Self {
            shared,
            _tasks: Arc::new(Tasks(tasks)),
        })
    }

    /// A node for `session`'s torrents: on the UDP port peers reach the session on (both
    /// families on a dual-stack port), joining through `bootstrap_hosts` (the well-known
    /// routers when empty), its state in `state_file`; the session then tells peers its port
    /// and pings theirs into the table (BEP 5 `port`).
    pub async fn start_for(
        session: &crate::Session,
        bootstrap_hosts: Vec<String>,
        state_file: Option<PathBuf>,
    ) -> io::Result<Self> {
        let tcp = session
            .listen_addrs()
            .first()
            .copied()
            .ok_or_else(|| io::Error::other("the session listens nowhere"))?;
        let bootstrap_hosts = if bootstrap_hosts.is_empty() {
            DEFAULT_BOOTSTRAP.iter().map(ToString::to_string).collect()
        } else {
            bootstrap_hosts
        };
        // On the session's sockets, uTP reads them and passes the KRPC packets on.
        let sockets = session.udp();
        let fed = match &sockets {
            Some(_) => Some(
                session
                    .krpc_packets()
                    .ok_or_else(|| io::Error::other("a DHT node shares the session's sockets already"))?,
            ),
            None => None,
        };
        let dht = Self::launch(
            DhtConfig {
                bootstrap_hosts,
                state_file,
                // uTP's sockets when the session has them: one port for both, told apart by the
                // first byte of each packet.
                sockets,
                ..DhtConfig::on_peer_address(tcp)
            },
            fed,
        )
        .await?;
        session.use_dht(dht.clone());
        Ok(dht)
    }

    /// Where the node listens.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.shared.socket.local_addr()
    }

    /// Where its IPv6 socket listens, if it has one.
    pub fn local_addr6(&self) -> Option<SocketAddr> {
        self.shared.socket6.as_ref().and_then(|s| s.local_addr().ok())
    }

    /// Our node id.
    pub fn id(&self) -> NodeId {
        self.shared.state().node.id
    }

    /// Nodes in the routing tables.
    pub fn table_size(&self) -> usize {
        let (v4, v6) = self.table_sizes();
        v4 + v6
    }

    /// Buckets of the IPv4 table.
    pub fn buckets(&self) -> usize {
        self.shared.state().node.table4.buckets()
    }

    /// Nodes in the IPv4 and the IPv6 routing table.
    pub fn table_sizes(&self) -> (usize, usize) {
        let s = self.shared.state();
        (s.node.table4.len(), s.node.table6.len())
    }

    /// Peers stored from announces, and torrents they belong to.
    pub fn stored(&self) -> (usize, usize) {
        let s = self.shared.state();
        (s.node.store.len(), s.node.store.torrents())
    }

    /// Our external address, once the nodes we query agree on it.
    pub fn external_ip(&self) -> Option<IpAddr> {
        self.shared.state().external.get()
    }

    /// The counters.
    pub fn stats(&self) -> DhtStats {
        let s = self.shared.state();
        let mut stats = s.stats;
        stats.queries_in_by = s.node.answered;
        stats
    }

    /// Adds a node we heard of (a peer's BEP 5 `port` message): pings it, and it joins the
    /// table if it answers.
    pub fn add_node(&self, addr: SocketAddr) {
        let shared = self.shared.clone();
        tokio::spawn(async move {
            let _ = shared.query(addr, Method::Ping).await;
        });
    }

    /// Pings `addr`; its id.
    pub async fn ping(&self, addr: SocketAddr) -> Result<NodeId, QueryError> {
        match self.query(addr, Method::Ping).await?.body {
            Body::Response(r) => Ok(r.id),
            _ => Err(QueryError::Timeout(addr)),
        }
    }

    /// The packets of the node's sockets that are not KRPC (their first byte is not `d`),
    /// for another protocol sharing the port (uTP). At most `capacity` wait; past that they
    /// are dropped, as the kernel would drop them. `None` if they were taken already.
    pub fn other_packets(&self, capacity: usize) -> Option<tokio::sync::mpsc::Receiver<Datagram>> {
        let (tx, rx) = tokio::sync::mpsc::channel(capacity.max(1));
        self.shared.others.set(tx).ok().map(|()| rx)
    }

    /// Sends a packet of that other protocol from the socket of `to`'s family.
    pub async fn send_other(&self, packet: &[u8], to: SocketAddr) -> io::Result<()> {
        let socket = self
            .shared
            .socket_for(&to)
            .ok_or_else(|| io::Error::other("no socket of that address family"))?;
        socket.send_to(packet, to).await.map(drop)
    }

    /// Sends one query and waits for its answer.
    pub async fn query(&self, to: SocketAddr, method: Method) -> Result<Message, QueryError> {
        self.shared.query(to, method).await
    }

    /// Joins the network: pings the bootstrap nodes and the nodes of the saved state, then
    /// looks up our own id (which fills the buckets near us). Returns the table size.
    pub async fn bootstrap(&self) -> usize {
        self.shared.bootstrap().await
    }

    /// Writes the node id and the known nodes to the state file, if there is one.
    pub async fn save(&self) -> io::Result<()> {
        self.shared.save().await
    }
}

impl Shared {
    async fn query(&self, to: SocketAddr, method: Method) -> Result<Message, QueryError> {
        let Some(socket) = self.socket_for(&to) else {
            return Err(QueryError::Send(
                to,
                io::Error::other("no socket of that address family"),
            ));
        };
        let (tx, rx) = oneshot::channel();
        let packet = {
            let mut s = self.state();
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
            s.stats.queries_out_by[method.index()] += 1;
            s.node.query(tid.to_be_bytes().to_vec(), method)
        };
        socket
            .send_to(&packet, to)
            .await
            .map_err(|e| QueryError::Send(to, e))?;
        let answer = tokio::time::timeout(self.config.query_timeout, rx).await;
        let Ok(Ok(m)) = answer else {
            let now = Instant::now().into_std();
            let mut s = self.state();
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

    async fn bootstrap(self: &Arc<Self>) -> usize {
        let mut routers = self.config.bootstrap.clone();
        routers.extend(std::mem::take(&mut self.state().saved));
        for host in &self.config.bootstrap_hosts {
            let resolved =
                tokio::time::timeout(Duration::from_secs(3), tokio::net::lookup_host(host.as_str())).await;
            if let Ok(Ok(addrs)) = resolved {
                routers.extend(addrs.filter(|a| self.reaches(a)).take(2));
            }
        }
        let mut pings = tokio::task::JoinSet::new();
        for a in routers {
            let me = self.clone();
            pings.spawn(async move { me.query(a, Method::Ping).await });
        }
        while let Some(done) = pings.join_next().await {
            if let Ok(Err(e)) = done {
                tracing::debug!(error = %e, "DHT bootstrap node");
            }
        }
        let own = self.state().node.id;
        self.walk(own, false).await;
        let size = {
            let s = self.state();
            s.node.table4.len() + s.node.table6.len()
        };
        tracing::debug!(table = size, "DHT bootstrapped");
        size
    }
}
