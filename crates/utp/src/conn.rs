//! One uTP connection as a state machine: packets in through [`Connection::handle`], packets
//! out through [`Connection::poll_transmit`], bytes through [`Connection::write`] and
//! [`Connection::read`], time through [`Connection::on_timeout`]. No sockets, no clock.

use std::collections::{HashMap, VecDeque};

use crate::ledbat::{Ledbat, Rtt};
use crate::packet::{HEADER, Kind, Packet};
use crate::seq::{before, distance};

/// Settings of a connection.
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest datagram sent (header included). 1400 fits every path that carries IPv6's
    /// minimum MTU plus tunnels, as libtorrent's starting size does.
    pub packet_size: usize,
    /// Most bytes accepted from the application and not yet acknowledged.
    pub send_buffer: usize,
    /// Most bytes received and not yet read (the window we advertise).
    pub recv_buffer: usize,
    /// Timeouts in a row after which the connection is given up.
    pub max_retries: u32,
    /// Timeouts of the SYN after which it is given up: 1 (3 s in all, libtorrent's figure),
    /// so that a peer without uTP is dialled over TCP soon.
    pub syn_retries: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            packet_size: 1400,
            send_buffer: 1 << 20,
            recv_buffer: 1 << 20,
            max_retries: 7,
            syn_retries: 1,
        }
    }
}

/// Where a connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Our SYN is out; no answer yet.
    SynSent,
    /// We answered a SYN; nothing else from the initiator yet, so we send no data (our
    /// answer may have been lost, and the initiator learns our first sequence number from it).
    SynRecv,
    /// Data flows.
    Connected,
    /// Both sides sent FIN and ours was acknowledged.
    Closed,
    /// The peer reset the connection.
    Reset,
    /// No answer after `max_retries` timeouts.
    TimedOut,
}

/// Most packets held out of order.
pub(crate) const MAX_REORDER: u16 = 1024;

/// A packet sent and not yet acknowledged.
#[derive(Debug)]
pub(crate) struct Sent {
    pub seq: u16,
    pub kind: Kind,
    pub payload: Vec<u8>,
    pub sent_at: u64,
    pub transmissions: u32,
    pub resend: bool,
    pub sacked: bool,
    /// The next sequence number at its last transmission: packets from it on left later.
    pub mark: u16,
}

impl Sent {
    pub fn size(&self) -> usize {
        HEADER + self.payload.len()
    }
}

/// A uTP connection.
#[derive(Debug)]
pub struct Connection {
    pub(crate) config: Config,
    pub(crate) state: State,
    pub(crate) recv_id: u16,
    pub(crate) send_id: u16,
    /// The next sequence number for a DATA or FIN packet.
    pub(crate) seq_nr: u16,
    /// The last packet received in order.
    pub(crate) ack_nr: u16,
    pub(crate) cc: Ledbat,
    pub(crate) rtt: Rtt,
    pub(crate) flight: VecDeque<Sent>,
    /// Bytes of the packets in flight that are neither acked nor selectively acked.
    pub(crate) flight_bytes: usize,
    /// Packets of the flight marked to be sent again (so that sending need not look for them).
    pub(crate) lost: usize,
    pub(crate) outgoing: VecDeque<u8>,
    pub(crate) close_requested: bool,
    pub(crate) fin_sent: bool,
    pub(crate) peer_wnd: u32,
    /// The packet being handled advertised another window than the one before it.
    pub(crate) wnd_moved: bool,
    /// Our last measurement of the peer's one-way delay, sent back in `timestamp_diff`.
    pub(crate) reply_micro: u32,
    pub(crate) ack_needed: bool,
    pub(crate) dup_acks: u8,
    /// Losses of packets sent before this one do not halve the window again.
    pub(crate) recovery: Option<u16>,
    pub(crate) timer: Option<u64>,
    pub(crate) retries: u32,
    pub(crate) readable: VecDeque<u8>,
    pub(crate) reorder: HashMap<u16, (bool, Vec<u8>)>,
    pub(crate) reorder_bytes: usize,
    pub(crate) eof: bool,
    /// Packets resent (for the statistics).
    pub(crate) resent: u64,
    /// Packets received and dropped for want of room (for the statistics).
    pub(crate) dropped: u64,
    /// A responder answers the SYN with a STATE before it sends any data.
    pub(crate) syn_ack_pending: bool,
}

impl Connection {
    fn new(config: Config, recv_id: u16, send_id: u16, seq_nr: u16, ack_nr: u16, state: State) -> Self {
        let mss = config.packet_size;
        Self {
            peer_wnd: config.recv_buffer as u32,
            wnd_moved: false,
            config,
            state,
            recv_id,
            send_id,
            seq_nr,
            ack_nr,
            cc: Ledbat::new(mss),
            rtt: Rtt::default(),
            flight: VecDeque::new(),
            flight_bytes: 0,
            lost: 0,
            outgoing: VecDeque::new(),
            close_requested: false,
            fin_sent: false,
            reply_micro: 0,
            ack_needed: false,
            dup_acks: 0,
            recovery: None,
            timer: None,
            retries: 0,
            readable: VecDeque::new(),
            reorder: HashMap::new(),
            reorder_bytes: 0,
            eof: false,
            resent: 0,
            dropped: 0,
            syn_ack_pending: false,
        }
    }

