//! The session: listening sockets, the torrents, session-wide limits and the peer id.
//!
//! Lock order: see the `torrent` module. The session's own locks (`torrents`,
//! `external_ip`) are held for a lookup or an update, with no other lock taken inside.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use metainfo::Torrent;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use crate::config::{AddOptions, SessionConfig};
use crate::counters::Counters;
use crate::error::ClientError;
use crate::rate::Limiter;
use crate::rng::{Rng, peer_id};
use crate::snapshot::SessionSnapshot;
use crate::torrent::{Budget, TorrentHandle, TorrentShared};

/// What the session's tasks share.
#[derive(Debug)]
pub(crate) struct SessionShared {
    pub config: SessionConfig,
    pub peer_id: ids::PeerId,
    pub key: u32,
    pub down: Limiter,
    pub up: Limiter,
    pub listen: Vec<SocketAddr>,
    /// The address to connect and announce from: the first listen address, when one was
    /// configured.
    pub bind: Option<IpAddr>,
    /// Memory for piece buffers, shared by the torrents.
    pub piece_memory: Arc<Budget>,
    /// Open files, shared by the torrents.
    pub files: Arc<crate::storage::FilePool>,
    /// Refusals, drops and errors, for the snapshot.
    pub counters: Counters,
    /// TLS settings and kept connections of HTTP(S) trackers.
    pub http: crate::tracker::HttpClient,
    /// The UDP sockets on the peer port (uTP, and the DHT when it runs), unless TCP only.
    pub udp: Option<crate::dht::UdpPair>,
    /// uTP on them (it reads them, and passes KRPC datagrams to the DHT).
    pub utp: Option<Arc<crate::utp::Endpoint>>,
    /// One permit per connection the session may hold (`max_connections`).
    slots: Arc<Semaphore>,
    /// Our address as peers see it (their BEP 10 `yourip`), for BEP 40 priorities.
    external_ip: Mutex<Option<IpAddr>>,
    /// The DHT node, once the caller starts one: its port goes to peers (BEP 5 `port`), and
    /// theirs come back to it.
    dht: std::sync::OnceLock<crate::dht::Dht>,
    torrents: Mutex<HashMap<ids::InfoHash, Arc<TorrentShared>>>,
}

/// A connection's claim on one of the session's `max_connections`, held from the connect or
/// the accept (half-open connections count) until the connection ends.
pub(crate) type Slot = OwnedSemaphorePermit;

impl SessionShared {
    /// The DHT node, if there is one.
    pub fn dht(&self) -> Option<&crate::dht::Dht> {
        self.dht.get()
    }

    pub fn torrents(&self) -> MutexGuard<'_, HashMap<ids::InfoHash, Arc<TorrentShared>>> {
        self.torrents.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn insert(&self, info_hash: ids::InfoHash, t: Arc<TorrentShared>) -> Result<(), ClientError> {
        let mut map = self.torrents();
        if map.contains_key(&info_hash) {
            return Err(ClientError::Duplicate(info_hash));
        }
        map.insert(info_hash, t);
        Ok(())
    }

    pub fn remove(&self, info_hash: &ids::InfoHash) {
        self.torrents().remove(info_hash);
    }

    /// How peers are connected to.
    pub fn dial(&self) -> crate::peer::Dial {
        crate::peer::Dial {
            bind: self.bind,
            encryption: self.config.encryption,
            transport: self.config.transport,
            utp: self.utp.clone(),
        }
    }

    /// How trackers are reached.
    pub fn via(&self) -> crate::tracker::Via {
        crate::tracker::Via {
            bind: self.bind,
            udp_timeout: self.config.timing.udp_timeout,
            http: self.http.clone(),
        }
    }

    /// A connection slot, unless `max_connections` are open (half-open ones included).
    pub fn slot(&self) -> Option<Slot> {
        self.slots.clone().try_acquire_owned().ok()
    }

    /// Peer connections open now, half-open ones included.
    pub fn connections(&self) -> usize {
        let all = self.config.max_connections.min(Semaphore::MAX_PERMITS);
        all.saturating_sub(self.slots.available_permits())
    }

    /// Records our address as a peer reported it (BEP 10 `yourip`).
    pub fn learn_ip(&self, ip: IpAddr) {
        if !ip.is_unspecified()
            && let Ok(mut e) = self.external_ip.lock()
        {
            *e = Some(ip);
        }
    }

