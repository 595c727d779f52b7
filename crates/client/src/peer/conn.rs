//! The reading half of a connection and the peer's protocol state: frames are parsed in the
//! receive buffer and blocks written to storage straight from it (no copy in between).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use tokio::sync::mpsc;
use tracing::Instrument;
use wire::extended::{ExtendedHandshake, UT_METADATA, UT_PEX};
use wire::pex::Pex;
use wire::{Bitfield, BlockRequest, Handshake, Limits, Message};

use super::closed::Closed;
use super::flags::PeerFlags;
use super::frames::FrameReader;
use super::queue;
use super::writer::{self, Pending};
use crate::picker::PeerKey;
use crate::torrent::{Event, PeerCmd, PeerEntry, PeerStats, TorrentShared, ban_key};

/// The ids we receive ut_pex and ut_metadata messages under.
const UT_PEX_ID: u8 = 1;
pub(crate) const UT_METADATA_ID: u8 = 2;
/// Requests we queue for a peer before rejecting more.
pub(super) const MAX_PENDING: usize = 500;
/// Fewest and most requests kept in flight to one peer.
pub(super) const MIN_QUEUE: usize = 64;
pub(super) const MAX_QUEUE: usize = 500;

/// One peer's protocol state, owned by its reader task.
pub(super) struct Conn {
    pub(super) t: Arc<TorrentShared>,
    pub(super) key: PeerKey,
    pub(super) addr: SocketAddr,
    pub(super) out: queue::Sender,
    /// Most bytes queued for this peer (see `send.rs`).
    pub(super) send_cap: usize,
    /// Something did not fit in the send queue: the connection closes.
    pub(super) overflowed: bool,
    pub(super) pending: Pending,
    pub(super) stats: Arc<PeerStats>,
    pub(super) limits: Limits,
    pub(super) fast: bool,
    /// The peer's id for ut_metadata messages (never set for a private torrent).
    pub(super) metadata_id: Option<u8>,
    pub(super) reqq: usize,
    pub(super) outstanding: HashSet<BlockRequest>,
    pub(super) last_block: Instant,
    pub(super) last_recv: Instant,
    pub(super) last_send: Instant,
    pub(super) batch: Vec<u8>,
    /// Queue depth before the first rate sample (see `queue_depth`).
    pub(super) slow_start: usize,
    /// Whether the peer already sent its DHT port (BEP 5).
    pub(super) dht_port_seen: bool,
}

/// Registers the peer, runs it and cleans up.
pub(super) async fn run(
    t: Arc<TorrentShared>,
    stream: super::transport::Transport,
    addr: SocketAddr,
    theirs: Handshake,
    outgoing: bool,
) {
    if theirs.peer_id == t.session.peer_id {
        return;
    }
    let super::transport::Transport { rd, wr, crypto, kind } = stream;
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let stats = Arc::new(PeerStats::default());
    let key = {
        let mut s = t.lock();
        let full = s.peers.len() >= t.session.config.max_peers_per_torrent;
        let twice = s.peers.values().any(|p| p.id == theirs.peer_id);
        let banned = s.banned.contains(&ban_key(addr)) || s.banned_ids.contains(&theirs.peer_id);
        let paused = s.disk.paused();
        if full || twice || banned || paused {
            tracing::debug!(full, twice, banned, paused, "peer refused");
            return;
        }
        let key = s.next_key;
        s.next_key += 1;
        s.peers.insert(
            key,
            PeerEntry {
                addr,
                id: theirs.peer_id,
                client: None,
                cmd: cmd_tx,
                stats: stats.clone(),
                pieces: Bitfield::new(t.meta.num_pieces),
                am_choking: true,
                peer_interested: false,
                outgoing,
                crypto,
                transport: kind,
                listen_port: outgoing.then_some(addr.port()),
                pex_id: None,
                pex_sent: HashSet::new(),
                meters: Default::default(),
            },
        );
        key
    };
    let counters = &t.session.counters;
    crate::counters::Counters::bump(match crypto {
        super::transport::Crypto::Plaintext => &counters.peers_plaintext,
        super::transport::Crypto::Obfuscated => &counters.peers_obfuscated,
        super::transport::Crypto::Rc4 => &counters.peers_rc4,
    });
    crate::counters::Counters::bump(if kind == "utp" {
        &counters.peers_utp
    } else {
        &counters.peers_tcp
    });
    t.event(Event::PeerJoined);
    let (out, out_rx) = queue::channel(stats.clone());
    let pending: Pending = Arc::new(Mutex::new(HashSet::new()));
    let writer =
        tokio::spawn(writer::run(t.clone(), wr, out_rx, pending.clone(), stats.clone()).in_current_span());
    let now = Instant::now();
    let mut c = Conn {
        t: t.clone(),
        key,
        addr,
        out,
        send_cap: super::send::cap(&t),
        overflowed: false,
        pending,
        stats,
        limits: Limits::for_torrent(t.meta.num_pieces, wire::MAX_REQUEST_LEN),
        fast: theirs.reserved.fast(),
        metadata_id: None,
        reqq: 250,
        outstanding: HashSet::new(),
        last_block: now,
        last_recv: now,
        last_send: now,
        batch: Vec::with_capacity(4096),
        slow_start: MIN_QUEUE,
        dht_port_seen: false,
    };
    tracing::debug!(key, "peer connected");
    c.greet(theirs.reserved.extension_protocol());
    c.send_dht_port(theirs.reserved.has(wire::Reserved::DHT));
    if let Err(why) = c.run(rd, cmd_rx).await {
        tracing::debug!(key, why = %crate::error::chain(&why), "peer disconnected");
    }
    drop(c.out);
    writer.abort();
    let mut s = t.lock();
    if let Some(e) = s.peers.remove(&key) {
        s.picker.remove_availability(&e.pieces);
    }
    s.picker.release(key);
    for p in s.peers.values() {
        let _ = p.cmd.send(PeerCmd::Refill);
    }
}

