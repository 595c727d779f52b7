//! A torrent's driver task: once a second it updates rates, retries peers and asks its
//! schedules (see `schedule.rs`) whether to run the choker, send PEX, announce or save
//! resume state; it connects new peers (from trackers, PEX, the user) as soon as they come,
//! handles hash results (have broadcasts, strikes and bans) and stops the torrent cleanly.
//! It reads the clock once per wake-up and hands that `now` to everything it does.

mod peers;

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
use crate::rate::RateMeter;
use crate::rng::Rng;

/// Strikes after which a peer's address is banned: a bad piece it sent alone counts 2, one
/// it shared with others 1.
const BAN_STRIKES: u32 = 4;
/// How often a torrent with peers wakes up: rates are measured over one-second samples.
const TICK: Duration = Duration::from_secs(1);
/// How often a torrent with no peer connected or connecting wakes up, while it still needs
/// pieces (known peers are retried on the ticks) and once it is complete: a daemon seeding
/// thousands of torrents nobody asks for should cost next to nothing while idle. Any event
/// (a peer joining, new addresses, a hash result) brings the next tick within a second.
const IDLE_TICK: (Duration, Duration) = (Duration::from_secs(5), Duration::from_secs(30));

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
    // The first tick comes at once (the first announce goes out with it).
    let mut last = now;
    let mut next = now;
    loop {
        tokio::select! {
            ev = events.recv() => match ev {
                None => break,
                Some(Event::Stop(done)) => {
                    d.stop().await;
                    let _ = done.send(());
                    break;
                }
                Some(e) => {
                    let now = Instant::now();
                    d.on_event(e, now).await;
                    next = next.min(now + TICK);
                }
            },
            () = tokio::time::sleep_until(next) => {
                let now = Instant::now();
                let seconds = (now.saturating_duration_since(last).as_millis() as u64 + 500) / 1000;
                d.tick(now, seconds);
                last = now;
                next = now + match (d.idle(), d.t.is_complete()) {
                    (false, _) => TICK,
                    (true, false) => IDLE_TICK.0,
                    (true, true) => IDLE_TICK.1,
                };
            }
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
            Event::Stop(_) | Event::PeerJoined => {}
        }
    }

    fn piece_checked(&mut self, piece: u32, outcome: Checked, now: Instant) {
        let mut s = self.t.lock();
        let contributors = s.picker.verified(piece, outcome == Checked::Good);
        if outcome == Checked::Good {
            self.t.verified.notify_waiters();
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

    /// No peer connected or connecting, nothing moving.
    fn idle(&self) -> bool {
        let s = self.t.lock();
        s.peers.is_empty() && s.connecting == 0 && self.meters.0.rate() == 0 && self.meters.1.rate() == 0
    }

    /// The periodic work; `seconds` since the last tick (more than one for an idle torrent).
    fn tick(&mut self, now: Instant, seconds: u64) {
        self.update_rates(seconds);
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

    fn update_rates(&mut self, seconds: u64) {
        let mut s = self.t.lock();
        for p in s.peers.values_mut() {
            p.meters
                .0
                .tick_over(p.stats.downloaded.load(Ordering::Relaxed), seconds);
            p.meters
                .1
                .tick_over(p.stats.uploaded.load(Ordering::Relaxed), seconds);
            p.stats.down_rate.store(p.meters.0.rate(), Ordering::Relaxed);
            p.stats.up_rate.store(p.meters.1.rate(), Ordering::Relaxed);
        }
        let totals = &self.t.totals;
        self.meters
            .0
            .tick_over(totals.downloaded.load(Ordering::Relaxed), seconds);
        self.meters
            .1
            .tick_over(totals.uploaded.load(Ordering::Relaxed), seconds);
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
                let result = crate::tracker::announce_tiers(&t.tiers, &req, &t.session.via()).await;
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
        self.t.verified.notify_waiters();
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
            let announce = crate::tracker::announce_tiers(&self.t.tiers, &req, &via);
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
