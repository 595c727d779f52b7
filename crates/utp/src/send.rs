//! The sending half of a connection: acknowledgements in (cumulative, selective, duplicate),
//! packets out within the congestion and receive windows, retransmission on loss and on the
//! timer.

use crate::conn::{Connection, Sent, State};
use crate::packet::{HEADER, Kind, Packet};
use crate::seq::before;

/// Packets acked past a missing one (selectively or by duplicate acks) that make it lost.
const LOSS_THRESHOLD: usize = 3;

impl Connection {
    /// Cumulative and selective acks of packet `p`.
    pub(crate) fn on_ack(&mut self, p: &Packet<'_>, now: u64) {
        // An ack of something we never sent is a forgery or garbage.
        if !before(p.ack_nr, self.seq_nr) {
            return;
        }
        let mut acked = 0;
        while let Some(front) = self.flight.front() {
            if before(p.ack_nr, front.seq) {
                break;
            }
            let Some(s) = self.flight.pop_front() else { break };
            if !s.sacked && !s.resend {
                self.flight_bytes -= s.size();
            }
            if s.resend {
                self.lost -= 1;
            }
            if s.transmissions == 1 {
                self.rtt.sample(now.saturating_sub(s.sent_at));
            }
            acked += s.size();
        }
        let mut newly_sacked = 0;
        if let Some(mask) = p.sack {
            for s in self.flight.iter_mut() {
                let i = usize::from(s.seq.wrapping_sub(p.ack_nr).wrapping_sub(2));
                let set = i < mask.len() * 8 && mask[i / 8] & (1 << (i % 8)) != 0;
                if set && !s.sacked {
                    s.sacked = true;
                    if s.resend {
                        // Counted out of the flight when it was marked lost.
                        s.resend = false;
                        self.lost -= 1;
                    } else {
                        self.flight_bytes -= s.size();
                    }
                    newly_sacked += s.size();
                }
            }
        }
        if acked > 0 {
            self.retries = 0;
            self.dup_acks = 0;
            // New data acknowledged: the path works again, the timeout need not stay backed off.
            self.rtt.reset_backoff();
        } else if p.kind == Kind::State
            && !self.flight.is_empty()
            && p.sack.is_none()
            && p.wnd_size > 0
            && !self.wnd_moved
        {
            // (An ack with a closed window is the answer to a window probe, and one with a new
            // window says the reader made room: neither is a loss. Counted as one, the packet
            // would go twice, and the new data its bytes made room for overrun the peer.)
            self.dup_acks = self.dup_acks.saturating_add(1);
        }
        let mut lost = false;
        if usize::from(self.dup_acks) >= LOSS_THRESHOLD {
            self.dup_acks = 0;
            if self
                .flight
                .front()
                .is_some_and(|f| !f.sacked && !f.resend && f.transmissions == 1)
            {
                self.mark_lost(0);
                lost = true;
            }
        }
        // A packet is lost when three packets sent after its last transmission were
        // selectively acked: a copy already resent is not counted lost again by the acks of
        // packets that left before it. (Without a selective ack the peer holds nothing past
        // the cumulative one: no news, and no walk through the flight.)
        let sacked: Vec<u16> = match p.sack {
            Some(_) => self.flight.iter().filter(|s| s.sacked).map(|s| s.seq).collect(),
            None => Vec::new(),
        };
        if sacked.len() >= LOSS_THRESHOLD {
            for i in 0..self.flight.len() {
                let s = &self.flight[i];
                if s.sacked || s.resend || s.transmissions == 0 {
                    continue;
                }
                let after = sacked.iter().filter(|q| !before(**q, s.mark)).count();
                if after >= LOSS_THRESHOLD {
                    self.mark_lost(i);
                    lost = true;
                }
            }
        }
        if lost {
            self.on_loss_event();
        }
        if acked + newly_sacked > 0 {
            self.cc.on_ack(acked + newly_sacked, p.timestamp_diff, now);
            self.timer = (!self.flight.is_empty()).then(|| now + self.rtt.rto());
        }
    }

    /// Marks packet `i` of the flight lost: it leaves the bytes in flight until it is sent
    /// again (within the window, like new data).
    fn mark_lost(&mut self, i: usize) {
        if let Some(s) = self.flight.get_mut(i)
            && !s.sacked
            && !s.resend
        {
            s.resend = true;
            self.lost += 1;
            self.flight_bytes -= s.size();
        }
    }

    /// Halves the window once per window of data: losses of packets sent before the last
    /// reaction are part of the same event.
    fn on_loss_event(&mut self) {
        let front = self.flight.front().map_or(self.seq_nr, |s| s.seq);
        if self.recovery.is_none_or(|r| !before(front, r)) {
            self.cc.on_loss();
            self.recovery = Some(self.seq_nr);
        }
    }

