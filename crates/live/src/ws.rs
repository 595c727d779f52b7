//! The two WebSockets: `/signal?peer_id=…` (seed 001's viewers relaying WebRTC offers,
//! answers and candidates) and `/webtorrent` (the WebTorrent tracker protocol). Each socket
//! counts against the per-address and total caps; messages are capped in size and rate; a
//! socket silent for 90 s (pings unanswered) is closed; its queue of outgoing messages is
//! bounded (a browser that does not read loses messages, never our memory).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::app::{App, Counters, SocketSlot, lock};
use crate::http::Refusal;
use crate::peer::LivePeerId;
use crate::signal::Relayed;

/// Messages waiting to be written to one socket.
const QUEUE: usize = 64;
/// A ping this often; no answer (or anything) within three of them closes the socket.
const PING_EVERY: Duration = Duration::from_secs(30);

/// A token bucket: `rate` a second, up to twice that at once.
struct Bucket {
    rate: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new(rate: u32) -> Self {
        let rate = f64::from(rate.max(1));
        Self {
            rate,
            tokens: rate * 2.0,
            at: Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.rate * 2.0);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

fn upgrade(app: &Arc<App>, ws: WebSocketUpgrade) -> WebSocketUpgrade {
    let max = app.config.max_message_bytes;
    // Small buffers: most messages are a few hundred bytes, and thousands of sockets stay open
    // (the library's defaults, 128 KiB to read, would cost that much per socket).
    ws.max_message_size(max)
        .max_frame_size(max)
        .read_buffer_size(4096)
        .write_buffer_size(4096)
}

/// What a socket does with each text message it receives; `Err` ends the socket.
trait Handler: Send + 'static {
    fn text(&mut self, app: &Arc<App>, text: &str, tx: &mpsc::Sender<String>) -> Result<(), ()>;
    fn closed(&mut self, app: &Arc<App>);
}

/// Runs a socket until it closes: reads (rate-limited), writes what the queue holds, pings.
async fn run(
    app: Arc<App>,
    mut socket: WebSocket,
    mut handler: impl Handler,
    tx: mpsc::Sender<String>,
    mut rx: mpsc::Receiver<String>,
    _slot: SocketSlot,
    _busy: Option<http_server::UpgradedGuard>,
) {
    let mut bucket = Bucket::new(app.config.messages_per_second);
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut heard = Instant::now();
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let Some(Ok(m)) = incoming else { break };
                heard = Instant::now();
                match m {
                    Message::Text(t) => {
                        if !bucket.take() {
                            Counters::bump(&app.counters.rate_limited);
                            let _ = tx.try_send(json!({"action": "error", "error": "too many messages"}).to_string());
                            continue;
                        }
                        if handler.text(&app, t.as_str(), &tx).is_err() {
                            break;
                        }
                    }
                    Message::Close(_) => break,
                    // Pongs (and pings, answered by the library) only show the peer is there.
                    _ => {}
                }
            }
            out = rx.recv() => {
                let Some(text) = out else { break };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            _ = ping.tick() => {
                if heard.elapsed() > PING_EVERY * 3 || socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
            }
        }
    }
    handler.closed(&app);
}

/// Takes a socket slot for `from` (or refuses), upgrades, registers the socket's outgoing
/// queue with `register` and runs the socket with the handler it returns.
fn accept<H: Handler>(
    app: Arc<App>,
    from: SocketAddr,
    upgraded: Option<axum::Extension<http_server::Upgraded>>,
    ws: WebSocketUpgrade,
    register: impl FnOnce(&Arc<App>, mpsc::Sender<String>) -> H + Send + 'static,
) -> Response {
    let Some(slot) = app.socket_slot(from.ip()) else {
        return Refusal(StatusCode::TOO_MANY_REQUESTS, "too many sockets".into()).into_response();
    };
    let busy = upgraded.map(|u| u.0.hold());
    upgrade(&app, ws)
        .on_upgrade(move |socket| async move {
            let (tx, rx) = mpsc::channel(QUEUE);
            let handler = register(&app, tx.clone());
            run(app.clone(), socket, handler, tx, rx, slot, busy).await;
        })
        .into_response()
}

struct Signal {
    id: LivePeerId,
    serial: u64,
}

