//! A torrent's driver task: once a second it updates rates, retries peers and asks its
//! schedules (see `schedule.rs`) whether to run the choker, send PEX, announce or save
//! resume state; it connects new peers (from trackers, PEX, the user) as soon as they come,
//! handles hash results (have broadcasts, strikes and bans) and stops the torrent cleanly.
//! It reads the clock once per wake-up and hands that `now` to everything it does.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::Instrument;
use tracker_proto::common::{AnnounceEvent, AnnounceRequest, Transfer};

use super::schedule::{AnnounceSchedule, ChokeSchedule, Every, Reply, ResumeSchedule};
use super::{Checked, Event, PeerCmd, TorrentShared, ban_key};
use crate::choker::{self, Candidate};
use crate::counters::Counters;
use crate::rate::RateMeter;
use crate::rng::Rng;

/// Strikes after which a peer's address is banned: a bad piece it sent alone counts 2, one
/// it shared with others 1.
const BAN_STRIKES: u32 = 4;
/// Most addresses in one ut_pex list (BEP 11).
const PEX_MAX: usize = 50;
/// Verified bytes after which written data is flushed to disk in the background, so that the
/// flush before a resume snapshot (at exit, say) has little left to do.
const FLUSH_EVERY: u64 = 64 << 20;

struct Driver {
    t: Arc<TorrentShared>,
    rng: Rng,
    choke: ChokeSchedule,
    announce: AnnounceSchedule,
    resume: ResumeSchedule,
    pex: Every,
    meters: (RateMeter, RateMeter),
    /// Verified bytes not yet covered by a background flush.
    unflushed: u64,
    flushing: Arc<AtomicBool>,
}

pub(super) async fn run(t: Arc<TorrentShared>, mut events: mpsc::UnboundedReceiver<Event>) {
    let now = Instant::now();
    let timing = t.session.config.timing.clone();
    let mut d = Driver {
        t,
        rng: Rng::from_entropy(0),
        choke: ChokeSchedule::new(now, timing.choke_interval, timing.optimistic_interval),
        announce: AnnounceSchedule::new(now, timing.tracker_retry_min, timing.tracker_retry_max),
        resume: ResumeSchedule::new(now, timing.resume_interval),
        pex: Every::new(now, timing.pex_interval),
        meters: Default::default(),
        unflushed: 0,
        flushing: Arc::new(AtomicBool::new(false)),
    };
    // Rates are measured over one-second ticks, and peers that failed are retried on them.
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            ev = events.recv() => match ev {
                None => break,
                Some(Event::Stop(done)) => {
                    d.stop().await;
                    let _ = done.send(());
                    break;
                }
                Some(e) => d.on_event(e, Instant::now()).await,
            },
            _ = tick.tick() => d.tick(Instant::now()),
        }
    }
}

impl Driver {
    async fn on_event(&mut self, e: Event, now: Instant) {
        match e {
            Event::PieceChecked {
                piece,
                outcome,
                buffer,
            } => {
                if let Some(b) = buffer {
                    self.t.lock().assembly.recycle(b);
                }
                self.piece_checked(piece, outcome, now);
            }
            Event::PeerGone { addr, .. } => {
                let delay = self.t.session.config.timing.reconnect_delay;
                let mut s = self.t.lock();
                if let Some(k) = s.known.get_mut(&addr) {
                    k.connected = false;
                    // 1, 2, 4, … 64 times the base delay.
                    k.retry_at = Some(now + delay * (1 << k.failures.min(6)));
                    k.failures += 1;
                }
            }
            // New peers are tried at once, not at the next tick.
            Event::AddPeers(addrs) => {
                self.add_peers(addrs);
                self.connect_peers(now);
            }
            Event::Announced(Ok((peers, reply))) => {
                self.announce.succeeded(now, reply);
                self.add_peers(peers);
                self.connect_peers(now);
            }
            Event::Announced(Err(())) => self.announce.failed(now),
            Event::Recheck(done) => {
                self.recheck().await;
                let _ = done.send(());
            }
            Event::Stop(_) => {}
        }
    }

