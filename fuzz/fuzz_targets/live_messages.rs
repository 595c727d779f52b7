//! Any bytes as what browsers send the live server: data-channel frames, `/stats` bodies,
//! channel and peer ids, WebTorrent tracker messages and signals, interleaved with hostile
//! timing. Never panics; every cap holds (swarm sizes, pending offers, peer-list length); a
//! data-channel message that parses formats and parses back to itself; an assembled piece has
//! exactly its announced size.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use live::datachannel::{Assembler, MAX_CHUNK, Message};
use live::peer::{Device, LivePeerId, channel_id};
use live::signal::Relay;
use live::swarm::{SwarmLimits, Swarms};
use live::webtorrent::{WebTorrent, WtLimits};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let start = Instant::now();
    let mut now = start;
    let mut swarms = Swarms::new(SwarmLimits {
        peer_timeout: Duration::from_secs(25),
        max_peers_returned: 5,
        max_peers_per_channel: 8,
        max_channels: 4,
        max_peers: 16,
        connection_target: 3,
    });
    let mut wt = WebTorrent::new(WtLimits {
        interval: 120,
        peer_timeout: Duration::from_secs(300),
        max_swarms: 4,
        max_peers_per_swarm: 8,
        max_pending: 16,
    });
    let mut relay = Relay::default();
    let mut joined: Vec<LivePeerId> = Vec::new();
    let mut receivers = Vec::new();
    let mut assembler: Option<Assembler> = None;
    let mut counter = 0u64;

    // Records are separated by 0xff: a tag byte, then the record's text or bytes.
    for record in data.split(|b| *b == 0xff) {
        let Some((&tag, rest)) = record.split_first() else { continue };
        let text = std::str::from_utf8(rest).unwrap_or("");
        counter += 1;
        let mut random = |n: usize| (counter as usize).wrapping_mul(7919) % n.max(1);
        match tag % 8 {
            0 => {
                if let Some(m) = Message::from_json(text) {
                    assert_eq!(Message::from_json(&m.to_json()), Some(m.clone()));
                    if let Message::Piece { attachments, url, sn, size } = m {
                        assembler = Assembler::new(url, sn, size, attachments).ok();
                    }
                }
            }
            1 => {
                if let Some(a) = assembler.as_mut() {
                    let chunk = &rest[..rest.len().min(MAX_CHUNK + 1)];
                    match a.push(chunk) {
                        Ok(Some(bytes)) => {
                            assert!(!bytes.is_empty());
                            assembler = None;
                        }
                        Ok(None) => {}
                        Err(_) => assembler = None,
                    }
                }
            }
            2 => {
                let _ = live::http::parse_report(rest);
                let _ = Device::parse(text);
            }
            3 => {
                // An announce to the channel the text names, then a report and a heartbeat.
                if let Ok(channel) = channel_id(text) {
                    let mut id = [0u8; 20];
                    for (i, b) in id.iter_mut().enumerate() {
                        *b = (counter as u8).wrapping_add(i as u8);
                    }
                    let ip = IpAddr::V4(Ipv4Addr::new(10, 0, 0, counter as u8));
                    if let Ok((me, peers)) =
                        swarms.announce(channel, Device::parse(text), ip, now, id, counter)
                    {
                        assert!(peers.len() <= 5 && !peers.contains(&me));
                        let _ = swarms.heartbeat(&channel, &me, now);
                        if let Ok(peers) = swarms.get_peers(&channel, &me, now, counter) {
                            assert!(peers.len() <= 5 && !peers.contains(&me));
                        }
                        if joined.len() < 32 {
                            let (tx, rx) = tokio::sync::mpsc::channel(2);
                            relay.join(me.clone(), channel, tx);
                            receivers.push(rx);
                            joined.push(me);
                        }
                    }
                }
                assert!(swarms.len() <= 16);
            }
            4 => {
                if let Some(from) = joined.get(counter as usize % joined.len().max(1)) {
                    if let Ok(v) = serde_json::from_str::<Value>(text) {
                        let _ = relay.relay(from, &v, now);
                    }
                }
                let _ = LivePeerId::parse(text);
            }
            5 => {
                if let Ok(v) = serde_json::from_str::<Value>(text) {
                    let socket = u64::from(rest.first().copied().unwrap_or(0) % 6);
                    if let Ok(out) = wt.message(socket, &v, now, &mut random) {
                        assert!(out.len() <= 1 + live::webtorrent::MAX_OFFERS);
                    }
                }
                let (swarms_n, _) = wt.size();
                assert!(swarms_n <= 4);
            }
            6 => {
                let step = u64::from(rest.first().copied().unwrap_or(0));
                now += Duration::from_secs(step);
                swarms.expire(now);
                wt.expire(now);
                relay.expire(now);
            }
            _ => {
                let socket = u64::from(rest.first().copied().unwrap_or(0) % 6);
                wt.closed(socket);
                if let Some(id) = joined.pop() {
                    swarms.leave(&id);
                }
            }
        }
    }
    assert!(relay.offers() <= live::signal::MAX_OFFERS);
});
