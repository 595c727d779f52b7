//! Exact byte layouts of every packet, expected bytes written by hand from BEP 15.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::{cat, sample_announce, sample_announce_bytes};
use crate::common::{AnnounceEvent, AnnounceResponse, ResponsePeer, ScrapeStats};
use crate::udp::{
    AddressFamily, ConnectRequest, MAX_PACKET, PROTOCOL_ID, Request, Response, ScrapeRequest, parse_request,
    parse_response, write_error,
};
use ids::InfoHash;

fn peer(ip: IpAddr, port: u16) -> ResponsePeer {
    ResponsePeer {
        addr: SocketAddr::new(ip, port),
        peer_id: None,
    }
}

#[test]
fn protocol_id_is_the_bep_15_constant() {
    assert_eq!(PROTOCOL_ID, 0x417_2710_1980);
    assert_eq!(
        PROTOCOL_ID.to_be_bytes(),
        [0, 0, 0x04, 0x17, 0x27, 0x10, 0x19, 0x80]
    );
}

#[test]
fn connect_request_bytes() {
    let expected = [0, 0, 0x04, 0x17, 0x27, 0x10, 0x19, 0x80, 0, 0, 0, 0, 1, 2, 3, 4];
    let request = Request::Connect(ConnectRequest {
        transaction_id: 0x0102_0304,
    });
    let mut out = Vec::new();
    request.write(&mut out);
    assert_eq!(out, expected);
    assert_eq!(parse_request(&expected).unwrap(), request);
}

#[test]
fn connect_request_with_trailing_bytes_is_accepted() {
    // BEP 15: "do not expect packets to be exactly of a certain size".
    let mut packet = vec![0, 0, 0x04, 0x17, 0x27, 0x10, 0x19, 0x80, 0, 0, 0, 0, 1, 2, 3, 4];
    packet.extend_from_slice(&[0xff; 5]);
    let parsed = parse_request(&packet).unwrap();
    assert_eq!(
        parsed,
        Request::Connect(ConnectRequest {
            transaction_id: 0x0102_0304
        })
    );
    assert_eq!(parsed.connection_id(), None);
}

#[test]
fn announce_request_bytes() {
    let expected = sample_announce_bytes();
    assert_eq!(expected.len(), 98);
    let request = Request::Announce(sample_announce());
    let mut out = Vec::new();
    request.write(&mut out);
    assert_eq!(out, expected);
    let parsed = parse_request(&expected).unwrap();
    assert_eq!(parsed, request);
    assert_eq!(parsed.transaction_id(), 0xdead_beef);
    assert_eq!(parsed.connection_id(), Some(0x1122_3344_5566_7788));
}

#[test]
fn announce_request_defaults() {
    // ip 0 means "use the sender's address"; num_want -1 (or any negative) means default.
    let mut packet = sample_announce_bytes();
    packet[80..84].copy_from_slice(&[0, 0, 0, 0]); // event: none
    packet[84..88].copy_from_slice(&[0, 0, 0, 0]);
    packet[92..96].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
    let Request::Announce(a) = parse_request(&packet).unwrap() else {
        panic!("not an announce")
    };
    assert_eq!(a.request.ip, None);
    assert_eq!(a.request.numwant, None);
    assert_eq!(a.request.event, AnnounceEvent::None);
    packet[92..96].copy_from_slice(&(-7i32).to_be_bytes());
    let Request::Announce(a) = parse_request(&packet).unwrap() else {
        panic!("not an announce")
    };
    assert_eq!(a.request.numwant, None);

    // Written back: None becomes 0 and -1; an IPv6 `ip` cannot be carried and becomes 0.
    let mut written = a.clone();
    written.request.ip = Some(IpAddr::V6(Ipv6Addr::LOCALHOST));
    let mut out = Vec::new();
    written.write(&mut out);
    assert_eq!(out[84..88], [0, 0, 0, 0]);
    assert_eq!(out[92..96], [0xff, 0xff, 0xff, 0xff]);
}

