//! The channels of seed 001's tracker: who watches what, when they were last heard of, and
//! what they report. Pure: time and randomness are parameters; the HTTP handlers lock it.
//!
//! Peer lists are a random sample of the channel's live viewers, never the asker, at most
//! `max_peers_returned`: viewers of the asker's device class first (phones relay poorly to
//! desktops and the other way round), and among each class those with spare connections
//! first (a viewer that reported fewer connections than `connection_target`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use ids::InfoHash;

use crate::peer::{Device, LivePeerId};

/// Caps and timings of the swarms.
#[derive(Debug, Clone)]
pub struct SwarmLimits {
    /// A viewer not heard from for this long is dropped.
    pub peer_timeout: Duration,
    /// Most peers in one list.
    pub max_peers_returned: usize,
    /// Most viewers in one channel.
    pub max_peers_per_channel: usize,
    /// Most channels.
    pub max_channels: usize,
    /// Most viewers in all.
    pub max_peers: usize,
    /// Connections a viewer wants; one with fewer has room for more.
    pub connection_target: u64,
}

/// A viewer.
#[derive(Debug, Clone)]
struct Viewer {
    channel: InfoHash,
    device: Device,
    ip: IpAddr,
    last_seen: Instant,
    /// Connections it reported opening (sum of the deltas).
    conns: u64,
}

/// What a channel's viewers reported, summed (bytes and connection counts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Bytes fetched from the origin.
    pub source: u64,
    /// Bytes received from peers.
    pub p2p: u64,
    /// Connections made.
    pub conns: u64,
    /// Connections that failed.
    pub fail_conns: u64,
}

impl Totals {
    /// p2p / (p2p + source); 0 with no traffic.
    pub fn p2p_ratio(&self) -> f64 {
        let all = self.p2p + self.source;
        if all == 0 {
            0.0
        } else {
            self.p2p as f64 / all as f64
        }
    }
}

/// A stats report: deltas since the viewer's last successful report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Bytes fetched from the origin.
    pub source: u64,
    /// Bytes received from peers.
    pub p2p: u64,
    /// Connections made.
    pub conns: u64,
    /// Connections that failed.
    pub fail_conns: u64,
}

#[derive(Debug, Default)]
struct Channel {
    viewers: Vec<LivePeerId>,
    totals: Totals,
}

