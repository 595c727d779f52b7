//! WebRTC signaling between viewers of one channel (CDNBye's protocol): a viewer's socket
//! sends `{action:"signal", to_peer_id, data}` and the target's receives
//! `{action:"signal", from_peer_id, data}`. A target that is not connected answers for itself
//! with `{action:"signal", from_peer_id}` and no `data`, so the sender tries another peer at
//! once. An answer (and the ICE candidates that go with it) is relayed only to a viewer that
//! sent an offer to the answerer in the last [`OFFER_TTL`]: nobody can push an unasked-for
//! answer into a connection.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ids::InfoHash;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::peer::LivePeerId;

/// How long an offer waits for its answer.
pub const OFFER_TTL: Duration = Duration::from_secs(120);
/// Most offers remembered (beyond it, the oldest expire first).
pub const MAX_OFFERS: usize = 200_000;

struct Socket {
    channel: InfoHash,
    /// Which connection of that peer id (a reconnect replaces the old one).
    serial: u64,
    tx: mpsc::Sender<String>,
}

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relayed {
    /// Sent on to the target.
    Delivered,
    /// The target is not connected: the sender gets the empty signal back.
    Gone(String),
    /// Refused: not a signal, another channel, an answer nobody asked for.
    Refused(&'static str),
    /// The target's queue is full (a stuck browser): dropped.
    Dropped,
}

/// The connected viewers and the offers waiting for answers.
#[derive(Default)]
pub struct Relay {
    sockets: HashMap<LivePeerId, Socket>,
    offers: HashMap<(LivePeerId, LivePeerId), Instant>,
    next_serial: u64,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("sockets", &self.sockets.len())
            .field("offers", &self.offers.len())
            .finish()
    }
}

impl Relay {
    /// Connected sockets.
    pub fn len(&self) -> usize {
        self.sockets.len()
    }

    /// Whether none is connected.
    pub fn is_empty(&self) -> bool {
        self.sockets.is_empty()
    }

    /// Offers waiting for an answer.
    pub fn offers(&self) -> usize {
        self.offers.len()
    }

    /// Registers `id`'s socket (replacing an older one of the same id); its serial, for
    /// [`Relay::leave`].
    pub fn join(&mut self, id: LivePeerId, channel: InfoHash, tx: mpsc::Sender<String>) -> u64 {
        self.next_serial += 1;
        let serial = self.next_serial;
        self.sockets.insert(id, Socket { channel, serial, tx });
        serial
    }

    /// Forgets `id`'s socket, if it is still connection `serial`; true if it was.
    pub fn leave(&mut self, id: &LivePeerId, serial: u64) -> bool {
        if self.sockets.get(id).is_some_and(|s| s.serial == serial) {
            self.sockets.remove(id);
            self.offers.retain(|(a, b), _| a != id && b != id);
            return true;
        }
        false
    }

    /// Whether `id` is connected.
    pub fn connected(&self, id: &LivePeerId) -> bool {
        self.sockets.contains_key(id)
    }

    /// Handles one message from `from`.
    pub fn relay(&mut self, from: &LivePeerId, message: &Value, now: Instant) -> Relayed {
        if message.get("action").and_then(Value::as_str) != Some("signal") {
            return Relayed::Refused("action must be \"signal\"");
        }
        let Some(to) = message
            .get("to_peer_id")
            .and_then(Value::as_str)
            .and_then(LivePeerId::parse)
        else {
            return Relayed::Refused("to_peer_id missing or malformed");
        };
        let Some(data) = message.get("data").filter(|d| !d.is_null()) else {
            return Relayed::Refused("data missing");
        };
        let Some(channel) = self.sockets.get(from).map(|s| s.channel) else {
            return Relayed::Refused("not connected");
        };
        let Some(target) = self.sockets.get(&to) else {
            return Relayed::Gone(json!({"action": "signal", "from_peer_id": to.as_str()}).to_string());
        };
        if target.channel != channel {
            return Relayed::Refused("to_peer_id watches another channel");
        }
        let fresh = |t: &Instant| now.saturating_duration_since(*t) < OFFER_TTL;
        match data.get("type").and_then(Value::as_str) {
            Some("offer") => {
                if self.offers.len() >= MAX_OFFERS {
                    self.offers.retain(|_, t| fresh(t));
                }
                if self.offers.len() >= MAX_OFFERS {
                    return Relayed::Refused("too many offers pending");
                }
                self.offers.insert((from.clone(), to.clone()), now);
            }
            Some("answer") => {
                // Only to a viewer that offered to us lately; the offer is then settled.
                let asked = self.offers.get(&(to.clone(), from.clone())).is_some_and(fresh);
                if !asked {
                    return Relayed::Refused("answer to no offer");
                }
            }
            // ICE candidates (and anything else) travel while an offer between the two is open
            // in either direction.
            _ => {
                let open = self.offers.get(&(from.clone(), to.clone())).is_some_and(fresh)
                    || self.offers.get(&(to.clone(), from.clone())).is_some_and(fresh);
                if !open {
                    return Relayed::Refused("no offer between these peers");
                }
            }
        }
        let text = json!({"action": "signal", "from_peer_id": from.as_str(), "data": data}).to_string();
        match target.tx.try_send(text) {
            Ok(()) => Relayed::Delivered,
            Err(_) => Relayed::Dropped,
        }
    }

    /// Forgets offers older than [`OFFER_TTL`].
    pub fn expire(&mut self, now: Instant) {
        self.offers
            .retain(|_, t| now.saturating_duration_since(*t) < OFFER_TTL);
    }
}
