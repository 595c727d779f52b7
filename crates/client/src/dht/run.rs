//! The node's two tasks: one reads packets, one keeps time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use dht::{Body, Heard, Incoming, Inserted, Message, Method};
use tokio::time::Instant;

use super::{Shared, State};

/// The one packet buffer (one task reads; a flood from one source costs this buffer, never a
/// queue). One byte over the cap, so an oversized packet is seen as one.
const PACKET: usize = dht::krpc::MAX_PACKET + 1;
/// Maintenance (refresh, pings of questionable nodes) runs this often.
const MAINTAIN_EVERY: Duration = Duration::from_secs(60);
/// The state file is written this often (and by `Dht::save`).
const SAVE_EVERY: Duration = Duration::from_secs(600);
/// Questionable nodes pinged per table and round, and nodes pinged to make room in a bucket.
const PINGS: usize = 8;

/// Reads packets from the IPv4 (or the first) socket, or from the IPv6 one, and answers on it.
pub(super) async fn receive(shared: Arc<Shared>, v6: bool) {
    let mut buf = vec![0u8; PACKET];
    loop {
        let socket = match (&shared.socket6, v6) {
            (Some(s), true) => s,
            _ => &shared.socket,
        };
        let Ok((len, from)) = socket.recv_from(&mut buf).await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        // Demultiplexed by the first byte: KRPC is a bencoded dictionary; anything else belongs
        // to whoever shares the socket, if anyone does.
        if len > 0
            && buf[0] != b'd'
            && let Some(others) = shared.others.get()
        {
            if others.try_send((buf[..len].to_vec(), from)).is_err() {
                shared.state().stats.bad_packets += 1;
            }
            continue;
        }
        on_packet(&shared, socket, &buf[..len], from).await;
    }
}

/// Takes the packets another reader of the sockets passes on (uTP's, on a session's port).
pub(super) async fn receive_fed(
    shared: Arc<Shared>,
    mut packets: tokio::sync::mpsc::Receiver<super::Datagram>,
) {
    while let Some((packet, from)) = packets.recv().await {
        let Some(socket) = shared.socket_for(&from) else {
            continue;
        };
        // Held to the same size as a packet read here.
        let packet = &packet[..packet.len().min(PACKET)];
        on_packet(&shared, socket, packet, from).await;
    }
}

/// Answers a query, or takes an answer to ours.
async fn on_packet(shared: &Arc<Shared>, socket: &tokio::net::UdpSocket, packet: &[u8], from: SocketAddr) {
    let mut ping = Vec::new();
    let answer = {
        let mut s = shared.state();
        let now = Instant::now().into_std();
        if !s.sources.allow(from.ip(), now) {
            s.stats.rate_limited += 1;
            return;
        }
        let start = s.rng.below(usize::MAX);
        match s.node.incoming(packet, from, now, start) {
            Incoming::Answer(a) => {
                s.stats.queries_in += 1;
                Some(a)
            }
            Incoming::Reply(m) => {
                ping = on_reply(&mut s, *m, from, now);
                None
            }
            Incoming::Nothing => {
                s.stats.bad_packets += 1;
                None
            }
        }
    };
    if let Some(a) = answer {
        let _ = socket.send_to(&a, from).await;
    }
    for (_, addr) in ping {
        let shared = shared.clone();
        tokio::spawn(async move { shared.query(addr, Method::Ping).await });
    }
}

/// An answer to one of our queries: to its waiter, its sender into the table, its view of our
/// address into the BEP 42 vote. Returns the nodes to ping: questionable ones of a full bucket
/// the sender is waiting to enter.
fn on_reply(
    s: &mut State,
    m: Message,
    from: SocketAddr,
    now: std::time::Instant,
) -> Vec<(ids::NodeId, SocketAddr)> {
    let Ok(tid) = <[u8; 2]>::try_from(m.tid.as_slice()).map(u16::from_be_bytes) else {
        s.stats.bad_packets += 1;
        return Vec::new();
    };
    // Only the address we asked may answer a transaction.
    if s.pending.get(&tid).is_none_or(|p| p.to != from) {
        s.stats.bad_packets += 1;
        return Vec::new();
    }
    let Some(p) = s.pending.remove(&tid) else {
        return Vec::new();
    };
    s.stats.replies += 1;
    let mut ping = Vec::new();
    if let Body::Response(r) = &m.body
        && !m.read_only
    {
        if let Inserted::Cached { ping: q } = s.node.table_mut(&from).heard(r.id, from, Heard::Replied, now) {
            ping = q;
            ping.truncate(PINGS);
        }
        // Only nodes we queried vote: a query's source address could be spoofed.
        if let Some(seen) = m.ip
            && let Some(ours) = s.external.vote(from.ip(), seen.ip())
            && !dht::bep42::is_valid(&s.node.id, ours)
        {
            let mut random = [0u8; 20];
            s.rng.fill(&mut random);
            let id = dht::bep42::id_for(ours, random);
            tracing::info!(external = %ours, %id, "DHT node id derived from our external address (BEP 42)");
            s.node.set_id(id, now);
            s.stats.id_changes += 1;
        }
    }
    let _ = p.reply.send(m);
    ping
}

/// Once a second: rotate tokens, expire peers and forgotten queries. Every minute: look up a
/// random id in each bucket that did not change for 15 minutes, and ping the questionable
/// nodes. Every 10 minutes: save the state.
pub(super) async fn keep_time(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut maintained = Instant::now();
    let mut saved = Instant::now();
    loop {
        tick.tick().await;
        let now = Instant::now();
        let (targets, ping) = {
            let mut s = shared.state();
            let mut fresh = [0u8; 16];
            s.rng.fill(&mut fresh);
            let std_now = now.into_std();
            s.node.tokens.tick(std_now, fresh);
            s.node.store.expire(std_now);
            let limit = shared.config.query_timeout * 2;
            s.pending.retain(|_, p| now.duration_since(p.sent) < limit);
            if now.duration_since(maintained) < MAINTAIN_EVERY
                || s.node.table4.len() + s.node.table6.len() == 0
            {
                continue;
            }
            maintained = now;
            let state = &mut *s;
            let rng = &mut state.rng;
            let mut random = || {
                let mut r = [0u8; 20];
                rng.fill(&mut r);
                r
            };
            let mut targets = state.node.table4.refresh(std_now, &mut random);
            targets.extend(state.node.table6.refresh(std_now, &mut random));
            let mut ping = state.node.table4.questionable(PINGS, std_now);
            ping.extend(state.node.table6.questionable(PINGS, std_now));
            (targets, ping)
        };
        for (_, addr) in ping {
            let shared = shared.clone();
            tokio::spawn(async move { shared.query(addr, Method::Ping).await });
        }
        if !targets.is_empty() {
            let shared = shared.clone();
            tokio::spawn(async move {
                for t in targets {
                    shared.walk(t, false).await;
                }
            });
        }
        if shared.config.state_file.is_some() && now.duration_since(saved) >= SAVE_EVERY {
            saved = now;
            if let Err(e) = shared.save().await {
                tracing::warn!(error = %e, "cannot save the DHT state");
            }
        }
    }
}