#[test]
fn announce_events_map_to_bep_15_codes() {
    let events = [
        (0, AnnounceEvent::None),
        (1, AnnounceEvent::Completed),
        (2, AnnounceEvent::Started),
        (3, AnnounceEvent::Stopped),
    ];
    for (code, event) in events {
        let mut packet = sample_announce_bytes();
        packet[80..84].copy_from_slice(&u32::to_be_bytes(code));
        let Request::Announce(a) = parse_request(&packet).unwrap() else {
            panic!("not an announce")
        };
        assert_eq!(a.request.event, event);
        let mut out = Vec::new();
        a.write(&mut out);
        assert_eq!(out, packet);
    }
}

#[test]
fn scrape_request_bytes() {
    let expected = cat(&[
        &[0, 0, 0, 0, 0, 0, 0x30, 0x39], // connection_id 12345
        &[0, 0, 0, 2],                   // action: scrape
        &[0, 0, 0, 9],                   // transaction_id
        &[0x11; 20],
        &[0x22; 20],
    ]);
    let request = Request::Scrape(ScrapeRequest {
        connection_id: 12345,
        transaction_id: 9,
        info_hashes: vec![InfoHash([0x11; 20]), InfoHash([0x22; 20])],
    });
    let mut out = Vec::new();
    request.write(&mut out);
    assert_eq!(out, expected);
    assert_eq!(parse_request(&expected).unwrap(), request);
}

#[test]
fn connect_response_bytes() {
    let expected = [0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4, 5, 6, 7, 8];
    let response = Response::Connect {
        transaction_id: 5,
        connection_id: 0x0102_0304_0506_0708,
    };
    let mut out = Vec::new();
    response.write(&mut out, AddressFamily::V4);
    assert_eq!(out, expected);
    assert_eq!(parse_response(&expected, AddressFamily::V4).unwrap(), response);
}

fn mixed_announce() -> AnnounceResponse {
    AnnounceResponse {
        interval: 1800,
        min_interval: Some(60),
        complete: 7,
        incomplete: 5,
        peers: vec![
            peer(IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4)), 6881),
            peer(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)), 80),
            peer(IpAddr::V4(Ipv4Addr::new(192, 168, 0, 1)), 1),
        ],
        external_ip: Some(IpAddr::V4(Ipv4Addr::new(9, 9, 9, 9))),
        warning: Some("dropped".into()),
        tracker_id: Some(b"dropped".to_vec()),
    }
}

#[test]
fn announce_response_bytes_ipv4() {
    let expected = cat(&[
        &[0, 0, 0, 1],             // action: announce
        &[0, 0, 0, 0x2a],          // transaction_id
        &[0, 0, 0x07, 0x08],       // interval 1800
        &[0, 0, 0, 5],             // leechers = incomplete
        &[0, 0, 0, 7],             // seeders = complete
        &[1, 2, 3, 4, 0x1a, 0xe1], // 1.2.3.4:6881
        &[192, 168, 0, 1, 0, 1],   // 192.168.0.1:1 (the IPv6 peer is skipped)
    ]);
    let response = Response::Announce {
        transaction_id: 42,
        response: mixed_announce(),
    };
    let mut out = Vec::new();
    response.write(&mut out, AddressFamily::V4);
    assert_eq!(out, expected);

    let parsed = parse_response(&expected, AddressFamily::V4).unwrap();
    let mut kept = mixed_announce();
    kept.peers.remove(1);
    kept.min_interval = None;
    kept.external_ip = None;
    kept.warning = None;
    kept.tracker_id = None;
    assert_eq!(
        parsed,
        Response::Announce {
            transaction_id: 42,
            response: kept
        }
    );
}

#[test]
fn announce_response_bytes_ipv6() {
    let expected = cat(&[
        &[0, 0, 0, 1],
        &[0, 0, 0, 0x2a],
        &[0, 0, 0x07, 0x08],
        &[0, 0, 0, 5],
        &[0, 0, 0, 7],
        &[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 80], // [2001:db8::1]:80
    ]);
    let mut out = Vec::new();
    Response::Announce {
        transaction_id: 42,
        response: mixed_announce(),
    }
    .write(&mut out, AddressFamily::V6);
    assert_eq!(out, expected);
    let Response::Announce { response, .. } = parse_response(&expected, AddressFamily::V6).unwrap() else {
        panic!("not an announce")
    };
    assert_eq!(response.peers, [mixed_announce().peers[1]]);
}

