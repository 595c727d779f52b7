//! uTP on the session's UDP sockets: the thin driver around the pure `utp` crate. One task
//! takes the datagrams (from the sockets, or from the DHT when it shares them: packets that
//! do not start with `d`), hands each to its connection by (address, connection id), runs
//! the retransmission timers, and passes new incoming connections to the session. Streams
//! send from the caller's task, straight to the socket.

mod stream;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;
use std::time::Duration;

use tokio::sync::mpsc;
use utp::{Connection, Kind, Packet, State};

use crate::dht::{Datagram, UdpPair};
use crate::rng::Rng;

pub(crate) use stream::UtpStream;

/// Datagrams handled before their connections answer (one ack covers them all).
const BATCH: usize = 64;
/// Datagrams waiting for the driver; past this the newest are dropped, as the kernel would.
const FEED: usize = 4096;
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
    pub sockets: UdpPair,
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
            sockets,
            config: utp::Config::default(),
            conns: Mutex::new(HashMap::new()),
            unanswered: Mutex::new(std::collections::HashSet::new()),
            rng: Mutex::new(Rng::from_entropy(0x0075_7470)),
            epoch: std::time::Instant::now(),
        })
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

    /// Sends what `e`'s connection has to send. A full socket buffer drops the packet, which
    /// uTP treats as a loss.
    pub fn flush(&self, e: &mut Entry) {
        let Some(socket) = self.sockets.socket_for(&e.addr) else {
            return;
        };
        let now = self.now();
        let mut buf = Vec::with_capacity(self.config.packet_size + 64);
        while e.conn.poll_transmit(now, &mut buf) {
            let _ = socket.try_send_to(&buf, e.addr);
        }
    }

    /// Opens a connection to `addr`; fails after [`CONNECT_TIMEOUT`] without an answer.
    pub async fn connect(self: &Arc<Self>, addr: SocketAddr) -> std::io::Result<UtpStream> {
        if self.sockets.socket_for(&addr).is_none() {
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

/// Reads the sockets until the DHT takes them over (the task is then aborted), passing
/// what is not KRPC to `feed`.
pub(crate) async fn read_socket(socket: Arc<tokio::net::UdpSocket>, feed: mpsc::Sender<Datagram>) {
    let mut buf = vec![0u8; 65_536];
    loop {
        let Ok((n, from)) = socket.recv_from(&mut buf).await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        if n > 0 && buf[0] != b'd' && feed.try_send((buf[..n].to_vec(), from)).is_err() {
            // The driver is behind: dropped, as a full socket buffer would.
        }
    }
}

/// The driver: datagrams in, timers, new connections out to `accepted`.
pub(crate) async fn drive(
    ep: Arc<Endpoint>,
    mut feed: mpsc::Receiver<Datagram>,
    accepted: mpsc::Sender<(UtpStream, SocketAddr)>,
) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut touched = Vec::new();
    loop {
        tokio::select! {
            // Packets first: a timer must not fire for an answer that is already here.
            biased;
            got = feed.recv() => {
                let Some(first) = got else { return };
                // This one and whatever else is queued (up to a batch), then the answers.
                let mut next = Some(first);
                let mut n = 0;
                while let Some((bytes, from)) = next.take() {
                    if let Some(stream) = ep.on_datagram(&bytes, from, &mut touched)
                        && accepted.try_send((stream, from)).is_err()
                    {
                        tracing::debug!(%from, "uTP connection refused: the accept queue is full");
                    }
                    n += 1;
                    if n < BATCH {
                        next = feed.try_recv().ok();
                    }
                }
                for entry in touched.drain(..) {
                    let mut e = lock(&entry);
                    ep.flush(&mut e);
                    wake(&mut e);
                }
            }
            _ = tick.tick() => ep.tick(),
        }
    }
}

/// The feed for [`drive`].
pub(crate) fn feed() -> (mpsc::Sender<Datagram>, mpsc::Receiver<Datagram>) {
    mpsc::channel(FEED)
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
