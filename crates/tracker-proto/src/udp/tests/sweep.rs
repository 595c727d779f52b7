//! "Never panics on any input": random bytes of every length, with and without a plausible
//! header, and every truncation of valid packets.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use proptest::collection::vec;
use proptest::prelude::*;

use super::{cat, sample_announce, sample_announce_bytes};
use crate::common::{AnnounceResponse, ResponsePeer, ScrapeStats};
use crate::udp::{
    AddressFamily, ConnectRequest, PROTOCOL_ID, Request, Response, ScrapeRequest, UdpAnnounce, parse_request,
    parse_response,
};
use ids::InfoHash;

/// Feeds `packet` to every parser; they may fail but must not panic, and a request error must
/// have a transaction id exactly when the packet holds one.
fn parse_all(packet: &[u8]) {
    if let Err(err) = parse_request(packet) {
        assert_eq!(err.transaction_id.is_some(), packet.len() >= 16, "{packet:?}");
        let mut out = Vec::new();
        err.write_reply(&mut out);
    }
    for family in [AddressFamily::V4, AddressFamily::V6] {
        if let Err(err) = parse_response(packet, family) {
            assert_eq!(err.transaction_id.is_some(), packet.len() >= 8, "{packet:?}");
        }
    }
}

/// xorshift64: deterministic bytes without a dependency.
fn fill(buf: &mut [u8], mut state: u64) {
    for byte in buf {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *byte = state.to_be_bytes()[0];
    }
}

#[test]
fn every_length_of_random_bytes() {
    for len in 0..200 {
        for seed in 1..=20u64 {
            let mut packet = vec![0; len];
            fill(&mut packet, seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ len as u64);
            parse_all(&packet);
            // The same bytes made to look like each request and reply action, so the parsers
            // get past the header.
            for action in 0..=4u8 {
                let mut req = packet.clone();
                if len >= 12 {
                    req[8..12].copy_from_slice(&[0, 0, 0, action]);
                }
                if len >= 8 && action == 0 {
                    req[..8].copy_from_slice(&PROTOCOL_ID.to_be_bytes());
                }
                parse_all(&req);
                let mut resp = packet.clone();
                if len >= 4 {
                    resp[..4].copy_from_slice(&[0, 0, 0, action]);
                }
                parse_all(&resp);
            }
        }
    }
}

#[test]
fn announce_options_of_random_bytes() {
    for len in 0..200 {
        for seed in 1..=20u64 {
            let mut options = vec![0; len];
            fill(&mut options, seed ^ (len as u64) << 32);
            // Keep option types small so lengths and URL data get exercised, not just skips.
            for byte in options.iter_mut().step_by(3) {
                *byte %= 4;
            }
            parse_all(&cat(&[&sample_announce_bytes(), &options]));
        }
    }
}

fn valid_packets() -> Vec<Vec<u8>> {
    let requests = [
        Request::Connect(ConnectRequest { transaction_id: 1 }),
        Request::Announce(sample_announce()),
        Request::Announce(UdpAnnounce {
            url_data: Some(b"/announce?auth_key=0123456789abcdef".repeat(10)),
            ..sample_announce()
        }),
        Request::Scrape(ScrapeRequest {
            connection_id: 2,
            transaction_id: 3,
            info_hashes: (0..74).map(|i| InfoHash([i; 20])).collect(),
        }),
    ];
    let peers = (0..30u8)
        .map(|i| {
            let ip = match i % 2 {
                0 => IpAddr::V4(Ipv4Addr::new(10, 0, 0, i)),
                _ => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i.into())),
            };
            ResponsePeer {
                addr: SocketAddr::new(ip, 6881),
                peer_id: None,
            }
        })
        .collect();
    let responses = [
        Response::Connect {
            transaction_id: 1,
            connection_id: 2,
        },
        Response::Announce {
            transaction_id: 3,
            response: AnnounceResponse {
                interval: 1800,
                peers,
                ..AnnounceResponse::default()
            },
        },
        Response::Scrape {
            transaction_id: 4,
            stats: vec![ScrapeStats::default(); 74],
        },
        Response::Error {
            transaction_id: 5,
            message: "café ünïcödé".into(),
        },
    ];
    let mut packets = Vec::new();
    for request in requests {
        let mut out = Vec::new();
        request.write(&mut out);
        packets.push(out);
    }
    for response in responses {
        for family in [AddressFamily::V4, AddressFamily::V6] {
            let mut out = Vec::new();
            response.write(&mut out, family);
            packets.push(out);
        }
    }
    packets
}

#[test]
fn every_truncation_of_valid_packets() {
    for packet in valid_packets() {
        for len in 0..=packet.len() {
            parse_all(&packet[..len]);
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(packet in vec(any::<u8>(), 0..2048)) {
        parse_all(&packet);
    }
}
