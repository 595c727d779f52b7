//! Round-trip properties: everything written parses back to what was written.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use crate::common::{AnnounceEvent, AnnounceRequest, AnnounceResponse, ResponsePeer, ScrapeStats, Transfer};

use crate::udp::{
    AddressFamily, ConnectRequest, MAX_ERROR_MESSAGE, MAX_PACKET, MAX_SCRAPE_HASHES, MAX_URL_DATA, Request,
    Response, ScrapeRequest, UdpAnnounce, parse_request, parse_response,
};
use ids::{InfoHash, PeerId};

fn event() -> impl Strategy<Value = AnnounceEvent> {
    prop_oneof![
        Just(AnnounceEvent::None),
        Just(AnnounceEvent::Completed),
        Just(AnnounceEvent::Started),
        Just(AnnounceEvent::Stopped),
    ]
}

/// An announce as UDP can carry it: IPv4 or no `ip`, `numwant` within i32, `key` mirrored.
fn announce() -> impl Strategy<Value = UdpAnnounce> {
    let fields = (
        any::<u64>(),
        any::<u32>(),
        any::<[u8; 20]>(),
        any::<[u8; 20]>(),
        any::<(u64, u64, u64)>(),
        event(),
        option::of(1..=u32::MAX),
        any::<u32>(),
        option::of(0..=i32::MAX as u32),
        any::<u16>(),
        option::of(vec(any::<u8>(), 0..=MAX_URL_DATA)),
    );
    fields.prop_map(
        |(cid, tid, ih, pid, (up, down, left), ev, ip, key, nw, port, url)| UdpAnnounce {
            connection_id: cid,
            transaction_id: tid,
            request: AnnounceRequest {
                info_hash: InfoHash(ih),
                peer_id: PeerId(pid),
                port,
                transfer: Transfer {
                    uploaded: up,
                    downloaded: down,
                    left,
                },
                event: ev,
                numwant: nw,
                ip: ip.map(|ip| IpAddr::V4(Ipv4Addr::from(ip))),
                key: Some(key.to_be_bytes().to_vec()),
            },
            key,
            url_data: url,
        },
    )
}

fn request() -> impl Strategy<Value = Request> {
    let connect = any::<u32>().prop_map(|transaction_id| Request::Connect(ConnectRequest { transaction_id }));
    let scrape = (
        any::<u64>(),
        any::<u32>(),
        vec(any::<[u8; 20]>(), 1..=MAX_SCRAPE_HASHES),
    )
        .prop_map(|(connection_id, transaction_id, hashes)| {
            Request::Scrape(ScrapeRequest {
                connection_id,
                transaction_id,
                info_hashes: hashes.into_iter().map(InfoHash).collect(),
            })
        });
    prop_oneof![connect, announce().prop_map(Request::Announce), scrape]
}

fn peer(family: AddressFamily) -> BoxedStrategy<ResponsePeer> {
    let ip = match family {
        AddressFamily::V4 => any::<[u8; 4]>().prop_map(IpAddr::from).boxed(),
        AddressFamily::V6 => any::<[u8; 16]>().prop_map(IpAddr::from).boxed(),
    };
    (ip, any::<u16>())
        .prop_map(|(ip, port)| ResponsePeer {
            addr: SocketAddr::new(ip, port),
            peer_id: None,
        })
        .boxed()
}

fn stats() -> impl Strategy<Value = ScrapeStats> {
    any::<(u32, u32, u32)>().prop_map(|(complete, downloaded, incomplete)| ScrapeStats {
        complete,
        downloaded,
        incomplete,
    })
}

/// A reply as UDP can carry it over `family`: only that family's peers, no HTTP-only fields.
fn response(family: AddressFamily) -> impl Strategy<Value = Response> {
    let connect = any::<(u32, u64)>().prop_map(|(transaction_id, connection_id)| Response::Connect {
        transaction_id,
        connection_id,
    });
    let announce = (any::<(u32, u32, u32, u32)>(), vec(peer(family), 0..200)).prop_map(
        |((transaction_id, interval, complete, incomplete), peers)| Response::Announce {
            transaction_id,
            response: AnnounceResponse {
                interval,
                complete,
                incomplete,
                peers,
                ..AnnounceResponse::default()
            },
        },
    );
    let scrape = (any::<u32>(), vec(stats(), 0..=MAX_SCRAPE_HASHES)).prop_map(|(transaction_id, stats)| {
        Response::Scrape {
            transaction_id,
            stats,
        }
    });
    let error = (any::<u32>(), "\\PC{0,400}")
        .prop_filter("fits the cap", |(_, m)| m.len() <= MAX_ERROR_MESSAGE)
        .prop_map(|(transaction_id, message)| Response::Error {
            transaction_id,
            message,
        });
    prop_oneof![connect, announce, scrape, error]
}