impl Handler for Signal {
    fn text(&mut self, app: &Arc<App>, text: &str, tx: &mpsc::Sender<String>) -> Result<(), ()> {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            Counters::bump(&app.counters.signals_refused);
            let _ = tx.try_send(json!({"action": "error", "error": "not JSON"}).to_string());
            return Ok(());
        };
        match lock(&app.relay).relay(&self.id, &v, Instant::now()) {
            Relayed::Delivered => Counters::bump(&app.counters.signals),
            Relayed::Gone(back) => {
                Counters::bump(&app.counters.signals_gone);
                let _ = tx.try_send(back);
            }
            Relayed::Refused(why) => {
                Counters::bump(&app.counters.signals_refused);
                let _ = tx.try_send(json!({"action": "error", "error": why}).to_string());
            }
            Relayed::Dropped => Counters::bump(&app.counters.signals_refused),
        }
        Ok(())
    }

    fn closed(&mut self, app: &Arc<App>) {
        // A closed socket forgets the peer: nobody can connect to it any more.
        if lock(&app.relay).leave(&self.id, self.serial) {
            lock(&app.swarms).leave(&self.id);
        }
    }
}

/// `GET /signal?peer_id=…`: the viewer must have announced, from the same address.
pub async fn signal(
    State(app): State<Arc<App>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    upgraded: Option<axum::Extension<http_server::Upgraded>>,
    q: Result<Query<std::collections::HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
    ws: WebSocketUpgrade,
) -> Response {
    let Ok(Query(q)) = q else {
        return Refusal(StatusCode::BAD_REQUEST, "query string is malformed".into()).into_response();
    };
    let Some(id) = q.get("peer_id").and_then(|p| LivePeerId::parse(p)) else {
        return Refusal(StatusCode::BAD_REQUEST, "peer_id is missing or malformed".into()).into_response();
    };
    let Some((channel, ip)) = lock(&app.swarms).whereabouts(&id) else {
        return Refusal(StatusCode::NOT_FOUND, "unknown peer_id: announce first".into()).into_response();
    };
    // Peer ids are handed to other viewers: only the address that announced may take the socket.
    if ip != from.ip() {
        return Refusal(
            StatusCode::FORBIDDEN,
            "peer_id was announced from another address".into(),
        )
        .into_response();
    }
    accept(app, from, upgraded, ws, move |app, tx| {
        let serial = lock(&app.relay).join(id.clone(), channel, tx);
        Signal { id, serial }
    })
}

struct Tracker {
    serial: u64,
}

impl Handler for Tracker {
    fn text(&mut self, app: &Arc<App>, text: &str, tx: &mpsc::Sender<String>) -> Result<(), ()> {
        Counters::bump(&app.counters.webtorrent_messages);
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            let _ = tx.try_send(json!({"failure reason": "not JSON"}).to_string());
            return Ok(());
        };
        let outbox = {
            let mut rng = lock(&app.rng);
            let mut random = |n: usize| rng.below(n.max(1));
            lock(&app.webtorrent).message(self.serial, &v, Instant::now(), &mut random)
        };
        match outbox {
            Ok(out) => {
                let sockets = lock(&app.wt_sockets);
                for (to, text) in out {
                    if let Some(s) = sockets.get(&to) {
                        let _ = s.try_send(text);
                    }
                }
            }
            Err(why) => {
                let action = v.get("action").cloned().unwrap_or(Value::Null);
                let _ = tx.try_send(json!({"action": action, "failure reason": why}).to_string());
            }
        }
        Ok(())
    }

    fn closed(&mut self, app: &Arc<App>) {
        lock(&app.wt_sockets).remove(&self.serial);
        lock(&app.webtorrent).closed(self.serial);
    }
}

/// `GET /webtorrent`: a WebTorrent tracker socket.
pub async fn webtorrent(
    State(app): State<Arc<App>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    upgraded: Option<axum::Extension<http_server::Upgraded>>,
    ws: WebSocketUpgrade,
) -> Response {
    accept(app, from, upgraded, ws, |app, tx| {
        let serial = app.socket_serial();
        lock(&app.wt_sockets).insert(serial, tx);
        Tracker { serial }
    })
}
