//! One torrent in a session: the state its peers share (behind one short-held lock), the
//! driver task that runs its timers, and the [`TorrentHandle`] users hold.
//!
//! # Lock order
//!
//! The engine's locks are std mutexes held for a few field updates, never across an
//! `.await` (their guards are not `Send`, so the compiler refuses it in spawned tasks) and
//! never around disk or network I/O. Where one is taken inside another, the outer one comes
//! first in this list; a lock is never taken while one below it is held:
//!
//! 1. `SessionShared::torrents` (session.rs): only to look a torrent up, add or remove it;
//!    nothing else is locked meanwhile, and torrents are cloned out before use.
//! 2. [`TorrentShared::state`] (`TorrentShared::lock`): the picker, the peers' entries, the
//!    known addresses. Inside it may come:
//! 3. [`TorrentShared::tiers`] (snapshots read the trackers' statuses under the state), and
//! 4. `SessionShared::external_ip` (trimming known peers asks for our address).
//!
//! Leaves, never held while another lock is taken: a peer's pending requests
//! (`peer/writer.rs`, taken after the state is released), the rate limiters' buckets, the
//! resume journal, and storage's locks (file pool, piece writer, sync, simulated faults),
//! which are only taken with no torrent lock held: blocks are written and pieces hashed
//! after the state lock is released. A peer's flags (`peer/flags.rs`) and counters are
//! atomics, read without any lock.

mod assembly;
mod disk;
mod driver;
mod handle;
mod schedule;
mod start;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use metainfo::Info;
use tokio::sync::{mpsc, oneshot, watch};
use wire::{Bitfield, BlockRequest};

use crate::picker::{PeerKey, Picker};
use crate::rate::Limiter;
use crate::resume::ResumeStore;
use crate::session::SessionShared;
use crate::storage::Storage;
use crate::tracker::Tiers;
use assembly::Assembly;

pub(crate) use assembly::{Budget, PieceBuf, Put};
pub(crate) use disk::{DiskState, Held};
pub use handle::TorrentHandle;
pub(crate) use start::start;

/// Counters of one peer connection, written by its tasks and read by snapshots.
#[derive(Debug, Default)]
pub(crate) struct PeerStats {
    pub downloaded: AtomicU64,
    pub uploaded: AtomicU64,
    pub down_rate: AtomicU64,
    pub up_rate: AtomicU64,
    /// Bytes in its send queue now, and the most there ever were (see `peer/send.rs`).
    pub send_queue: AtomicU64,
    pub send_queue_peak: AtomicU64,
    /// Choking, interest and snubbing: written by the peer's task only.
    pub flags: crate::peer::PeerFlags,
}

/// Orders from the torrent (or another peer) to a peer's task.
#[derive(Debug, Clone)]
pub(crate) enum PeerCmd {
    /// Send this ut_pex payload (BEP 11).
    Pex(Vec<u8>),
    /// We verified a piece: tell the peer.
    Have(u32),
    /// The choker closed its slot.
    Choke,
    /// The choker gave it a slot.
    Unchoke,
    /// Another peer delivered this block first (endgame).
    Cancel(BlockRequest),
    /// Blocks were freed (failed piece, lost peer): ask for more.
    Refill,
    /// Disconnect.
    Close,
}

/// What the torrent knows about a connected peer.
#[derive(Debug)]
pub(crate) struct PeerEntry {
    pub addr: SocketAddr,
    pub id: ids::PeerId,
    pub client: Option<String>,
    pub cmd: mpsc::UnboundedSender<PeerCmd>,
    pub stats: Arc<PeerStats>,
    pub pieces: Bitfield,
    pub am_choking: bool,
    pub peer_interested: bool,
    pub outgoing: bool,
    /// Plaintext, obfuscated or RC4.
    pub crypto: crate::peer::transport::Crypto,
    /// `tcp` or `utp`.
    pub transport: &'static str,
    /// The port it listens on (its address for outgoing connections, else BEP 10 `p`).
    pub listen_port: Option<u16>,
    /// Its id for ut_pex messages, when it supports them.
    pub pex_id: Option<u8>,
    /// The addresses our last ut_pex messages told it about.
    pub pex_sent: HashSet<SocketAddr>,
    pub meters: (crate::rate::RateMeter, crate::rate::RateMeter),
}

/// A peer address we know of.
#[derive(Debug, Default)]
pub(crate) struct Known {
    pub connected: bool,
    pub failures: u32,
    pub retry_at: Option<tokio::time::Instant>,
}

/// State shared by the peers of a torrent, behind [`TorrentShared::state`].
#[derive(Debug)]
pub(crate) struct State {
    pub picker: Picker,
    /// Buffers of the partial pieces the picker tracks.
    pub assembly: Assembly,
    pub peers: HashMap<PeerKey, PeerEntry>,
    pub known: HashMap<SocketAddr, Known>,
    pub connecting: usize,
    pub next_key: PeerKey,
    pub strikes: HashMap<SocketAddr, u32>,
    /// Banned addresses (see [`ban_key`]) and peer ids.
    pub banned: HashSet<SocketAddr>,
    pub banned_ids: HashSet<ids::PeerId>,
    pub optimistic: Option<PeerKey>,
    pub error: Option<String>,
    pub hash_failures: u64,
    /// Disk write errors: while one lasts, the torrent is paused.
    pub disk: DiskState,
}

