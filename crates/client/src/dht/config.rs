//! How a node runs, and the sockets it may share with uTP.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;

/// How a DHT node runs.
#[derive(Debug, Clone)]
pub struct DhtConfig {
    /// Where it listens (UDP).
    pub listen: SocketAddr,
    /// A second, IPv6-only socket (BEP 32: IPv6 nodes go to a second routing table), when
    /// `listen` is IPv4.
    pub listen6: Option<SocketAddr>,
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
    /// Where the node id and the known nodes are kept between runs (read at start, written by
    /// [`Dht::save`](super::Dht::save) and every 10 minutes).
    pub state_file: Option<PathBuf>,
    /// Our external address, when known beforehand: the node id is derived from it (BEP 42).
    /// Otherwise the nodes we query tell us, and the id changes once enough of them agree.
    pub external_ip: Option<IpAddr>,
    /// Sockets bound already, used instead of `listen` and `listen6`; the node reads them. (A
    /// session's sockets are read by its uTP endpoint, which passes KRPC on: a node on them is
    /// started with [`Dht::start_for`](super::Dht::start_for).)
    pub sockets: Option<UdpPair>,
}

/// Socket buffers asked for the session's UDP sockets.
const UDP_BUFFER: usize = 4 << 20;

/// A UDP socket per address family on one port: IPv4 (or the one address given), and an
/// IPv6-only one beside it when the port is the dual-stack wildcard.
#[derive(Debug, Clone)]
pub struct UdpPair {
    /// The IPv4 socket (or the only one).
    pub v4: Arc<UdpSocket>,
    /// The IPv6-only socket, if any.
    pub v6: Option<Arc<UdpSocket>>,
}

impl UdpPair {
    /// Binds the sockets for the peer address `tcp` (both families when it is the IPv6
    /// wildcard).
    pub fn bind(tcp: SocketAddr) -> io::Result<Self> {
        let config = DhtConfig::on_peer_address(tcp);
        let std = std::net::UdpSocket::bind(config.listen)?;
        std.set_nonblocking(true)?;
        let v4 = UdpSocket::from_std(std)?;
        let v6 = match config.listen6 {
            Some(a) => Some(bind_v6_only(a)?),
            None => None,
        };
        // uTP keeps a window of packets in flight through one socket: the usual 208 KiB
        // buffers overflow (and lose a window's worth) long before the congestion window
        // says stop. The kernel caps what is asked at net.core.[rw]mem_max.
        for s in std::iter::once(&v4).chain(v6.as_ref()) {
            let s = socket2::SockRef::from(s);
            let _ = s.set_send_buffer_size(UDP_BUFFER);
            let _ = s.set_recv_buffer_size(UDP_BUFFER);
        }
        Ok(Self {
            v4: Arc::new(v4),
            v6: v6.map(Arc::new),
        })
    }
}

impl Default for DhtConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 6881)),
            listen6: None,
            bootstrap: Vec::new(),
            bootstrap_hosts: Vec::new(),
            alpha: 5,
            query_timeout: Duration::from_secs(2),
            read_only: false,
            state_file: None,
            external_ip: None,
            sockets: None,
        }
    }
}

impl DhtConfig {
    /// A node on the UDP port of the peer address `tcp`: both families when `tcp` is the
    /// IPv6 wildcard (where peers reach us on both), else `tcp`'s own.
    pub fn on_peer_address(tcp: SocketAddr) -> Self {
        let (listen, listen6) = match tcp.ip() {
            IpAddr::V6(ip) if ip.is_unspecified() => (
                SocketAddr::from(([0, 0, 0, 0], tcp.port())),
                Some(SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, tcp.port()))),
            ),
            _ => (tcp, None),
        };
        Self {
            listen,
            listen6,
            ..Self::default()
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

/// A packet and where it came from.
pub type Datagram = (Vec<u8>, SocketAddr);

/// An IPv6-only UDP socket (so that the IPv4 socket may have the same port).
pub(super) fn bind_v6_only(addr: SocketAddr) -> io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_only_v6(true)?;
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    UdpSocket::from_std(s.into())
}