    /// Opens a connection: `id` is the connection id we receive on (random); the SYN goes
    /// out on the first [`poll_transmit`](Self::poll_transmit).
    pub fn connect(config: Config, id: u16, now: u64) -> Self {
        let mut c = Self::new(config, id, id.wrapping_add(1), 1, 0, State::SynSent);
        c.flight.push_back(Sent {
            seq: 1,
            kind: Kind::Syn,
            payload: Vec::new(),
            sent_at: now,
            transmissions: 0,
            resend: true,
            sacked: false,
            mark: 2,
        });
        c.seq_nr = 2;
        c.lost = 1;
        c
    }

    /// Accepts a SYN; `seq` is our first sequence number (random). The STATE that answers
    /// it goes out on the first [`poll_transmit`](Self::poll_transmit).
    pub fn accept(config: Config, syn: &Packet<'_>, seq: u16, now: u64) -> Self {
        let mut c = Self::new(
            config,
            syn.conn_id.wrapping_add(1),
            syn.conn_id,
            seq,
            syn.seq_nr,
            State::SynRecv,
        );
        c.peer_wnd = syn.wnd_size;
        c.reply_micro = (now as u32).wrapping_sub(syn.timestamp);
        c.ack_needed = true;
        c.syn_ack_pending = true;
        c
    }

    /// The connection id packets for us carry.
    pub fn recv_id(&self) -> u16 {
        self.recv_id
    }

    /// Where the connection is.
    pub fn state(&self) -> State {
        self.state
    }

    /// Whether the peer has sent everything and it has all been read.
    pub fn is_eof(&self) -> bool {
        self.eof && self.readable.is_empty()
    }

    /// Packets sent again so far.
    pub fn resent(&self) -> u64 {
        self.resent
    }

    /// A line of internals for debugging.
    #[doc(hidden)]
    pub fn debug_line(&self) -> String {
        format!(
            "state {:?} seq {} ack {} flight {} ({} bytes, front {:?}) outgoing {} readable {} reorder {} cwnd {} queuing {} peer_wnd {} rto {} retries {} resent {} dropped {}",
            self.state,
            self.seq_nr,
            self.ack_nr,
            self.flight.len(),
            self.flight_bytes,
            self.flight
                .front()
                .map(|s| (s.seq, s.transmissions, s.sacked, s.resend)),
            self.outgoing.len(),
            self.readable.len(),
            self.reorder.len(),
            self.cc.window(),
            self.cc.queuing_delay(),
            self.peer_wnd,
            self.rtt.rto(),
            self.retries,
            self.resent,
            self.dropped
        )
    }

    /// Asserts that the running counts agree with the flight they summarize.
    #[cfg(test)]
    pub(crate) fn check_counts(&self) {
        let lost = self.flight.iter().filter(|s| s.resend && !s.sacked).count();
        assert_eq!(self.lost, lost, "packets to send again");
        let bytes: usize = self
            .flight
            .iter()
            .filter(|s| !s.resend && !s.sacked)
            .map(Sent::size)
            .sum();
        assert_eq!(self.flight_bytes, bytes, "bytes in flight");
    }

    /// The smoothed round-trip time, microseconds, once measured.
    pub fn rtt(&self) -> Option<u64> {
        self.rtt.srtt()
    }

    /// The congestion window, bytes.
    pub fn window(&self) -> usize {
        self.cc.window()
    }

    /// Takes up to `data.len()` bytes for sending; returns how many fit in the send buffer.
    pub fn write(&mut self, data: &[u8]) -> usize {
        if self.close_requested || !matches!(self.state, State::SynSent | State::SynRecv | State::Connected) {
            return 0;
        }
        let room = self
            .config
            .send_buffer
            .saturating_sub(self.outgoing.len() + self.flight_bytes);
        let n = room.min(data.len());
        self.outgoing.extend(&data[..n]);
        n
    }

    /// Bytes the application may still write now.
    pub fn writable(&self) -> usize {
        self.config
            .send_buffer
            .saturating_sub(self.outgoing.len() + self.flight_bytes)
    }

