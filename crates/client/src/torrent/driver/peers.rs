//! The driver's dealings with the swarm: the addresses it learns (trackers, PEX, the user),
//! the connections it opens to them, and the ut_pex messages (BEP 11) it sends.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use tokio::time::Instant;

use super::Driver;
use crate::counters::Counters;
use crate::torrent::{PeerCmd, ban_key};

/// Most addresses in one ut_pex list (BEP 11).
const PEX_MAX: usize = 50;

impl Driver {
    pub(super) fn add_peers(&mut self, addrs: Vec<SocketAddr>) {
        let session = &self.t.session;
        let ours = &session.listen;
        let mut s = self.t.lock();
        for a in addrs {
            let own = ours
                .iter()
                .any(|l| l.port() == a.port() && (l.ip() == a.ip() || l.ip().is_unspecified()));
            if !own && !s.banned.contains(&ban_key(a)) {
                s.known.entry(a).or_default();
            }
        }
        let (v4, v6) = (session.our_addr(true), session.our_addr(false));
        let us = |a: SocketAddr| if a.is_ipv4() { v4 } else { v6 };
        let dropped = crate::peer::known::trim(&mut s.known, session.config.max_known_peers, us);
        if dropped > 0 {
            session
                .counters
                .known_peers_dropped
                .fetch_add(dropped as u64, Ordering::Relaxed);
        }
    }

    /// Tells each peer that speaks ut_pex which peers we gained and lost since last time.
    pub(super) fn send_pex(&mut self) {
        let mut s = self.t.lock();
        let all: Vec<(SocketAddr, bool)> = s
            .peers
            .values()
            .filter_map(|p| p.listen_addr().map(|a| (a, p.pieces.is_full())))
            .collect();
        for p in s.peers.values_mut().filter(|p| p.pex_id.is_some()) {
            let own = p.listen_addr();
            let now: Vec<(SocketAddr, bool)> = all.iter().copied().filter(|(a, _)| Some(*a) != own).collect();
            let added: Vec<(SocketAddr, u8)> = now
                .iter()
                .filter(|(a, _)| !p.pex_sent.contains(a))
                .take(PEX_MAX)
                .map(|&(a, seed)| {
                    (
                        a,
                        wire::pex::FLAG_CONNECTABLE | if seed { wire::pex::FLAG_SEED } else { 0 },
                    )
                })
                .collect();
            let dropped: Vec<SocketAddr> = p
                .pex_sent
                .iter()
                .filter(|a| !now.iter().any(|(b, _)| b == *a))
                .take(PEX_MAX)
                .copied()
                .collect();
            if added.is_empty() && dropped.is_empty() {
                continue;
            }
            for a in &dropped {
                p.pex_sent.remove(a);
            }
            p.pex_sent.extend(added.iter().map(|(a, _)| *a));
            let mut payload = Vec::new();
            wire::pex::Pex { added, dropped }.write(&mut payload);
            let _ = p.cmd.send(PeerCmd::Pex(payload));
        }
    }

    pub(super) fn connect_peers(&mut self, now: Instant) {
        let max = self.t.session.config.max_peers_per_torrent;
        let mut s = self.t.lock();
        let seeding = s.picker.have().is_full();
        if s.disk.paused() {
            return;
        }
        let mut budget = max.saturating_sub(s.peers.len() + s.connecting);
        let connected: HashSet<SocketAddr> = s.peers.values().map(|p| p.addr).collect();
        let mut targets = Vec::new();
        for (addr, k) in s.known.iter_mut() {
            if budget == 0 || seeding {
                break;
            }
            if k.connected || k.retry_at.is_some_and(|t| t > now) || connected.contains(addr) {
                continue;
            }
            // A connection takes a session slot from its first packet (max_connections).
            let Some(slot) = self.t.session.slot() else {
                Counters::bump(&self.t.session.counters.outgoing_deferred);
                break;
            };
            k.connected = true;
            budget -= 1;
            targets.push((*addr, slot));
        }
        s.connecting += targets.len();
        drop(s);
        for (addr, slot) in targets {
            tokio::spawn(crate::peer::connect(self.t.clone(), addr, slot));
        }
    }
}
