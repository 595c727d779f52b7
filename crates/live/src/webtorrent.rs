//! The WebTorrent tracker protocol (what bittorrent-tracker, aquatic_ws and the open P2P
//! players speak), over one WebSocket per client: `announce` with WebRTC `offers`, each
//! forwarded to a different random peer of the swarm; `answer`s relayed back to the peer that
//! offered, only for an offer we forwarded to the answerer; `scrape`. `info_hash` and
//! `peer_id` are 20-character strings (binary, one character per byte).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

/// Most offers taken from one announce (aquatic_ws and p2p-media-loader: 10).
pub const MAX_OFFERS: usize = 10;
/// An offer forwarded waits this long for its answer.
pub const OFFER_TTL: Duration = Duration::from_secs(50);
/// Most info-hashes in one scrape.
pub const MAX_SCRAPE: usize = 64;

/// Caps of the WebTorrent tracker.
#[derive(Debug, Clone)]
pub struct WtLimits {
    /// Seconds between announces we ask for.
    pub interval: u64,
    /// A peer not heard from for this long is dropped.
    pub peer_timeout: Duration,
    /// Most swarms.
    pub max_swarms: usize,
    /// Most peers in a swarm.
    pub max_peers_per_swarm: usize,
    /// Most offers waiting for answers.
    pub max_pending: usize,
}

#[derive(Debug)]
struct Peer {
    socket: u64,
    complete: bool,
    last: Instant,
}

#[derive(Debug, Default)]
struct Swarm {
    peers: HashMap<String, Peer>,
    downloaded: u64,
}

impl Swarm {
    fn counts(&self) -> (usize, usize) {
        let complete = self.peers.values().filter(|p| p.complete).count();
        (complete, self.peers.len() - complete)
    }
}

struct Pending {
    from: String,
    to: String,
    at: Instant,
}

/// Messages to send: (socket, text).
pub type Outbox = Vec<(u64, String)>;

/// Every WebTorrent swarm.
pub struct WebTorrent {
    limits: WtLimits,
    swarms: HashMap<String, Swarm>,
    /// What each socket announced: (info_hash, peer_id).
    owned: HashMap<u64, HashSet<(String, String)>>,
    pending: HashMap<(String, String), Pending>,
}

impl std::fmt::Debug for WebTorrent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebTorrent")
            .field("swarms", &self.swarms.len())
            .field("pending", &self.pending.len())
            .finish()
    }
}

/// A 20-character binary string (each character one byte).
fn binary20(v: Option<&Value>) -> Option<String> {
    let s = v?.as_str()?;
    (s.chars().count() == 20 && s.chars().all(|c| u32::from(c) <= 0xff)).then(|| s.to_owned())
}

impl WebTorrent {
    /// No swarms yet.
    pub fn new(limits: WtLimits) -> Self {
        Self {
            limits,
            swarms: HashMap::new(),
            owned: HashMap::new(),
            pending: HashMap::new(),
        }
    }

    /// Swarms and peers in all.
    pub fn size(&self) -> (usize, usize) {
        (
            self.swarms.len(),
            self.swarms.values().map(|s| s.peers.len()).sum(),
        )
    }

    /// One message from `socket`; what to send, or why it was refused.
    pub fn message(
        &mut self,
        socket: u64,
        m: &Value,
        now: Instant,
        random: &mut impl FnMut(usize) -> usize,
    ) -> Result<Outbox, String> {
        match m.get("action").and_then(Value::as_str) {
            Some("announce") => self.announce(socket, m, now, random),
            Some("scrape") => Ok(vec![(socket, self.scrape(m)?)]),
            _ => Err("action must be announce or scrape".into()),
        }
    }

