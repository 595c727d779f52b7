//! The UDP tracker: the handler driven datagram by datagram, then real sockets (IPv4 and
//! IPv6, several workers on one port).

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use ids::InfoHash;
use tracker_proto::common::AnnounceEvent;
use tracker_proto::udp::{
    AddressFamily, ConnectRequest, Request, Response, ScrapeRequest, UdpAnnounce, parse_response,
};

use super::{ConnectionIds, UdpHandler, UdpServer};
use crate::access::{ListMode, PublicPolicy};
use crate::engine::{CoreConfig, Tracker};
use crate::stats::ServerStats;
use crate::test_support::{Site, request};

fn public() -> Arc<Tracker> {
    let policy = Arc::new(PublicPolicy::new(ListMode::Open, None, vec![]).unwrap());
    Arc::new(Tracker::new(CoreConfig::default(), policy, None))
}

fn handler(tracker: Arc<Tracker>) -> (UdpHandler, Arc<ServerStats>) {
    let stats = Arc::new(ServerStats::default());
    let h = UdpHandler::new(tracker, stats.clone(), ConnectionIds::with_key([1; 64]));
    (h, stats)
}

fn exchange(h: &mut UdpHandler, req: &Request, src: SocketAddr, now: u32) -> Option<Response> {
    let mut packet = Vec::new();
    req.write(&mut packet);
    let mut out = Vec::new();
    h.handle(&packet, src, now, &mut out)
        .then(|| parse_response(&out, AddressFamily::of(src.ip())).unwrap())
}

fn connect(h: &mut UdpHandler, src: SocketAddr, now: u32) -> u64 {
    match exchange(
        h,
        &Request::Connect(ConnectRequest { transaction_id: 1 }),
        src,
        now,
    ) {
        Some(Response::Connect { connection_id, .. }) => connection_id,
        other => panic!("expected a connect reply, got {other:?}"),
    }
}

fn announce(id: u64, peer: u8, left: u64, url: Option<&str>) -> Request {
    Request::Announce(UdpAnnounce {
        connection_id: id,
        transaction_id: 9,
        request: request(peer, left),
        key: 0,
        url_data: url.map(|u| u.as_bytes().to_vec()),
    })
}

const A: &str = "10.0.0.1:5000";
const B: &str = "10.0.0.2:5000";

#[test]
fn connect_announce_scrape() {
    let (mut h, stats) = handler(public());
    let (a, b) = (A.parse().unwrap(), B.parse().unwrap());
    let id_a = connect(&mut h, a, 10);
    let id_b = connect(&mut h, b, 10);
    let Some(Response::Announce {
        transaction_id,
        response,
    }) = exchange(&mut h, &announce(id_a, 1, 0, None), a, 11)
    else {
        panic!("no announce reply")
    };
    assert_eq!(transaction_id, 9);
    assert_eq!((response.complete, response.incomplete), (1, 0));
    let Some(Response::Announce { response, .. }) = exchange(&mut h, &announce(id_b, 2, 5, None), b, 12)
    else {
        panic!("no announce reply")
    };
    assert_eq!(response.peers.len(), 1);
    assert_eq!(response.peers[0].addr, "10.0.0.1:6882".parse().unwrap());
    let scrape = Request::Scrape(ScrapeRequest {
        connection_id: id_b,
        transaction_id: 3,
        info_hashes: vec![InfoHash([7; 20]), InfoHash([8; 20]), InfoHash([7; 20])],
    });
    let Some(Response::Scrape { stats: s, .. }) = exchange(&mut h, &scrape, b, 13) else {
        panic!("no scrape reply")
    };
    assert_eq!(s.len(), 3, "one entry per requested hash, in order");
    assert_eq!(
        (s[0].complete, s[0].incomplete, s[1].complete, s[2].incomplete),
        (1, 1, 0, 1)
    );
    let u = &stats.udp;
    let counts = [&u.requests, &u.connects, &u.announces, &u.scrapes].map(|c| c.load(Ordering::Relaxed));
    assert_eq!(counts, [5, 2, 2, 1]);
}

#[test]
fn bad_connection_ids_get_an_error_then_silence() {
    let (mut h, stats) = handler(public());
    let a: SocketAddr = A.parse().unwrap();
    let id = connect(&mut h, a, 10);
    // Someone else's id, or one that expired, is refused with a reason.
    let stolen = exchange(&mut h, &announce(id, 1, 0, None), B.parse().unwrap(), 10);
    assert!(matches!(stolen, Some(Response::Error { ref message, .. }) if message.contains("connection id")));
    let late = exchange(&mut h, &announce(id, 1, 0, None), a, 10 + super::VALID_SECS + 1);
    assert!(matches!(late, Some(Response::Error { .. })));
    // An address that keeps guessing is dropped silently.
    let mut answered = 0;
    for guess in 0..50u64 {
        answered += usize::from(exchange(&mut h, &announce(guess, 1, 0, None), a, 200).is_some());
    }
    assert_eq!(
        answered,
        usize::from(super::bad_ids::ALLOWED),
        "the late id was in an earlier window"
    );
    assert!(stats.udp.dropped.load(Ordering::Relaxed) > 0);
    // Even a connect from it is dropped for the rest of the window…
    assert!(
        exchange(
            &mut h,
            &Request::Connect(ConnectRequest { transaction_id: 1 }),
            a,
            201
        )
        .is_none()
    );
    // …and answered after it.
    let window = super::bad_ids::WINDOW_SECS;
    assert!(
        exchange(
            &mut h,
            &Request::Connect(ConnectRequest { transaction_id: 1 }),
            a,
            200 + window
        )
        .is_some()
    );
}

