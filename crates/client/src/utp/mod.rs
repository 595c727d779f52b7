//! uTP on the session's UDP sockets: the thin driver around the pure `utp` crate. A task per
//! socket reads it, hands each datagram to its connection by (address, connection id) — or to
//! the DHT when it is KRPC (it starts with `d`) — and passes new incoming connections to the
//! session; one more runs the retransmission timers. Streams send from the caller's task,
//! straight to the socket.

mod io;
mod stream;

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::Waker;
use std::time::Duration;

use tokio::sync::mpsc;
use utp::{Connection, Kind, Packet, State};

use crate::dht::{Datagram, UdpPair};
use crate::rng::Rng;

pub(crate) use stream::UtpStream;

/// Datagrams taken from a socket that is not drained before their connections answer.
const ANSWER_AFTER: usize = 64;
/// KRPC datagrams waiting for the DHT; past this the newest are dropped, as the kernel would.
const KRPC_QUEUE: usize = 256;
/// How often timers are looked at (the shortest retransmission timeout is 500 ms).
const TICK: Duration = Duration::from_millis(20);
/// A guard on an outgoing connection's wait: the connection itself gives up after its SYN
/// went unanswered twice (3 s).
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Most uTP connections at once (each is also held to the session's `max_connections`).
const MAX_CONNECTIONS: usize = 4096;
/// Most uTP connections from one IP address (a peer needs one per torrent; loopback tests and
/// NATs put a few behind one address).
const MAX_PER_ADDRESS: usize = 64;
/// Most peers remembered as not answering uTP.
const MAX_UNANSWERED: usize = 10_000;

/// One connection's state and who waits on it.
pub(crate) struct Entry {
    pub conn: Connection,
    pub addr: SocketAddr,
    pub reader: Option<Waker>,
    pub writer: Option<Waker>,
    /// The application dropped its stream: the entry goes once the connection ends.
    pub released: bool,
}

pub(crate) type Shared = Arc<Mutex<Entry>>;

pub(crate) fn lock(e: &Mutex<Entry>) -> MutexGuard<'_, Entry> {
    e.lock().unwrap_or_else(|p| p.into_inner())
}

/// The session's uTP endpoint.
pub(crate) struct Endpoint {
    sockets: Vec<Arc<io::Socket>>,
    /// Where KRPC datagrams go once a DHT node shares the sockets.
    krpc: OnceLock<mpsc::Sender<Datagram>>,
    pub config: utp::Config,
    conns: Mutex<HashMap<(SocketAddr, u16), Shared>>,
    /// Peers whose uTP went unanswered (forgotten all at once past [`MAX_UNANSWERED`]).
    unanswered: Mutex<std::collections::HashSet<SocketAddr>>,
    rng: Mutex<Rng>,
    epoch: std::time::Instant,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("sockets", &self.sockets)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// An endpoint on `sockets`.
    pub fn new(sockets: UdpPair) -> Arc<Self> {
        Arc::new(Self {
            sockets: std::iter::once(sockets.v4)
                .chain(sockets.v6)
                .map(|s| Arc::new(io::Socket::new(s)))
                .collect(),
            krpc: OnceLock::new(),
            config: utp::Config::default(),
            conns: Mutex::new(HashMap::new()),
            unanswered: Mutex::new(std::collections::HashSet::new()),
            rng: Mutex::new(Rng::from_entropy(0x0075_7470)),
            epoch: std::time::Instant::now(),
        })
    }

    /// The socket that reaches `to`, if there is one of its family.
    fn socket_for(&self, to: &SocketAddr) -> Option<&Arc<io::Socket>> {
        self.sockets.iter().find(|s| s.ipv4 == to.is_ipv4())
    }

    /// Whether uTP can reach `addr` (a socket of its family).
    pub fn reaches(&self, addr: &SocketAddr) -> bool {
        self.socket_for(addr).is_some()
    }

    /// The KRPC datagrams the sockets receive, for the DHT node that shares them. Once.
    pub fn krpc_packets(&self) -> Option<mpsc::Receiver<Datagram>> {
        let (tx, rx) = mpsc::channel(KRPC_QUEUE);
        self.krpc.set(tx).ok().map(|()| rx)
    }

    /// Whether `addr` did not answer a uTP connection before.
    pub fn unanswered(&self, addr: &SocketAddr) -> bool {
        self.unanswered
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(addr)
    }

    /// Remembers that `addr` did not answer.
    pub fn remember_unanswered(&self, addr: SocketAddr) {
        let mut set = self.unanswered.lock().unwrap_or_else(|p| p.into_inner());
        if set.len() >= MAX_UNANSWERED {
            set.clear();
        }
        set.insert(addr);
    }

