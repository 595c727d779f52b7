//! The session: listening sockets, the torrents, session-wide limits and the peer id.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use metainfo::Torrent;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::config::{AddOptions, SessionConfig};
use crate::error::ClientError;
use crate::rate::Limiter;
use crate::rng::{Rng, peer_id};
use crate::snapshot::SessionSnapshot;
use crate::torrent::{Budget, TorrentHandle, TorrentShared};

/// What the session's tasks share.
#[derive(Debug)]
pub(crate) struct SessionShared {
    pub config: SessionConfig,
    pub peer_id: [u8; 20],
    pub key: u32,
    pub down: Limiter,
    pub up: Limiter,
    pub listen: Vec<SocketAddr>,
    /// The address to connect and announce from: the first listen address, when one was
    /// configured.
    pub bind: Option<IpAddr>,
    /// Memory for piece buffers, shared by the torrents.
    pub piece_memory: Arc<Budget>,
    torrents: Mutex<HashMap<[u8; 20], Arc<TorrentShared>>>,
}

impl SessionShared {
    pub fn torrents(&self) -> MutexGuard<'_, HashMap<[u8; 20], Arc<TorrentShared>>> {
        self.torrents.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn insert(&self, info_hash: [u8; 20], t: Arc<TorrentShared>) -> Result<(), ClientError> {
        let mut map = self.torrents();
        if map.contains_key(&info_hash) {
            return Err(ClientError::Duplicate(metainfo::info_hash::to_hex(&info_hash)));
        }
        map.insert(info_hash, t);
        Ok(())
    }

    pub fn remove(&self, info_hash: &[u8; 20]) {
        self.torrents().remove(info_hash);
    }

    /// How trackers are reached.
    pub fn via(&self) -> crate::tracker::Via {
        crate::tracker::Via {
            bind: self.bind,
            udp_timeout: self.config.timing.udp_timeout,
        }
    }

    /// Peer connections over all torrents.
    pub fn connection_count(&self) -> usize {
        let all: Vec<Arc<TorrentShared>> = self.torrents().values().cloned().collect();
        all.iter().map(|t| t.lock().peers.len()).sum()
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

async fn listen(config: &SessionConfig) -> Result<Vec<TcpListener>, ClientError> {
    let (first, last) = config.ports;
    let mut error = io::Error::other("no port to try");
    for port in first..=last.max(first) {
        let attempt = if config.listen_addrs.is_empty() {
            // Dual-stack [::] where IPv6 exists, else plain IPv4.
            match bind_all(&[IpAddr::V6(Ipv6Addr::UNSPECIFIED)], port).await {
                Err(e) if e.kind() != io::ErrorKind::AddrInUse => {
                    bind_all(&[IpAddr::V4(Ipv4Addr::UNSPECIFIED)], port).await
                }
                other => other,
            }
        } else {
            bind_all(&config.listen_addrs, port).await
        };
        match attempt {
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

async fn accept_loop(listener: TcpListener, shared: Arc<SessionShared>) {
    loop {
        let Ok((mut stream, addr)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            if shared.connection_count() >= shared.config.max_connections {
                return;
            }
            let Some(hs) = crate::peer::read_handshake(&mut stream).await else {
                tracing::debug!(%addr, "incoming connection without a valid handshake");
                return;
            };
            let torrent = shared.torrents().get(&hs.info_hash).cloned();
            match torrent {
                Some(t) => crate::peer::accept(t, stream, addr, hs).await,
                None => tracing::debug!(%addr, "incoming connection for an unknown torrent"),
            }
        });
    }
}

impl Session {
    /// Binds the listening sockets (BEP 3: port 6881, else the next free one up to 6889,
    /// unless configured otherwise) and starts accepting peers.
    pub async fn new(config: SessionConfig) -> Result<Self, ClientError> {
        let listeners = listen(&config).await?;
        let listen = listeners.iter().filter_map(|l| l.local_addr().ok()).collect();
        let mut rng = Rng::from_entropy();
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
            config,
            listen,
            torrents: Mutex::new(HashMap::new()),
        });
        let accept = listeners
            .into_iter()
            .map(|l| tokio::spawn(accept_loop(l, shared.clone())))
            .collect();
        Ok(Self { shared, accept })
    }

    /// Where the session accepts peers.
    pub fn listen_addrs(&self) -> &[SocketAddr] {
        &self.shared.listen
    }

    /// Our peer id (BEP 20: `-NX0001-` and 12 random characters).
    pub fn peer_id(&self) -> [u8; 20] {
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