/// One channel as `/channels` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelView {
    /// Its id.
    pub id: InfoHash,
    /// Viewers now.
    pub viewers: usize,
    /// Of them on mobile devices.
    pub mobile: usize,
    /// What they reported over the channel's life.
    pub totals: Totals,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SwarmError {
    /// The peer id is not (or no longer) known: announce again.
    #[error("unknown peer_id: announce first")]
    UnknownPeer,
    /// The peer id belongs to another channel.
    #[error("peer_id belongs to another channel")]
    WrongChannel,
    /// A cap is reached.
    #[error("tracker full: {0}")]
    Full(&'static str),
}

/// Every channel.
#[derive(Debug)]
pub struct Swarms {
    limits: SwarmLimits,
    viewers: HashMap<LivePeerId, Viewer>,
    channels: HashMap<InfoHash, Channel>,
}

impl Swarms {
    /// No channels yet.
    pub fn new(limits: SwarmLimits) -> Self {
        Self {
            limits,
            viewers: HashMap::new(),
            channels: HashMap::new(),
        }
    }

    /// The limits.
    pub fn limits(&self) -> &SwarmLimits {
        &self.limits
    }

    /// Viewers in all.
    pub fn len(&self) -> usize {
        self.viewers.len()
    }

    /// Whether nobody watches anything.
    pub fn is_empty(&self) -> bool {
        self.viewers.is_empty()
    }

    /// A new viewer of `channel`: its id (from `random`) and its first peers.
    pub fn announce(
        &mut self,
        channel: InfoHash,
        device: Device,
        ip: IpAddr,
        now: Instant,
        random: [u8; 20],
        pick: u64,
    ) -> Result<(LivePeerId, Vec<LivePeerId>), SwarmError> {
        if self.viewers.len() >= self.limits.max_peers {
            return Err(SwarmError::Full("viewers"));
        }
        if !self.channels.contains_key(&channel) && self.channels.len() >= self.limits.max_channels {
            return Err(SwarmError::Full("channels"));
        }
        let c = self.channels.entry(channel).or_default();
        if c.viewers.len() >= self.limits.max_peers_per_channel {
            return Err(SwarmError::Full("viewers of this channel"));
        }
        let id = LivePeerId::from_random(random);
        if self.viewers.contains_key(&id) {
            // 36^20 ids: a collision means the random source is broken; refuse rather than merge.
            return Err(SwarmError::Full("peer ids"));
        }
        c.viewers.push(id.clone());
        self.viewers.insert(
            id.clone(),
            Viewer {
                channel,
                device,
                ip,
                last_seen: now,
                conns: 0,
            },
        );
        let peers = self.sample(&id, pick);
        Ok((id, peers))
    }

    fn viewer(&mut self, channel: &InfoHash, id: &LivePeerId) -> Result<&mut Viewer, SwarmError> {
        let v = self.viewers.get_mut(id).ok_or(SwarmError::UnknownPeer)?;
        if v.channel != *channel {
            return Err(SwarmError::WrongChannel);
        }
        Ok(v)
    }

    /// Peers for a viewer that wants more.
    pub fn get_peers(
        &mut self,
        channel: &InfoHash,
        id: &LivePeerId,
        now: Instant,
        pick: u64,
    ) -> Result<Vec<LivePeerId>, SwarmError> {
        self.viewer(channel, id)?.last_seen = now;
        Ok(self.sample(id, pick))
    }

    /// A heartbeat.
    pub fn heartbeat(&mut self, channel: &InfoHash, id: &LivePeerId, now: Instant) -> Result<(), SwarmError> {
        self.viewer(channel, id)?.last_seen = now;
        Ok(())
    }

    /// A stats report (it counts as a heartbeat too).
    pub fn report(
        &mut self,
        channel: &InfoHash,
        id: &LivePeerId,
        r: Report,
        now: Instant,
    ) -> Result<(), SwarmError> {
        let v = self.viewer(channel, id)?;
        v.last_seen = now;
        v.conns = v.conns.saturating_add(r.conns);
        if let Some(c) = self.channels.get_mut(channel) {
            let t = &mut c.totals;
            t.source = t.source.saturating_add(r.source);
            t.p2p = t.p2p.saturating_add(r.p2p);
            t.conns = t.conns.saturating_add(r.conns);
            t.fail_conns = t.fail_conns.saturating_add(r.fail_conns);
        }
        Ok(())
    }

    /// Whether `id` watches `channel` now (the signaling socket checks this).
    pub fn watches(&self, channel: &InfoHash, id: &LivePeerId) -> bool {
        self.viewers.get(id).is_some_and(|v| v.channel == *channel)
    }

    /// The channel and address of a viewer.
    pub fn whereabouts(&self, id: &LivePeerId) -> Option<(InfoHash, IpAddr)> {
        self.viewers.get(id).map(|v| (v.channel, v.ip))
    }

    /// Drops a viewer (its signaling socket closed, or it timed out).
    pub fn leave(&mut self, id: &LivePeerId) {
        let Some(v) = self.viewers.remove(id) else { return };
        if let Some(c) = self.channels.get_mut(&v.channel) {
            c.viewers.retain(|x| x != id);
        }
    }

    /// Drops viewers not heard from for `peer_timeout`; channels keep their totals while
    /// someone watches, and go when the last viewer does. Returns the ids dropped.
    pub fn expire(&mut self, now: Instant) -> Vec<LivePeerId> {
        let timeout = self.limits.peer_timeout;
        let gone: Vec<LivePeerId> = self
            .viewers
            .iter()
            .filter(|(_, v)| now.saturating_duration_since(v.last_seen) > timeout)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &gone {
            self.leave(id);
        }
        self.channels.retain(|_, c| !c.viewers.is_empty());
        gone
    }

    /// Every channel, the most watched first.
    pub fn channels(&self) -> Vec<ChannelView> {
        let mut out: Vec<ChannelView> = self
            .channels
            .iter()
            .map(|(id, c)| ChannelView {
                id: *id,
                viewers: c.viewers.len(),
                mobile: c
                    .viewers
                    .iter()
                    .filter(|v| self.viewers.get(*v).is_some_and(|x| x.device == Device::Mobile))
                    .count(),
                totals: c.totals,
            })
            .collect();
        out.sort_by(|a, b| b.viewers.cmp(&a.viewers).then(a.id.0.cmp(&b.id.0)));
        out
    }

    /// Up to `max_peers_returned` other viewers of `id`'s channel, starting at a random place
    /// (`pick`) and ranked: same device with room, same device, others with room, others.
    fn sample(&self, id: &LivePeerId, pick: u64) -> Vec<LivePeerId> {
        let Some(me) = self.viewers.get(id) else {
            return Vec::new();
        };
        let Some(c) = self.channels.get(&me.channel) else {
            return Vec::new();
        };
        let n = c.viewers.len();
        if n <= 1 {
            return Vec::new();
        }
        let start = (pick % n as u64) as usize;
        let target = self.limits.connection_target;
        let mut ranked: [Vec<LivePeerId>; 4] = Default::default();
        let want = self.limits.max_peers_returned;
        for i in 0..n {
            let other = &c.viewers[(start + i) % n];
            if other == id {
                continue;
            }
            let Some(v) = self.viewers.get(other) else {
                continue;
            };
            let rank = usize::from(v.device != me.device) * 2 + usize::from(v.conns >= target);
            if ranked[rank].len() < want {
                ranked[rank].push(other.clone());
            }
            if ranked[0].len() >= want {
                break;
            }
        }
        ranked.into_iter().flatten().take(want).collect()
    }
}