    /// Microseconds on the endpoint's clock.
    pub fn now(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    fn conns(&self) -> MutexGuard<'_, HashMap<(SocketAddr, u16), Shared>> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends what `e`'s connection has to send, as few calls as the packets' sizes allow. A
    /// full socket buffer drops packets, which uTP treats as a loss.
    pub fn flush(&self, e: &mut Entry) {
        let Some(socket) = self.socket_for(&e.addr) else {
            return;
        };
        let now = self.now();
        OUT.with_borrow_mut(|(packet, batch)| {
            while e.conn.poll_transmit(now, packet) {
                if !batch.push(packet) {
                    socket.send(batch, e.addr);
                    batch.clear();
                    batch.push(packet);
                }
            }
            socket.send(batch, e.addr);
            batch.clear();
        });
    }

    /// Opens a connection to `addr`; fails after [`CONNECT_TIMEOUT`] without an answer.
    pub async fn connect(self: &Arc<Self>, addr: SocketAddr) -> std::io::Result<UtpStream> {
        if !self.reaches(&addr) {
            return Err(std::io::Error::other("no UDP socket of that address family"));
        }
        let entry = {
            let mut conns = self.conns();
            if conns.len() >= MAX_CONNECTIONS {
                return Err(std::io::Error::other("too many uTP connections"));
            }
            let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
            let id = loop {
                let id = rng.next_u64() as u16;
                if !conns.contains_key(&(addr, id)) && !conns.contains_key(&(addr, id.wrapping_add(1))) {
                    break id;
                }
            };
            let entry = Arc::new(Mutex::new(Entry {
                conn: Connection::connect(self.config.clone(), id, self.now()),
                addr,
                reader: None,
                writer: None,
                released: false,
            }));
            conns.insert((addr, id), entry.clone());
            entry
        };
        self.flush(&mut lock(&entry));
        let stream = UtpStream::new(self.clone(), entry);
        match tokio::time::timeout(CONNECT_TIMEOUT, stream.connected()).await {
            Ok(Ok(())) => Ok(stream),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
        }
    }

    /// Handles one datagram; a new incoming connection is returned. The connection it was
    /// for goes into `touched`, to send its answers once for the whole batch (one ack for
    /// several packets).
    fn on_datagram(
        self: &Arc<Self>,
        bytes: &[u8],
        from: SocketAddr,
        touched: &mut Vec<Shared>,
    ) -> Option<UtpStream> {
        let p = Packet::parse(bytes).ok()?;
        let id = if p.kind == Kind::Syn {
            p.conn_id.wrapping_add(1)
        } else {
            p.conn_id
        };
        let now = self.now();
        let found = self.conns().get(&(from, id)).cloned();
        if let Some(entry) = found {
            lock(&entry).conn.handle(&p, now);
            if !touched.iter().any(|t| Arc::ptr_eq(t, &entry)) {
                touched.push(entry);
            }
            return None;
        }
        if p.kind != Kind::Syn {
            return None;
        }
        let entry = {
            let mut conns = self.conns();
            // A SYN makes state: at most so many connections in all, and from one address.
            let from_there = conns.keys().filter(|(a, _)| a.ip() == from.ip()).count();
            if conns.len() >= MAX_CONNECTIONS || from_there >= MAX_PER_ADDRESS {
                return None;
            }
            let seq = self.rng.lock().unwrap_or_else(|p| p.into_inner()).next_u64() as u16;
            let entry = Arc::new(Mutex::new(Entry {
                conn: Connection::accept(self.config.clone(), &p, seq, now),
                addr: from,
                reader: None,
                writer: None,
                released: false,
            }));
            conns.insert((from, id), entry.clone());
            entry
        };
        self.flush(&mut lock(&entry));
        Some(UtpStream::new(self.clone(), entry))
    }

    /// Runs the timers; forgets connections that ended and were let go.
    fn tick(&self) {
        let now = self.now();
        let entries: Vec<((SocketAddr, u16), Shared)> =
            self.conns().iter().map(|(k, v)| (*k, v.clone())).collect();
        let mut gone = Vec::new();
        // Once a second, each connection's state at trace level (window, queuing delay, flight).
        let report = now / 1_000_000 != now.saturating_sub(TICK.as_micros() as u64) / 1_000_000;
        for (key, entry) in entries {
            let mut e = lock(&entry);
            if report {
                tracing::trace!(?key, state = %e.conn.debug_line(), "uTP connection");
            }
            if e.conn.poll_timeout().is_some_and(|t| t <= now) {
                tracing::trace!(?key, state = %e.conn.debug_line(), "uTP timeout");
                e.conn.on_timeout(now);
                self.flush(&mut e);
                wake(&mut e);
            }
            let ended = matches!(e.conn.state(), State::Closed | State::Reset | State::TimedOut);
            // Let go and with nothing left in flight (its FIN acknowledged): done with it.
            let finished = e.released && e.conn.poll_timeout().is_none() && e.conn.state() != State::SynSent;
            if ended || finished {
                gone.push(key);
            }
        }
        if !gone.is_empty() {
            let mut conns = self.conns();
            for k in gone {
                conns.remove(&k);
            }
        }
    }
}

/// Wakes whoever waits on the connection.
pub(crate) fn wake(e: &mut Entry) {
    if let Some(w) = e.reader.take() {
        w.wake();
    }
    if let Some(w) = e.writer.take() {
        w.wake();
    }
}

/// Reads `socket` and runs the timers: datagrams in (a system call's worth, then the answers:
/// one ack covers them all), new connections out to `accepted`.
async fn receive(
    ep: Arc<Endpoint>,
    socket: Arc<io::Socket>,
    accepted: mpsc::Sender<(UtpStream, SocketAddr)>,
) {
    let mut bufs = socket.receive_buffers();
    let mut touched = Vec::new();
    let mut unanswered = 0;
    loop {
        if socket.udp.readable().await.is_err() {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        }
        let got = socket.udp.try_io(tokio::io::Interest::READABLE, || {
            socket.receive(&mut bufs, |bytes, from| {
                if bytes.first() == Some(&b'd') {
                    if let Some(krpc) = ep.krpc.get()
                        && krpc.try_send((bytes.to_vec(), from)).is_err()
                    {
                        // The DHT is behind: dropped, as a full socket buffer would.
                    }
                    return;
                }
                unanswered += 1;
                if let Some(stream) = ep.on_datagram(bytes, from, &mut touched)
                    && accepted.try_send((stream, from)).is_err()
                {
                    tracing::debug!(%from, "uTP connection refused: the accept queue is full");
                }
            })
        });
        // Answered once the socket is drained, or every so many datagrams while it is not (as
        // libtorrent defers its acks): an ack per system call would be one per datagram or
        // two when the sender is slower than us, and the sender pays for each.
        let drained = !matches!(got, Ok(()));
        if drained || unanswered >= ANSWER_AFTER {
            unanswered = 0;
            for entry in touched.drain(..) {
                let mut e = lock(&entry);
                ep.flush(&mut e);
                wake(&mut e);
            }
        }
        match got {
            Ok(()) => tokio::task::coop::consume_budget().await,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            // ICMP errors from earlier sends surface here on Linux; nothing to do.
            Err(e) => tracing::trace!(error = %e, "uTP receive"),
        }
    }
}

/// The driver: every socket read, the timers run, new connections out to `accepted`.
pub(crate) async fn drive(ep: Arc<Endpoint>, accepted: mpsc::Sender<(UtpStream, SocketAddr)>) {
    let mut readers = tokio::task::JoinSet::new();
    for socket in ep.sockets.clone() {
        readers.spawn(receive(ep.clone(), socket, accepted.clone()));
    }
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        ep.tick();
    }
}