    /// Moves received bytes into `buf`; how many.
    pub fn read(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.readable.len());
        let (a, b) = self.readable.as_slices();
        let from_a = n.min(a.len());
        buf[..from_a].copy_from_slice(&a[..from_a]);
        buf[from_a..n].copy_from_slice(&b[..n - from_a]);
        self.readable.drain(..n);
        if n > 0 && self.window_opened(n) {
            self.ack_needed = true;
        }
        n
    }

    /// Whether reading `n` bytes reopened a window the peer saw as (nearly) closed.
    fn window_opened(&self, n: usize) -> bool {
        let now_free = self.recv_window() as usize;
        now_free.saturating_sub(n) < self.config.packet_size && now_free >= self.config.packet_size
    }

    /// Bytes received and not read.
    pub fn readable(&self) -> usize {
        self.readable.len()
    }

    /// Sends FIN once everything written has gone out.
    pub fn close(&mut self) {
        self.close_requested = true;
    }

    /// The window we advertise.
    pub(crate) fn recv_window(&self) -> u32 {
        self.config
            .recv_buffer
            .saturating_sub(self.readable.len() + self.reorder_bytes) as u32
    }

    /// Handles a packet for this connection (its `conn_id` is [`recv_id`](Self::recv_id)).
    pub fn handle(&mut self, p: &Packet<'_>, now: u64) {
        if matches!(self.state, State::Reset | State::TimedOut) {
            return;
        }
        if p.kind == Kind::Reset {
            self.state = State::Reset;
            self.timer = None;
            return;
        }
        self.reply_micro = (now as u32).wrapping_sub(p.timestamp);
        // An ack that moves the window is an update (the reader made room), not a duplicate.
        self.wnd_moved = p.wnd_size != self.peer_wnd;
        self.peer_wnd = p.wnd_size;
        // Timeouts in a row count only while the peer is silent (a closed window's acks
        // answer our probes without acknowledging them).
        self.retries = 0;
        if self.state == State::SynSent {
            // The answer to our SYN: a STATE carrying the responder's first sequence number.
            if p.kind != Kind::State || p.ack_nr != 1 {
                return;
            }
            self.state = State::Connected;
            self.ack_nr = p.seq_nr.wrapping_sub(1);
        }
        if p.kind == Kind::Syn {
            // The initiator did not hear our answer: answer again.
            self.syn_ack_pending = self.state == State::SynRecv;
            self.ack_needed = true;
            return;
        }
        if self.state == State::SynRecv {
            self.state = State::Connected;
        }
        self.on_ack(p, now);
        if matches!(p.kind, Kind::Data | Kind::Fin) {
            self.on_data(p.seq_nr, p.payload, p.kind == Kind::Fin);
        }
        if self.fin_sent && self.flight.is_empty() && self.eof {
            self.state = State::Closed;
            self.timer = None;
        }
    }

    fn on_data(&mut self, seq: u16, payload: &[u8], fin: bool) {
        self.ack_needed = true;
        if !before(self.ack_nr, seq) || self.eof {
            return; // already have it
        }
        let dist = distance(self.ack_nr, seq);
        if dist > MAX_REORDER {
            return;
        }
        if dist > 1 {
            let fits = self.readable.len() + self.reorder_bytes + payload.len() <= self.config.recv_buffer;
            if !fits {
                self.dropped += 1;
            } else if !self.reorder.contains_key(&seq) {
                self.reorder_bytes += payload.len();
                self.reorder.insert(seq, (fin, payload.to_vec()));
            }
            return;
        }
        if self.readable.len() + payload.len() > self.config.recv_buffer {
            // No room: not acknowledged (the ack says our window is closed), sent again later.
            self.dropped += 1;
            return;
        }
        self.deliver(seq, payload, fin);
        let mut next = self.ack_nr.wrapping_add(1);
        while let Some((fin, bytes)) = self.reorder.remove(&next) {
            self.reorder_bytes -= bytes.len();
            self.deliver(next, &bytes, fin);
            next = next.wrapping_add(1);
        }
    }

    fn deliver(&mut self, seq: u16, payload: &[u8], fin: bool) {
        self.readable.extend(payload);
        self.ack_nr = seq;
        if fin {
            self.eof = true;
            self.reorder.clear();
            self.reorder_bytes = 0;
        }
    }

    /// The selective-ack bitmask of what we hold past `ack_nr + 1`, if anything.
    pub(crate) fn sack(&self) -> Option<Vec<u8>> {
        if self.reorder.is_empty() {
            return None;
        }
        let furthest = self
            .reorder
            .keys()
            .map(|s| distance(self.ack_nr, *s))
            .max()
            .unwrap_or(0);
        // Bit i is packet ack_nr + 2 + i; whole 32-bit words, at most MAX_SACK bytes.
        let bits = usize::from(furthest.saturating_sub(1));
        let len = bits.div_ceil(32).clamp(1, crate::packet::MAX_SACK / 4) * 4;
        let mut mask = vec![0u8; len];
        for s in self.reorder.keys() {
            let i = usize::from(distance(self.ack_nr, *s)).saturating_sub(2);
            if i < len * 8 {
                mask[i / 8] |= 1 << (i % 8);
            }
        }
        Some(mask)
    }
}