    /// Our IPv4 (or IPv6) address as peers see it, as well as we know it: the one peers
    /// report, else the one we listen on, else the unspecified address (BEP 40 priorities
    /// then still rank peers consistently, if not as the swarm does).
    pub fn our_addr(&self, ipv4: bool) -> SocketAddr {
        let port = self.listen.first().map_or(0, SocketAddr::port);
        let same = |ip: &IpAddr| ip.is_ipv4() == ipv4;
        let learned = self.external_ip.lock().ok().and_then(|e| *e).filter(same);
        let ip = learned.or(self.bind.filter(same)).unwrap_or(if ipv4 {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        } else {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        });
        SocketAddr::new(ip, port)
    }

    /// The `key` we announce with (see [`crate::tracker::key_param`]).
    pub fn announce_key(&self) -> Vec<u8> {
        crate::tracker::key_param(self.key)
    }
}

/// A BitTorrent session: add torrents, watch them, shut down. Must run inside a tokio
/// runtime.
#[derive(Debug)]
pub struct Session {
    shared: Arc<SessionShared>,
    accept: Vec<JoinHandle<()>>,
}

async fn bind_all(ips: &[IpAddr], port: u16) -> io::Result<Vec<TcpListener>> {
    let mut out = Vec::new();
    let mut port = port;
    for ip in ips {
        let l = TcpListener::bind(SocketAddr::new(*ip, port)).await?;
        port = l.local_addr()?.port();
        out.push(l);
    }
    Ok(out)
}

/// Binds the TCP listeners, and the UDP sockets for uTP on the same port (unless TCP only):
/// a port whose UDP side is taken is passed over for the next one (for port 0, another free
/// one is drawn, up to 16 times), so that peers reach both on one port.
async fn listen(
    config: &SessionConfig,
) -> Result<(Vec<TcpListener>, Option<crate::dht::UdpPair>), ClientError> {
    if !config.transport.utp() {
        return Ok((listen_tcp(config).await?, None));
    }
    // A port where both TCP and UDP are free: peers reach uTP and the DHT on the TCP port.
    let ports: Vec<u16> = match config.ports {
        (0, 0) => vec![0; 16],
        (first, last) => (first..=last.max(first)).collect(),
    };
    let mut udp_error = None;
    for port in ports {
        let Ok(listeners) = listen_tcp_on(config, port).await else {
            continue;
        };
        let Some(first) = listeners.first().and_then(|l| l.local_addr().ok()) else {
            return Ok((listeners, None));
        };
        match crate::dht::UdpPair::bind(first) {
            Ok(u) => return Ok((listeners, Some(u))),
            Err(e) => udp_error = Some((first, e)),
        }
    }
    // No port of the range has both free: TCP alone, said in the log.
    if let Some((addr, e)) = udp_error {
        tracing::warn!(%addr, error = %e, "no UDP socket for uTP on any free peer port; TCP only");
    }
    Ok((listen_tcp(config).await?, None))
}

/// The first port of the range where the listening sockets bind.
async fn listen_tcp(config: &SessionConfig) -> Result<Vec<TcpListener>, ClientError> {
    let (first, last) = config.ports;
    let mut error = io::Error::other("no port to try");
    for port in first..=last.max(first) {
        match listen_tcp_on(config, port).await {
            Ok(l) => return Ok(l),
            Err(e) => error = e,
        }
    }
    Err(ClientError::Listen {
        first,
        last,
        source: error,
    })
}

/// The listening sockets on `port`: dual-stack `[::]` where IPv6 exists, else plain IPv4,
/// unless addresses are configured.
async fn listen_tcp_on(config: &SessionConfig, port: u16) -> io::Result<Vec<TcpListener>> {
    if config.listen_addrs.is_empty() {
        match bind_all(&[IpAddr::V6(Ipv6Addr::UNSPECIFIED)], port).await {
            Err(e) if e.kind() != io::ErrorKind::AddrInUse => {
                bind_all(&[IpAddr::V4(Ipv4Addr::UNSPECIFIED)], port).await
            }
            other => other,
        }
    } else {
        bind_all(&config.listen_addrs, port).await
    }
}

impl Session {
    /// Uses `dht` for the torrents of this session: peers that support the DHT are told its
    /// port (BEP 5), and the ports they send are pinged into it. Set once; later calls are
    /// ignored.
    pub fn use_dht(&self, dht: crate::dht::Dht) {
        let _ = self.shared.dht.set(dht);
    }

    /// The KRPC datagrams of the session's UDP sockets, for the DHT node that shares them
    /// (taken once; `None` when the session has no UDP sockets).
    pub(crate) fn krpc_packets(&self) -> Option<tokio::sync::mpsc::Receiver<crate::dht::Datagram>> {
        self.shared.utp.as_ref().and_then(|u| u.krpc_packets())
    }

    /// The session's UDP sockets (for a DHT to share), unless it runs TCP only.
    pub fn udp(&self) -> Option<crate::dht::UdpPair> {
        self.shared.udp.clone()
    }