impl PeerEntry {
    /// Where other peers can reach it, if known.
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.listen_port.map(|port| SocketAddr::new(self.addr.ip(), port))
    }
}

impl State {
    /// Peers we do not choke.
    pub fn unchoked(&self) -> usize {
        self.peers.values().filter(|p| !p.am_choking).count()
    }
}

/// What a ban applies to: the IP address, or on loopback (where every test peer shares one
/// address) the IP and port.
pub(crate) fn ban_key(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_loopback() {
        addr
    } else {
        SocketAddr::new(addr.ip(), 0)
    }
}

/// Byte counters of a torrent.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    pub downloaded: AtomicU64,
    pub uploaded: AtomicU64,
    pub wasted: AtomicU64,
    pub down_rate: AtomicU64,
    pub up_rate: AtomicU64,
}

/// Messages to a torrent's driver task.
#[derive(Debug)]
pub(crate) enum Event {
    /// A hash check finished; a piece assembled in memory brings its buffer back.
    PieceChecked {
        piece: u32,
        outcome: Checked,
        buffer: Option<PieceBuf>,
    },
    /// A peer connected: an idle torrent's driver goes back to one-second ticks.
    PeerJoined,
    /// A peer task ended.
    PeerGone { addr: SocketAddr },
    /// New addresses (tracker, PEX, user).
    AddPeers(Vec<SocketAddr>),
    /// An announce finished: the peers and when to come back, or a failure (its cause is
    /// in the trackers' statuses).
    Announced(Result<(Vec<SocketAddr>, schedule::Reply), ()>),
    /// Hash everything on disk again.
    Recheck(oneshot::Sender<()>),
    /// Save state, say goodbye to the trackers and stop.
    Stop(oneshot::Sender<()>),
}

/// How the check of a complete piece ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Checked {
    /// Its hash matched and it is on disk (and in the resume journal).
    Good,
    /// Its hash did not match: its senders get strikes.
    Corrupt,
}

/// Fixed facts about a torrent.
#[derive(Debug)]
pub(crate) struct Meta {
    pub info: Arc<Info>,
    /// The `info` dictionary's bytes, served to peers that fetch it (BEP 9).
    pub info_bytes: Arc<[u8]>,
    pub info_hash: ids::InfoHash,
    pub num_pieces: usize,
    pub total_len: u64,
    pub private: bool,
}

/// Everything a torrent's tasks share.
#[derive(Debug)]
pub(crate) struct TorrentShared {
    pub meta: Meta,
    pub storage: Arc<Storage>,
    pub state: Mutex<State>,
    pub totals: Totals,
    pub down: Limiter,
    pub up: Limiter,
    pub session: Arc<SessionShared>,
    pub events: mpsc::UnboundedSender<Event>,
    pub complete: watch::Sender<bool>,
    /// Woken whenever pieces become verified (streams wait on it for their pieces).
    pub verified: tokio::sync::Notify,
    pub checking: AtomicBool,
    pub resume: ResumeStore,
    pub tiers: Mutex<Tiers>,
    pub started: SystemTime,
    /// The runtime the torrent's tasks run on, for those started from blocking threads.
    pub runtime: tokio::runtime::Handle,
    /// The torrent's span (`info_hash` in hex): its tasks and its peers' spans are in it.
    pub span: tracing::Span,
}

impl TorrentShared {
    /// Locks the shared state. A poisoned lock means a peer task panicked mid-update; the
    /// state is still the best we have, so keep going.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends an event to the driver (ignored once it stopped).
    pub fn event(&self, e: Event) {
        let _ = self.events.send(e);
    }

    pub fn is_complete(&self) -> bool {
        *self.complete.borrow()
    }

    pub fn add_wasted(&self, n: u64) {
        self.totals.wasted.fetch_add(n, Ordering::Relaxed);
    }

    /// Checks a complete piece on the rayon pool (one thread per core: more would only
    /// contend): hashed from its buffer and then written, or (its blocks already on disk)
    /// read back and hashed. A good piece is journalled before the driver hears of it; one
    /// that cannot be written is held and the torrent pauses (see [`disk`]).
    pub fn check_piece(self: &Arc<Self>, piece: u32, buffer: Option<PieceBuf>) {
        let t = self.clone();
        rayon::spawn(move || {
            let _span = t.span.clone().entered();
            let (outcome, buffer) = match buffer {
                Some(buf) if !t.storage.piece_matches(piece, buf.bytes()) => (Checked::Corrupt, Some(buf)),
                Some(buf) => match t.storage.write_piece(piece, buf.bytes()) {
                    Ok(()) => (Checked::Good, Some(buf)),
                    // Neither good nor bad yet: held until a retry writes it.
                    Err(e) => return t.write_failed(Held::Piece(piece, buf), &e),
                },
                None if t.storage.check_piece(piece).unwrap_or(false) => (Checked::Good, None),
                None => (Checked::Corrupt, None),
            };
            if outcome == Checked::Good
                && let Err(e) = t.resume.append(piece)
            {
                t.lock().error = Some(format!("resume journal: {e}"));
            }
            t.event(Event::PieceChecked {
                piece,
                outcome,
                buffer,
            });
        });
    }
}