    fn add_peers(&mut self, addrs: Vec<SocketAddr>) {
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

    fn piece_checked(&mut self, piece: u32, outcome: Checked, now: Instant) {
        let mut s = self.t.lock();
        let contributors = s.picker.verified(piece, outcome == Checked::Good);
        if outcome == Checked::Good {
            self.resume.changed();
            for p in s.peers.values() {
                let _ = p.cmd.send(PeerCmd::Have(piece));
            }
            self.unflushed += s.picker.piece_len(piece);
            if self.unflushed >= FLUSH_EVERY && !self.flushing.swap(true, Ordering::AcqRel) {
                self.unflushed = 0;
                let (t, flushing) = (self.t.clone(), self.flushing.clone());
                tokio::task::spawn_blocking(move || {
                    let _ = t.storage.sync();
                    flushing.store(false, Ordering::Release);
                });
            }
            if s.picker.have().is_full() && !self.t.is_complete() {
                tracing::info!(name = %self.t.meta.info.name, "download complete");
                s.assembly.retain(|_| false);
                let _ = self.t.complete.send_replace(true);
                self.announce.completed(now);
                self.resume.completed();
            }
            return;
        }
        s.hash_failures += 1;
        tracing::info!(piece, "piece failed its hash check");
        self.t.add_wasted(s.picker.piece_len(piece));
        let weight = if contributors.len() == 1 { 2 } else { 1 };
        for key in contributors {
            let Some((addr, id)) = s.peers.get(&key).map(|p| (ban_key(p.addr), p.id)) else {
                continue;
            };
            let strikes = s.strikes.entry(addr).or_default();
            *strikes += weight;
            if *strikes >= BAN_STRIKES {
                tracing::warn!(%addr, "banned a peer that sent corrupt data");
                s.banned.insert(addr);
                s.banned_ids.insert(id);
                for p in s.peers.values().filter(|p| ban_key(p.addr) == addr || p.id == id) {
                    let _ = p.cmd.send(PeerCmd::Close);
                }
            }
        }
        for p in s.peers.values() {
            let _ = p.cmd.send(PeerCmd::Refill);
        }
    }

    fn tick(&mut self, now: Instant) {
        self.update_rates();
        if let Some(round) = self.choke.due(now) {
            self.run_choker(round.rotate);
        }
        self.connect_peers(now);
        if !self.t.meta.private && self.pex.due(now) {
            self.send_pex();
        }
        let has_trackers = self.t.tiers.lock().map(|t| !t.is_empty()).unwrap_or(false);
        if let Some(event) = self.announce.due(now, has_trackers) {
            self.start_announce(event);
        }
        if self.resume.due(now) {
            let t = self.t.clone();
            tokio::task::spawn_blocking(move || save(&t));
        }
    }

    fn update_rates(&mut self) {
        let mut s = self.t.lock();
        for p in s.peers.values_mut() {
            p.meters.0.tick(p.stats.downloaded.load(Ordering::Relaxed));
            p.meters.1.tick(p.stats.uploaded.load(Ordering::Relaxed));
            p.stats.down_rate.store(p.meters.0.rate(), Ordering::Relaxed);
            p.stats.up_rate.store(p.meters.1.rate(), Ordering::Relaxed);
        }
        let totals = &self.t.totals;
        self.meters.0.tick(totals.downloaded.load(Ordering::Relaxed));
        self.meters.1.tick(totals.uploaded.load(Ordering::Relaxed));
        totals.down_rate.store(self.meters.0.rate(), Ordering::Relaxed);
        totals.up_rate.store(self.meters.1.rate(), Ordering::Relaxed);
    }

    fn run_choker(&mut self, rotate: bool) {
        let seeding = self.t.is_complete();
        let slots = self.t.session.config.upload_slots;
        let mut s = self.t.lock();
        let cands: Vec<Candidate> = s
            .peers
            .iter()
            .map(|(&key, p)| Candidate {
                key,
                interested: p.peer_interested,
                down_rate: p.stats.down_rate.load(Ordering::Relaxed),
                up_rate: p.stats.up_rate.load(Ordering::Relaxed),
                snubbed: p.stats.flags.snubbed(),
            })
            .collect();
        let (unchoke, optimistic) =
            choker::choose(&cands, slots, seeding, s.optimistic, rotate, &mut self.rng);
        s.optimistic = optimistic;
        for (key, p) in s.peers.iter_mut() {
            let open = unchoke.contains(key);
            if p.am_choking == open {
                p.am_choking = !open;
                let _ = p.cmd.send(if open { PeerCmd::Unchoke } else { PeerCmd::Choke });
            }
        }
    }

    /// Tells each peer that speaks ut_pex which peers we gained and lost since last time.
    fn send_pex(&mut self) {
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

    fn connect_peers(&mut self, now: Instant) {
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

    fn announce_request(&self, event: AnnounceEvent) -> AnnounceRequest {
        let left = self.t.lock().picker.left();
        let totals = &self.t.totals;
        AnnounceRequest {
            info_hash: self.t.meta.info_hash,
            peer_id: self.t.session.peer_id,
            port: self.t.session.listen.first().map_or(0, SocketAddr::port),
            transfer: Transfer {
                uploaded: totals.uploaded.load(Ordering::Relaxed),
                downloaded: totals.downloaded.load(Ordering::Relaxed),
                left,
            },
            event,
            numwant: Some(80),
            ip: None,
            key: Some(self.t.session.announce_key()),
        }
    }

    fn start_announce(&mut self, event: AnnounceEvent) {
        let req = self.announce_request(event);
        let t = self.t.clone();
        tokio::spawn(
            async move {
                let result = crate::tracker::announce_tiers(&t.tiers, &req, t.session.via()).await;
                let outcome = match result {
                    Ok(r) => {
                        tracing::debug!(peers = r.peers.len(), interval = r.interval, "announced");
                        let reply = Reply {
                            interval: r.interval,
                            min_interval: r.min_interval,
                        };
                        Ok((r.peers.iter().map(|p| p.addr).collect(), reply))
                    }
                    Err(e) => {
                        tracing::debug!(error = %crate::error::chain(&e), "announce failed");
                        Err(())
                    }
                };
                t.event(Event::Announced(outcome));
            }
            .instrument(self.t.span.clone()),
        );
    }

    async fn recheck(&mut self) {
        self.t.checking.store(true, Ordering::Relaxed);
        let t = self.t.clone();
        let n = t.meta.num_pieces;
        let result = tokio::task::spawn_blocking(move || super::start::full_check(&t.storage, n)).await;
        self.t.checking.store(false, Ordering::Relaxed);
        let Ok(good) = result else { return };
        let mut s = self.t.lock();
        for i in 0..n {
            if s.picker.have().get(i) != good.get(i) {
                s.picker.set_have(i as u32, good.get(i));
            }
        }
        let s = &mut *s;
        let picker = &s.picker;
        s.assembly.retain(|i| picker.is_partial(i));
        let full = s.picker.have().is_full();
        let _ = self.t.complete.send_replace(full);
        for p in s.peers.values() {
            let _ = p.cmd.send(PeerCmd::Refill);
        }
        self.resume.changed();
    }

    async fn stop(&mut self) {
        {
            let s = self.t.lock();
            for p in s.peers.values() {
                let _ = p.cmd.send(PeerCmd::Close);
            }
        }
        let t = self.t.clone();
        let _ = tokio::task::spawn_blocking(move || save(&t)).await;
        let has_trackers = self.t.tiers.lock().map(|t| !t.is_empty()).unwrap_or(false);
        if self.announce.started_sent() && has_trackers {
            let req = self.announce_request(AnnounceEvent::Stopped);
            let timeout = Duration::from_secs(3);
            let mut via = self.t.session.via();
            via.udp_timeout = via.udp_timeout.min(timeout);
            let announce = crate::tracker::announce_tiers(&self.t.tiers, &req, via);
            let _ = tokio::time::timeout(timeout, announce).await;
        }
        self.t.session.remove(&self.t.meta.info_hash);
    }
}

/// Syncs the data, then writes the resume snapshot (blocking).
fn save(t: &TorrentShared) {
    let have = t.lock().picker.have().clone();
    let result = t
        .storage
        .sync()
        .and_then(|()| t.resume.save(&have, &t.storage.file_stamps()));
    if let Err(e) = result {
        t.lock().error = Some(format!("saving resume state: {e}"));
    }
}