fn family() -> impl Strategy<Value = AddressFamily> {
    prop_oneof![Just(AddressFamily::V4), Just(AddressFamily::V6)]
}

proptest! {
    #[test]
    fn requests_round_trip(request in request()) {
        let mut out = Vec::new();
        request.write(&mut out);
        prop_assert_eq!(parse_request(&out), Ok(request));
    }

    #[test]
    fn responses_round_trip_v4(response in response(AddressFamily::V4)) {
        let mut out = Vec::new();
        response.write(&mut out, AddressFamily::V4);
        prop_assert!(out.len() <= MAX_PACKET);
        prop_assert_eq!(parse_response(&out, AddressFamily::V4), Ok(response));
    }

    #[test]
    fn responses_round_trip_v6(response in response(AddressFamily::V6)) {
        let mut out = Vec::new();
        response.write(&mut out, AddressFamily::V6);
        prop_assert!(out.len() <= MAX_PACKET);
        prop_assert_eq!(parse_response(&out, AddressFamily::V6), Ok(response));
    }

    /// Mixed-family peer lists keep exactly the peers of the reply's family, in order.
    #[test]
    fn mixed_peers_are_filtered(
        v4 in vec(peer(AddressFamily::V4), 0..50),
        v6 in vec(peer(AddressFamily::V6), 0..50),
        family in family(),
        seed in any::<u64>(),
    ) {
        let mut peers: Vec<_> = v4.into_iter().chain(v6).collect();
        // A cheap deterministic shuffle, so the families interleave.
        let n = peers.len();
        for i in 0..n {
            let j = (seed.rotate_left(i as u32) as usize ^ i.wrapping_mul(31)) % n;
            peers.swap(i, j);
        }
        let expected: Vec<_> =
            peers.iter().copied().filter(|p| family.contains(&p.addr.ip())).collect();
        let response = AnnounceResponse { peers, ..AnnounceResponse::default() };
        let mut out = Vec::new();
        Response::Announce { transaction_id: 1, response }.write(&mut out, family);
        let Ok(Response::Announce { response, .. }) = parse_response(&out, family) else {
            panic!("not an announce");
        };
        prop_assert_eq!(response.peers, expected);
    }

    /// Whatever parses, written again, parses to the same thing.
    #[test]
    fn parsed_requests_rewrite_stably(packet in vec(any::<u8>(), 0..1600), action in 0u8..4) {
        let mut packet = packet;
        if let Some(byte) = packet.get_mut(11) {
            *byte = action;
            packet[8..11].fill(0);
            if action == 0 {
                packet[..8].copy_from_slice(&crate::udp::PROTOCOL_ID.to_be_bytes());
            }
        }
        // Most random events are invalid; make most announces get past them.
        if let Some(event) = packet.get_mut(80..84) {
            event[..3].fill(0);
            event[3] %= 5;
        }
        if let Ok(request) = parse_request(&packet) {
            let mut out = Vec::new();
            request.write(&mut out);
            prop_assert_eq!(parse_request(&out), Ok(request));
        }
    }

    #[test]
    fn parsed_responses_rewrite_stably(
        packet in vec(any::<u8>(), 0..1600),
        action in 0u8..4,
        family in family(),
    ) {
        let mut packet = packet;
        if let Some(byte) = packet.get_mut(3) {
            *byte = action;
            packet[..3].fill(0);
        }
        if let Ok(response) = parse_response(&packet, family) {
            if matches!(&response, Response::Error { message, .. } if message.len() > MAX_ERROR_MESSAGE) {
                return Ok(());
            }
            let mut out = Vec::new();
            response.write(&mut out, family);
            prop_assert_eq!(parse_response(&out, family), Ok(response));
        }
    }
}

#[test]
fn ipv6_lengths_match_the_docs() {
    let v6 = Ipv6Addr::LOCALHOST;
    assert_eq!(AddressFamily::of(IpAddr::V6(v6)).peer_len(), 18);
    assert_eq!((MAX_PACKET - 20) / 18, 454);
    assert_eq!((MAX_PACKET - 20) / 6, 1362);
    assert_eq!((MAX_PACKET - 8) / 12, 682);
    assert_eq!(20 + 200 * 6, 1220);
    assert_eq!(20 + 79 * 18, 1442);
}