#[test]
fn scrape_response_bytes() {
    let expected = cat(&[
        &[0, 0, 0, 2],
        &[0xff, 0xff, 0xff, 0xff],
        &[0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3], // seeders, completed, leechers
        &[0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ]);
    let stats = vec![
        ScrapeStats {
            complete: 1,
            downloaded: 2,
            incomplete: 3,
        },
        ScrapeStats {
            complete: 256,
            downloaded: 0,
            incomplete: 0,
        },
    ];
    let response = Response::Scrape {
        transaction_id: u32::MAX,
        stats,
    };
    let mut out = Vec::new();
    response.write(&mut out, AddressFamily::V6);
    assert_eq!(out, expected);
    assert_eq!(parse_response(&expected, AddressFamily::V4).unwrap(), response);
}

#[test]
fn error_response_bytes() {
    let expected = cat(&[&[0, 0, 0, 3], &[0, 0, 0, 8], b"bad passkey"]);
    let response = Response::Error {
        transaction_id: 8,
        message: "bad passkey".into(),
    };
    let mut out = Vec::new();
    response.write(&mut out, AddressFamily::V4);
    assert_eq!(out, expected);
    assert_eq!(parse_response(&expected, AddressFamily::V4).unwrap(), response);
    let mut direct = Vec::new();
    write_error(&mut direct, 8, "bad passkey");
    assert_eq!(direct, expected);
}

#[test]
fn writers_append_and_never_exceed_max_packet() {
    let many_v4 = (0..2000u32).map(|i| peer(IpAddr::V4(Ipv4Addr::from(i)), 1));
    let many_v6 = (0..2000u128).map(|i| peer(IpAddr::V6(Ipv6Addr::from(i)), 1));
    let response = AnnounceResponse {
        peers: many_v4.chain(many_v6).collect(),
        ..AnnounceResponse::default()
    };
    for (family, peers) in [(AddressFamily::V4, 1362), (AddressFamily::V6, 454)] {
        let mut out = b"prefix".to_vec();
        let reply = Response::Announce {
            transaction_id: 1,
            response: response.clone(),
        };
        reply.write(&mut out, family);
        assert!(out.starts_with(b"prefix"));
        assert_eq!(out.len() - 6, 20 + peers * family.peer_len());
        assert!(out.len() - 6 <= MAX_PACKET);
    }
    let stats = vec![ScrapeStats::default(); 1000];
    let mut out = Vec::new();
    Response::Scrape {
        transaction_id: 1,
        stats,
    }
    .write(&mut out, AddressFamily::V4);
    assert_eq!(out.len(), 8 + 682 * 12);
}

#[test]
fn writers_do_not_reallocate_a_reserved_buffer() {
    let mut out = Vec::with_capacity(MAX_PACKET);
    let start = out.as_ptr();
    let reply = Response::Announce {
        transaction_id: 1,
        response: mixed_announce(),
    };
    reply.write(&mut out, AddressFamily::V4);
    out.clear();
    write_error(&mut out, 1, format_args!("invalid event {}", 9));
    assert_eq!(out.as_ptr(), start);
    assert_eq!(&out[8..], b"invalid event 9");
}

#[test]
fn address_family_of_source() {
    let v4 = IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4));
    let mapped = IpAddr::V6(Ipv4Addr::new(1, 2, 3, 4).to_ipv6_mapped());
    assert_eq!(AddressFamily::of(v4), AddressFamily::V4);
    assert_eq!(AddressFamily::of(mapped), AddressFamily::V4);
    assert_eq!(
        AddressFamily::of(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        AddressFamily::V6
    );
    assert!(!AddressFamily::V4.contains(&mapped));
}