#[test]
fn malformed_datagrams_get_errors_that_say_why() {
    let (mut h, _) = handler(public());
    let a: SocketAddr = A.parse().unwrap();
    let mut out = Vec::new();
    // Too short to hold a transaction id: nothing to answer.
    assert!(!h.handle(&[0; 10], a, 0, &mut out));
    // An announce cut short: an error naming the problem, with the transaction id.
    let id = connect(&mut h, a, 0);
    let mut packet = Vec::new();
    announce(id, 1, 0, None).write(&mut packet);
    packet.truncate(60);
    assert!(h.handle(&packet, a, 0, &mut out));
    match parse_response(&out, AddressFamily::V4).unwrap() {
        Response::Error {
            transaction_id,
            message,
        } => {
            assert_eq!(transaction_id, 9);
            assert!(message.contains("too short"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bep41_passkeys_reach_the_private_policy() {
    let (mut h, _) = handler(Arc::new(Tracker::new(
        CoreConfig::default(),
        Arc::new(Site),
        None,
    )));
    let a: SocketAddr = A.parse().unwrap();
    let id = connect(&mut h, a, 0);
    for (url, ok) in [
        (None, false),
        (Some("/announce?auth_key=mallory"), false),
        (Some("/announce?auth_key=alice"), true),
        (Some("/announce/bob"), true),
    ] {
        match exchange(&mut h, &announce(id, 1, 5, url), a, 1) {
            Some(Response::Announce { .. }) => assert!(ok, "{url:?} should be refused"),
            Some(Response::Error { message, .. }) => assert!(!ok, "{url:?} refused: {message}"),
            other => panic!("{other:?}"),
        }
    }
}

/// Sends `req` from `client` and waits for the reply (the socket has a timeout, so a lost
/// reply fails the test instead of hanging it).
fn roundtrip(client: &UdpSocket, server: SocketAddr, req: &Request) -> Response {
    let mut packet = Vec::new();
    req.write(&mut packet);
    client.send_to(&packet, server).unwrap();
    let mut buf = [0u8; 2048];
    let (n, _) = client.recv_from(&mut buf).unwrap();
    parse_response(&buf[..n], AddressFamily::of(server.ip())).unwrap()
}

#[test]
fn real_sockets_ipv4_and_ipv6_with_several_workers() {
    let tracker = public();
    let stats = Arc::new(ServerStats::default());
    let addrs: [SocketAddr; 2] = ["127.0.0.1:0".parse().unwrap(), "[::1]:0".parse().unwrap()];
    let server = UdpServer::start(tracker.clone(), stats, &addrs, 2).unwrap();
    let bound = server.local_addrs().to_vec();
    assert_eq!(bound.len(), 2);
    for (n, server_addr) in bound.iter().enumerate() {
        let any: SocketAddr = if server_addr.is_ipv4() {
            "127.0.0.1:0"
        } else {
            "[::1]:0"
        }
        .parse()
        .unwrap();
        let client = UdpSocket::bind(any).unwrap();
        client
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let Response::Connect { connection_id, .. } = roundtrip(
            &client,
            *server_addr,
            &Request::Connect(ConnectRequest { transaction_id: 5 }),
        ) else {
            panic!("no connect reply")
        };
        let mut req = announce(connection_id, n as u8 + 1, 0, None);
        if let Request::Announce(a) = &mut req {
            a.request.event = AnnounceEvent::Started;
        }
        let Response::Announce { response, .. } = roundtrip(&client, *server_addr, &req) else {
            panic!("no announce reply")
        };
        // The IPv6 seeder sees no other seeder (seeders get leechers only).
        assert!(response.peers.is_empty());
        assert_eq!(response.complete as usize, n + 1);
    }
    server.shutdown();
    assert_eq!(tracker.swarms().totals().seeders, 2);
}

#[test]
fn ipv6_replies_fit_one_frame() {
    let tracker = public();
    let (mut h, _) = handler(tracker);
    let v6 = |n: u16| SocketAddr::new("2001:db8::1".parse().unwrap(), 1000 + n);
    for n in 0..100u8 {
        let src = v6(u16::from(n));
        let id = connect(&mut h, src, 0);
        let mut packet = Vec::new();
        announce(id, n, 5, None).write(&mut packet);
        let mut out = Vec::new();
        assert!(h.handle(&packet, src, 0, &mut out));
    }
    let src = v6(500);
    let id = connect(&mut h, src, 0);
    let mut req = announce(id, 200, 5, None);
    if let Request::Announce(a) = &mut req {
        a.request.numwant = Some(200);
    }
    let mut packet = Vec::new();
    req.write(&mut packet);
    let mut out = Vec::new();
    assert!(h.handle(&packet, src, 0, &mut out));
    assert!(out.len() <= 1452, "{} bytes", out.len());
    let Response::Announce { response, .. } = parse_response(&out, AddressFamily::V6).unwrap() else {
        panic!("no announce reply")
    };
    assert_eq!(response.peers.len(), 74);
}
