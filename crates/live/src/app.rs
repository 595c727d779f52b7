//! What the handlers share: the swarms, the signaling relay, the WebTorrent tracker, the
//! open sockets, and the per-address limits counted before any work.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::config::LiveSection;
use crate::signal::Relay;
use crate::swarm::{SwarmLimits, Swarms};
use crate::webtorrent::{WebTorrent, WtLimits};

/// Most client addresses tracked by the announce limiter (beyond it the window restarts).
const MAX_TRACKED: usize = 100_000;

/// Locks a mutex, taking it over if a panic poisoned it (the data is still consistent: every
/// change under these locks is a single step).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    /// Announces answered.
    pub announces: AtomicU64,
    /// Requests refused for a per-address limit.
    pub rate_limited: AtomicU64,
    /// Signals relayed.
    pub signals: AtomicU64,
    /// Signals to a target that was gone.
    pub signals_gone: AtomicU64,
    /// Signals refused (no offer, another channel, malformed, too fast).
    pub signals_refused: AtomicU64,
    /// WebTorrent messages handled.
    pub webtorrent_messages: AtomicU64,
    /// WebSockets refused for a cap.
    pub sockets_refused: AtomicU64,
}

impl Counters {
    /// Adds one.
    pub fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// The live tracker's state.
#[derive(Debug)]
pub struct App {
    /// The settings.
    pub config: LiveSection,
    /// Seed 001's channels.
    pub swarms: Mutex<Swarms>,
    /// Signaling.
    pub relay: Mutex<Relay>,
    /// The WebTorrent tracker.
    pub webtorrent: Mutex<WebTorrent>,
    /// Open WebTorrent sockets, by serial.
    pub wt_sockets: Mutex<HashMap<u64, mpsc::Sender<String>>>,
    /// Random numbers.
    pub rng: Mutex<rng::Rng>,
    /// Counters.
    pub counters: Counters,
    announces: Mutex<HashMap<IpAddr, (Instant, u32)>>,
    sockets: Mutex<(usize, HashMap<IpAddr, usize>)>,
    next_socket: AtomicU64,
}

/// A WebSocket's claim on the socket caps, released when dropped.
#[derive(Debug)]
pub struct SocketSlot {
    app: Arc<App>,
    ip: IpAddr,
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut s = lock(&self.app.sockets);
        s.0 = s.0.saturating_sub(1);
        if let Some(n) = s.1.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                s.1.remove(&self.ip);
            }
        }
    }
}

impl App {
    /// The state for `config`.
    pub fn new(config: LiveSection) -> Arc<Self> {
        let timeout = Duration::from_secs(u64::from(config.peer_timeout.max(1)));
        let swarms = Swarms::new(SwarmLimits {
            peer_timeout: timeout,
            max_peers_returned: config.max_peers_returned,
            max_peers_per_channel: config.max_viewers_per_channel,
            max_channels: config.max_channels,
            max_peers: config.max_viewers,
            connection_target: config.connection_target,
        });
        let webtorrent = WebTorrent::new(WtLimits {
            interval: config.webtorrent_interval,
            peer_timeout: Duration::from_secs(config.webtorrent_interval.saturating_mul(3) / 2),
            max_swarms: config.max_channels,
            max_peers_per_swarm: config.max_viewers_per_channel,
            max_pending: 200_000,
        });
        Arc::new(Self {
            config,
            swarms: Mutex::new(swarms),
            relay: Mutex::new(Relay::default()),
            webtorrent: Mutex::new(webtorrent),
            wt_sockets: Mutex::new(HashMap::new()),
            rng: Mutex::new(rng::Rng::from_entropy(14)),
            counters: Counters::default(),
            announces: Mutex::new(HashMap::new()),
            sockets: Mutex::new((0, HashMap::new())),
            next_socket: AtomicU64::new(1),
        })
    }

    /// 20 random bytes and a random number.
    pub fn random(&self) -> ([u8; 20], u64) {
        let mut r = lock(&self.rng);
        let mut b = [0u8; 20];
        r.fill(&mut b);
        (b, r.next_u64())
    }

    /// Counts an announce from `ip`; false when it is over the per-minute limit.
    pub fn allow_announce(&self, ip: IpAddr, now: Instant) -> bool {
        let mut m = lock(&self.announces);
        if m.len() >= MAX_TRACKED && !m.contains_key(&ip) {
            m.retain(|_, (start, _)| now.saturating_duration_since(*start) < Duration::from_secs(60));
            if m.len() >= MAX_TRACKED {
                m.clear();
            }
        }
        let entry = m.entry(ip).or_insert((now, 0));
        if now.saturating_duration_since(entry.0) >= Duration::from_secs(60) {
            *entry = (now, 0);
        }
        entry.1 += 1;
        let ok = entry.1 <= self.config.announces_per_ip_per_minute;
        if !ok {
            Counters::bump(&self.counters.rate_limited);
        }
        ok
    }

    /// Claims a WebSocket slot for `ip`, if the caps allow.
    pub fn socket_slot(self: &Arc<Self>, ip: IpAddr) -> Option<SocketSlot> {
        let mut s = lock(&self.sockets);
        let here = s.1.get(&ip).copied().unwrap_or(0);
        if s.0 >= self.config.max_sockets || here >= self.config.max_sockets_per_ip {
            Counters::bump(&self.counters.sockets_refused);
            return None;
        }
        s.0 += 1;
        *s.1.entry(ip).or_default() += 1;
        Some(SocketSlot {
            app: self.clone(),
            ip,
        })
    }

    /// Open WebSockets.
    pub fn open_sockets(&self) -> usize {
        lock(&self.sockets).0
    }

    /// A fresh socket serial.
    pub fn socket_serial(&self) -> u64 {
        self.next_socket.fetch_add(1, Ordering::Relaxed)
    }

    /// Once a second: viewers, offers and WebTorrent peers past their time go.
    pub fn expire(&self, now: Instant) {
        let gone = lock(&self.swarms).expire(now);
        if !gone.is_empty() {
            tracing::debug!(viewers = gone.len(), "viewers timed out");
        }
        lock(&self.relay).expire(now);
        lock(&self.webtorrent).expire(now);
    }
}