impl Conn {
    /// The flags this task owns (see `flags.rs`).
    pub(super) fn flags(&self) -> &PeerFlags {
        &self.stats.flags
    }

    fn greet(&mut self, extensions: bool) {
        let have = self.t.lock().picker.have().clone();
        match (self.fast, have.count()) {
            (true, 0) => self.send(Message::HaveNone),
            (true, _) if have.is_full() => self.send(Message::HaveAll),
            (_, 0) => {}
            _ => self.send(Message::Bitfield(have.as_bytes())),
        }
        if extensions {
            let hs = ExtendedHandshake {
                extensions: if self.t.meta.private {
                    Vec::new()
                } else {
                    vec![
                        (UT_PEX.to_owned(), UT_PEX_ID),
                        (UT_METADATA.to_owned(), UT_METADATA_ID),
                    ]
                },
                client: Some(self.t.session.config.client_name.clone()),
                port: self.t.session.listen.first().map(SocketAddr::port),
                reqq: Some(MAX_PENDING as u32),
                your_ip: Some(self.addr.ip()),
                metadata_size: (!self.t.meta.private).then_some(self.t.meta.info_bytes.len() as u64),
                upload_only: false,
            };
            let mut payload = Vec::new();
            hs.write(&mut payload);
            self.send(Message::Extended {
                id: 0,
                payload: &payload,
            });
        }
        self.flush();
    }

    /// BEP 5: our DHT port, to a peer whose handshake says it runs a DHT node too.
    fn send_dht_port(&mut self, theirs: bool) {
        if !theirs || self.t.meta.private {
            return;
        }
        if let Some(port) = self
            .t
            .session
            .dht()
            .and_then(|d| d.local_addr().ok())
            .map(|a| a.port())
        {
            self.send(Message::Port(port));
            self.flush();
        }
    }

    /// A peer's DHT port: the node is pinged into our table. Once per connection, so a peer
    /// cannot make us ping a stream of addresses.
    fn on_dht_port(&mut self, port: u16) {
        if port == 0 || self.dht_port_seen || self.t.meta.private {
            return;
        }
        self.dht_port_seen = true;
        if let Some(dht) = self.t.session.dht() {
            dht.add_node(SocketAddr::new(self.addr.ip(), port));
        }
    }