    /// Binds the listening sockets (BEP 3: port 6881, else the next free one up to 6889,
    /// unless configured otherwise) and starts accepting peers.
    pub async fn new(config: SessionConfig) -> Result<Self, ClientError> {
        if config.raise_fd_limit {
            crate::net::raise_fd_limit();
        }
        let http =
            crate::tracker::HttpClient::new(config.tracker_ca.as_deref()).map_err(ClientError::TrackerTls)?;
        let (listeners, udp) = listen(&config).await?;
        let listen: Vec<SocketAddr> = listeners.iter().filter_map(|l| l.local_addr().ok()).collect();
        let utp = udp.clone().map(crate::utp::Endpoint::new);
        let mut rng = Rng::from_entropy(0);
        let config_slots = config.max_connections.min(Semaphore::MAX_PERMITS);
        let shared = Arc::new(SessionShared {
            down: Limiter::new(config.download_rate),
            up: Limiter::new(config.upload_rate),
            peer_id: peer_id(&mut rng),
            key: rng.next_u64() as u32,
            bind: config
                .listen_addrs
                .first()
                .copied()
                .filter(|ip| !ip.is_unspecified()),
            piece_memory: Arc::new(Budget::new(config.piece_memory)),
            files: Arc::new(crate::storage::FilePool::new(config.file_pool_size)),
            config,
            listen,
            counters: Counters::default(),
            http,
            udp: udp.clone(),
            utp: utp.clone(),
            slots: Arc::new(Semaphore::new(config_slots)),
            external_ip: Mutex::new(None),
            dht: std::sync::OnceLock::new(),
            torrents: Mutex::new(HashMap::new()),
        });
        let mut accept: Vec<_> = listeners
            .into_iter()
            .map(|l| tokio::spawn(crate::peer::incoming::listen(l, shared.clone())))
            .collect();
        if let Some(ep) = utp {
            let (accepted_tx, accepted_rx) = tokio::sync::mpsc::channel(64);
            accept.push(tokio::spawn(crate::utp::drive(ep, accepted_tx)));
            accept.push(tokio::spawn(crate::peer::incoming::listen_utp(
                accepted_rx,
                shared.clone(),
            )));
        }
        Ok(Self { shared, accept })
    }

    /// Where the session accepts peers.
    pub fn listen_addrs(&self) -> &[SocketAddr] {
        &self.shared.listen
    }

    /// Our peer id (BEP 20: `-NX0001-` and 12 random characters).
    pub fn peer_id(&self) -> ids::PeerId {
        self.shared.peer_id
    }

    /// Fetches the `info` dictionary of a magnet link from peers (its `x.pe`, `peers`, and
    /// those its trackers name) and returns the torrent, ready for [`Session::add`].
    pub async fn fetch_metadata(
        &self,
        magnet: &metainfo::magnet::Magnet,
        peers: &[SocketAddr],
        timeout: std::time::Duration,
    ) -> Result<Torrent, ClientError> {
        crate::magnet::fetch(&self.shared, magnet, peers, timeout).await
    }

    /// Adds a torrent: opens its files under `opts.dir`, finds what is already there
    /// (resume state or a hash check) and starts downloading or seeding.
    pub async fn add(&self, torrent: Torrent, opts: AddOptions) -> Result<TorrentHandle, ClientError> {
        crate::torrent::start(self.shared.clone(), torrent, opts).await
    }

    /// The torrents in the session.
    pub fn torrents(&self) -> Vec<TorrentHandle> {
        self.shared
            .torrents()
            .values()
            .cloned()
            .map(TorrentHandle::new)
            .collect()
    }

    /// Changes the session-wide limits, bytes per second (0 = none).
    pub fn set_rate_limits(&self, download: u64, upload: u64) {
        self.shared.down.set_rate(download);
        self.shared.up.set_rate(upload);
    }

    /// The state of every torrent and peer.
    pub fn snapshot(&self) -> SessionSnapshot {
        let torrents: Vec<_> = self.torrents().iter().map(TorrentHandle::snapshot).collect();
        SessionSnapshot {
            listen: self.shared.listen.clone(),
            peer_id: self.shared.peer_id,
            down_rate: torrents.iter().map(|t| t.down_rate).sum(),
            up_rate: torrents.iter().map(|t| t.up_rate).sum(),
            torrents,
            counters: self.shared.counters.snapshot(self.shared.connections()),
            files: self.shared.files.stats(),
        }
    }

    /// Stops every torrent (resume state saved, trackers told) and stops listening.
    pub async fn shutdown(self) {
        for t in self.torrents() {
            t.stop().await;
        }
        for a in &self.accept {
            a.abort();
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        for a in &self.accept {
            a.abort();
        }
    }
}