    /// Writes the next packet to send into `out` (cleared first); false when there is none.
    /// Call until false after every event.
    pub fn poll_transmit(&mut self, now: u64, out: &mut Vec<u8>) -> bool {
        out.clear();
        if matches!(self.state, State::Reset | State::TimedOut) {
            return false;
        }
        let sack = self.sack();
        let wnd = self.recv_window();
        let header = |c: &Self, kind, seq| Packet {
            kind,
            conn_id: if kind == Kind::Syn { c.recv_id } else { c.send_id },
            timestamp: now as u32,
            timestamp_diff: c.reply_micro,
            wnd_size: wnd,
            seq_nr: seq,
            ack_nr: c.ack_nr,
            sack: sack.as_deref(),
            payload: &[],
        };
        if self.syn_ack_pending {
            self.syn_ack_pending = false;
            self.ack_needed = false;
            header(self, Kind::State, self.seq_nr).write(out);
            return true;
        }
        // Packets marked lost, or the SYN, first, within the window as new data is.
        let window = self.cc.window().min(self.peer_wnd as usize);
        let flight_bytes = self.flight_bytes;
        let front = self.flight.front().map(|s| s.seq);
        // The oldest packet goes whatever the windows say: the peer has room for the packet
        // it waits for, and everything it holds waits on it (a window full of packets held
        // out of order would otherwise stall until the timer).
        if self.lost > 0
            && let Some(s) = self
                .flight
                .iter_mut()
                .find(|s| s.resend && !s.sacked)
                .filter(|s| flight_bytes == 0 || flight_bytes + s.size() <= window || Some(s.seq) == front)
        {
            s.resend = false;
            self.lost -= 1;
            self.flight_bytes += s.size();
            if s.transmissions > 0 {
                self.resent += 1;
            }
            s.transmissions += 1;
            s.sent_at = now;
            s.mark = self.seq_nr;
            let (kind, seq) = (s.kind, s.seq);
            let payload = std::mem::take(&mut s.payload);
            let mut p = header(self, kind, seq);
            p.payload = &payload;
            p.write(out);
            if let Some(s) = self.flight.iter_mut().find(|s| s.seq == seq) {
                s.payload = payload;
            }
            self.arm(now);
            self.ack_needed = false;
            return true;
        }
        if self.state == State::Connected {
            let mss = self.config.packet_size - HEADER - sack.as_ref().map_or(0, |m| m.len() + 2);
            let fits = |c: &Self, size: usize| c.flight_bytes + size <= window || c.flight.is_empty();
            if !self.outgoing.is_empty() && fits(self, HEADER + mss.min(self.outgoing.len())) {
                let n = mss.min(self.outgoing.len());
                // Two slice copies: collecting the drained bytes one by one cost a tenth of a
                // transfer's CPU.
                let mut payload = Vec::with_capacity(n);
                let (a, b) = self.outgoing.as_slices();
                let from_a = n.min(a.len());
                payload.extend_from_slice(&a[..from_a]);
                payload.extend_from_slice(&b[..n - from_a]);
                self.outgoing.drain(..n);
                return self.send_new(Kind::Data, payload, now, out, &header);
            }
            if self.close_requested && self.outgoing.is_empty() && !self.fin_sent {
                self.fin_sent = true;
                return self.send_new(Kind::Fin, Vec::new(), now, out, &header);
            }
        }
        // Closed still acknowledges: the peer's FIN, again if our ack was lost.
        if self.ack_needed && self.state != State::SynSent {
            self.ack_needed = false;
            header(self, Kind::State, self.seq_nr).write(out);
            return true;
        }
        false
    }

    fn send_new<'a>(
        &mut self,
        kind: Kind,
        payload: Vec<u8>,
        now: u64,
        out: &mut Vec<u8>,
        header: &dyn Fn(&Self, Kind, u16) -> Packet<'a>,
    ) -> bool {
        let seq = self.seq_nr;
        self.seq_nr = self.seq_nr.wrapping_add(1);
        let mut p = header(self, kind, seq);
        p.payload = &payload;
        p.write(out);
        let s = Sent {
            seq,
            kind,
            payload,
            sent_at: now,
            transmissions: 1,
            resend: false,
            sacked: false,
            mark: self.seq_nr,
        };
        self.flight_bytes += s.size();
        self.flight.push_back(s);
        self.arm(now);
        self.ack_needed = false;
        true
    }

    fn arm(&mut self, now: u64) {
        if self.timer.is_none() {
            self.timer = Some(now + self.rtt.rto());
        }
    }

    /// When [`on_timeout`](Self::on_timeout) wants to be called, if at all.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.timer
    }

    /// The retransmission timer: the oldest unacknowledged packet is sent again with a
    /// window of one packet and a doubled timeout; after `max_retries` in a row the
    /// connection is given up.
    pub fn on_timeout(&mut self, now: u64) {
        let Some(at) = self.timer else { return };
        if now < at {
            return;
        }
        if self.flight.is_empty() {
            self.timer = None;
            return;
        }
        self.retries += 1;
        let most = if self.state == State::SynSent {
            self.config.syn_retries
        } else {
            self.config.max_retries
        };
        if self.retries > most {
            self.state = State::TimedOut;
            self.timer = None;
            return;
        }
        self.rtt.back_off();
        self.cc.on_timeout();
        self.recovery = Some(self.seq_nr);
        // Everything not acknowledged is presumed lost (as libutp does) and goes again as
        // the window, one packet now, grows back.
        for i in 0..self.flight.len() {
            self.mark_lost(i);
        }
        self.timer = Some(now + self.rtt.rto());
    }
}