    async fn run(
        &mut self,
        mut rd: super::transport::PeerReader,
        mut cmds: mpsc::UnboundedReceiver<PeerCmd>,
    ) -> Result<(), Closed> {
        let mut input = FrameReader::new(256 * 1024, self.limits);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            // A peer that does not read what we queue for it is not read either, until the
            // writer has made room: its requests wait in the socket, not in our memory.
            let reading = self.may_parse();
            // Under a download limit, read no more than the limit allows (one block at least), so
            // a slow limit delays this peer by about a block, not by a whole buffer.
            let quota =
                crate::rate::read_quota(&[&self.t.down, &self.t.session.down], 16 * 1024, input.spare());
            tokio::select! {
                r = input.read_from(&mut rd, quota), if reading => {
                    let n = r?;
                    self.last_recv = Instant::now();
                    self.parse(&mut input)?;
                    self.fill_requests();
                    self.flush();
                    crate::rate::spend(&[&self.t.down, &self.t.session.down], n as u64).await;
                }
                () = self.out.drained(), if !reading => {
                    self.parse(&mut input)?;
                    self.fill_requests();
                    self.flush();
                }
                cmd = cmds.recv() => {
                    self.command(cmd.ok_or(Closed::TorrentStopped)?)?;
                    self.fill_requests();
                    self.flush();
                }
                _ = tick.tick() => {
                    self.tick()?;
                    self.flush();
                }
            }
            if self.overflowed {
                return Err(Closed::SendQueueFull);
            }
        }
    }

    /// Handles the whole frames received, as long as the send queue has room for answers.
    fn parse(&mut self, input: &mut FrameReader) -> Result<(), Closed> {
        while self.may_parse() {
            let Some(m) = input.next_frame()? else { break };
            self.handle(m)?;
        }
        input.compact();
        Ok(())
    }

    pub(super) fn with_entry<R>(&self, f: impl FnOnce(&mut PeerEntry) -> R) -> Option<R> {
        self.t.lock().peers.get_mut(&self.key).map(f)
    }

    fn handle(&mut self, m: Message<'_>) -> Result<(), Closed> {
        let n = self.t.meta.num_pieces;
        if !matches!(m, Message::Piece { .. }) {
            tracing::trace!(message = ?m, "received");
        }
        match m {
            Message::Piece { index, begin, data } => self.on_block(index, begin, data)?,
            Message::Choke => {
                self.flags().set_peer_choking(true);
                // BEP 6: with the fast extension a choke no longer drops our requests; the peer
                // rejects those it will not serve, and blocks already on their way still come.
                // Releasing them here would ask again for blocks in flight and receive them twice.
                // (A peer that never rejects is snubbed and released after `snub_timeout`.)
                if !self.fast {
                    self.release_all();
                }
            }
            Message::Unchoke => self.flags().set_peer_choking(false),
            Message::Interested => self.on_interested(true),
            Message::NotInterested => self.on_interested(false),
            Message::Have(i) if (i as usize) < n => {
                let wanted = {
                    let mut guard = self.t.lock();
                    let s = &mut *guard;
                    let Some(e) = s.peers.get_mut(&self.key) else {
                        return Err(Closed::Unregistered);
                    };
                    if e.pieces.set(i as usize, true) {
                        s.picker.peer_has(i);
                    }
                    !s.picker.have().get(i as usize)
                };
                if wanted && !self.flags().am_interested() {
                    self.set_interest(true);
                }
            }
            Message::Have(piece) => return Err(Closed::HaveOutOfRange { piece }),
            Message::Bitfield(bytes) => {
                let bits = Bitfield::from_bytes(bytes, n).map_err(Closed::BadBitfield)?;
                self.set_pieces(bits)?;
            }
            Message::HaveAll => self.set_pieces(Bitfield::full(n))?,
            Message::HaveNone => self.set_pieces(Bitfield::new(n))?,
            Message::Request(r) => self.on_request(r),
            Message::Cancel(r) => {
                if let Ok(mut p) = self.pending.lock() {
                    p.remove(&r);
                }
            }
            Message::Reject(r) if self.outstanding.remove(&r) => {
                self.t.lock().picker.cancel(&r, self.key);
            }
            Message::Extended { id: 0, payload } => {
                if let Ok(hs) = ExtendedHandshake::parse(payload) {
                    self.reqq = hs.reqq.map_or(250, |q| q.clamp(16, 2000) as usize);
                    let pex_id = hs.id_of(UT_PEX).filter(|_| !self.t.meta.private);
                    self.metadata_id = hs.id_of(UT_METADATA).filter(|_| !self.t.meta.private);
                    if let Some(ip) = hs.your_ip {
                        self.t.session.learn_ip(ip);
                    }
                    self.with_entry(|e| {
                        e.client = hs.client;
                        e.pex_id = pex_id;
                        e.listen_port = e.listen_port.or(hs.port.filter(|&p| p != 0));
                    });
                }
            }
            Message::Extended {
                id: UT_METADATA_ID,
                payload,
            } => self.on_metadata(payload),
            Message::Port(port) => self.on_dht_port(port),
            Message::Extended {
                id: UT_PEX_ID,
                payload,
            } if !self.t.meta.private => {
                if let Ok(pex) = Pex::parse(payload) {
                    let addrs = pex.added.into_iter().map(|(a, _)| a).filter(|a| a.port() != 0);
                    self.t.event(Event::AddPeers(addrs.collect()));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn set_pieces(&mut self, bits: Bitfield) -> Result<(), Closed> {
        let (both_seeds, wanted) = {
            let mut guard = self.t.lock();
            let s = &mut *guard;
            let Some(e) = s.peers.get_mut(&self.key) else {
                return Err(Closed::Unregistered);
            };
            s.picker.remove_availability(&e.pieces);
            s.picker.add_availability(&bits);
            let both_seeds = bits.is_full() && s.picker.have().is_full();
            let wanted = s.picker.is_interesting(&bits);
            e.pieces = bits;
            (both_seeds, wanted)
        };
        if both_seeds {
            return Err(Closed::BothSeeds);
        }
        self.set_interest(wanted);
        Ok(())
    }

    pub(super) fn set_interest(&mut self, on: bool) {
        if on != self.flags().am_interested() {
            self.flags().set_am_interested(on);
            self.send(if on {
                Message::Interested
            } else {
                Message::NotInterested
            });
        }
    }

    fn on_interested(&mut self, on: bool) {
        let slots = self.t.session.config.upload_slots;
        let mut s = self.t.lock();
        let free = s.unchoked() < slots;
        let Some(e) = s.peers.get_mut(&self.key) else {
            return;
        };
        e.peer_interested = on;
        // A free slot is given at once rather than at the next choker round.
        if on && e.am_choking && free {
            e.am_choking = false;
            drop(s);
            self.send(Message::Unchoke);
        }
    }
}