thread_local! {
    /// A packet and the batch it joins, reused by every flush on this thread.
    static OUT: RefCell<(Vec<u8>, io::Segments)> = RefCell::new((Vec::with_capacity(1500), io::Segments::default()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syn_from(conn_id: u16) -> Vec<u8> {
        let mut out = Vec::new();
        Packet {
            kind: Kind::Syn,
            conn_id,
            timestamp: 0,
            timestamp_diff: 0,
            wnd_size: 1 << 20,
            seq_nr: 1,
            ack_nr: 0,
            sack: None,
            payload: &[],
        }
        .write(&mut out);
        out
    }

    #[tokio::test]
    async fn syns_from_one_address_are_capped() {
        let ep = Endpoint::new(UdpPair::bind("127.0.0.1:0".parse().unwrap()).unwrap());
        let from: SocketAddr = "127.0.0.1:5555".parse().unwrap();
        let mut touched = Vec::new();
        let mut accepted = Vec::new();
        for id in 0..100u16 {
            accepted.extend(ep.on_datagram(&syn_from(id * 2), from, &mut touched));
        }
        assert_eq!(accepted.len(), MAX_PER_ADDRESS);
        let other: SocketAddr = "127.0.0.2:5555".parse().unwrap();
        let syn = syn_from(1);
        assert!(
            ep.on_datagram(&syn, other, &mut touched).is_some(),
            "another address still gets in"
        );
    }
}