    fn announce(
        &mut self,
        socket: u64,
        m: &Value,
        now: Instant,
        random: &mut impl FnMut(usize) -> usize,
    ) -> Result<Outbox, String> {
        let ih = binary20(m.get("info_hash")).ok_or("info_hash must be a 20-character string")?;
        let pid = binary20(m.get("peer_id")).ok_or("peer_id must be a 20-character string")?;
        // An answer travels back to the peer that offered; nothing else in it matters.
        if let Some(answer) = m.get("answer") {
            let to = binary20(m.get("to_peer_id")).ok_or("to_peer_id must be a 20-character string")?;
            let offer_id = m
                .get("offer_id")
                .and_then(Value::as_str)
                .ok_or("offer_id missing")?;
            let key = (ih.clone(), offer_id.to_owned());
            let ok = self.pending.get(&key).is_some_and(|p| {
                p.from == to && p.to == pid && now.saturating_duration_since(p.at) < OFFER_TTL
            });
            if !ok {
                return Err("answer to no offer of that peer".into());
            }
            self.pending.remove(&key);
            let Some(target) = self.swarms.get(&ih).and_then(|s| s.peers.get(&to)) else {
                return Ok(Vec::new());
            };
            let text = json!({"action": "announce", "answer": answer, "offer_id": offer_id, "peer_id": pid, "info_hash": ih});
            return Ok(vec![(target.socket, text.to_string())]);
        }
        let event = m.get("event").and_then(Value::as_str).unwrap_or("");
        if event == "stopped" {
            if let Some(s) = self.swarms.get_mut(&ih)
                && s.peers.get(&pid).is_some_and(|p| p.socket == socket)
            {
                s.peers.remove(&pid);
            }
            if let Some(o) = self.owned.get_mut(&socket) {
                o.remove(&(ih.clone(), pid.clone()));
            }
            self.swarms.retain(|_, s| !s.peers.is_empty());
            return Ok(Vec::new());
        }
        if !self.swarms.contains_key(&ih) && self.swarms.len() >= self.limits.max_swarms {
            return Err("tracker full".into());
        }
        let swarm = self.swarms.entry(ih.clone()).or_default();
        let known = swarm.peers.contains_key(&pid);
        if !known && swarm.peers.len() >= self.limits.max_peers_per_swarm {
            return Err("swarm full".into());
        }
        let left_zero = m.get("left").and_then(Value::as_f64) == Some(0.0);
        let complete = left_zero || event == "completed";
        if event == "completed" && swarm.peers.get(&pid).is_some_and(|p| !p.complete) {
            swarm.downloaded += 1;
        }
        match swarm.peers.get_mut(&pid) {
            Some(p) if p.socket != socket => return Err("peer_id is in use on another connection".into()),
            Some(p) => {
                p.complete = p.complete || complete;
                p.last = now;
            }
            None => {
                swarm.peers.insert(
                    pid.clone(),
                    Peer {
                        socket,
                        complete,
                        last: now,
                    },
                );
            }
        }
        self.owned
            .entry(socket)
            .or_default()
            .insert((ih.clone(), pid.clone()));
        let (complete_n, incomplete_n) = swarm.counts();
        let mut out = vec![(
            socket,
            json!({"action": "announce", "interval": self.limits.interval, "info_hash": ih,
                   "complete": complete_n, "incomplete": incomplete_n})
            .to_string(),
        )];
        // Each offer to a different random peer.
        let offers = m
            .get("offers")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let mut others: Vec<(&String, u64)> = swarm
            .peers
            .iter()
            .filter(|(id, _)| **id != pid)
            .map(|(id, p)| (id, p.socket))
            .collect();
        let mut forwards = Vec::new();
        for offer in offers.iter().take(MAX_OFFERS) {
            if others.is_empty() {
                break;
            }
            let (Some(sdp), Some(offer_id)) =
                (offer.get("offer"), offer.get("offer_id").and_then(Value::as_str))
            else {
                continue;
            };
            if offer_id.chars().count() != 20 {
                continue;
            }
            let (to, to_socket) = others.swap_remove(random(others.len()));
            forwards.push((to.clone(), to_socket, offer_id.to_owned(), sdp.clone()));
        }
        if self.pending.len() + forwards.len() > self.limits.max_pending {
            self.pending
                .retain(|_, p| now.saturating_duration_since(p.at) < OFFER_TTL);
        }
        for (to, to_socket, offer_id, sdp) in forwards {
            if self.pending.len() >= self.limits.max_pending {
                break;
            }
            self.pending.insert(
                (ih.clone(), offer_id.clone()),
                Pending {
                    from: pid.clone(),
                    to,
                    at: now,
                },
            );
            let text = json!({"action": "announce", "offer": sdp, "offer_id": offer_id, "peer_id": pid, "info_hash": ih});
            out.push((to_socket, text.to_string()));
        }
        Ok(out)
    }

    fn scrape(&self, m: &Value) -> Result<String, String> {
        let hashes: Vec<String> = match m.get("info_hash") {
            Some(Value::Array(list)) => list
                .iter()
                .take(MAX_SCRAPE)
                .filter_map(|v| binary20(Some(v)))
                .collect(),
            Some(v) => vec![binary20(Some(v)).ok_or("info_hash must be a 20-character string")?],
            None => return Err("info_hash missing".into()),
        };
        let mut files = Map::new();
        for h in hashes {
            let (complete, incomplete, downloaded) = self.swarms.get(&h).map_or((0, 0, 0), |s| {
                let (c, i) = s.counts();
                (c, i, s.downloaded)
            });
            files.insert(
                h,
                json!({"complete": complete, "incomplete": incomplete, "downloaded": downloaded}),
            );
        }
        Ok(json!({"action": "scrape", "files": files}).to_string())
    }

    /// A socket closed: its peers leave their swarms.
    pub fn closed(&mut self, socket: u64) {
        for (ih, pid) in self.owned.remove(&socket).unwrap_or_default() {
            if let Some(s) = self.swarms.get_mut(&ih)
                && s.peers.get(&pid).is_some_and(|p| p.socket == socket)
            {
                s.peers.remove(&pid);
            }
        }
        self.swarms.retain(|_, s| !s.peers.is_empty());
    }

    /// Drops peers silent for `peer_timeout` and offers past [`OFFER_TTL`].
    pub fn expire(&mut self, now: Instant) {
        let timeout = self.limits.peer_timeout;
        for s in self.swarms.values_mut() {
            s.peers
                .retain(|_, p| now.saturating_duration_since(p.last) < timeout);
        }
        self.swarms.retain(|_, s| !s.peers.is_empty());
        self.pending
            .retain(|_, p| now.saturating_duration_since(p.at) < OFFER_TTL);
    }
}
