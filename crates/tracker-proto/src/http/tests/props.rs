//! Property tests: round trips through writer and parser, and "never panics on any input".

use std::net::{IpAddr, SocketAddr};

use proptest::prelude::*;

use super::*;
use crate::common::{ResponsePeer, ScrapeStats};

fn event() -> impl Strategy<Value = AnnounceEvent> {
    prop_oneof![
        Just(AnnounceEvent::None),
        Just(AnnounceEvent::Started),
        Just(AnnounceEvent::Completed),
        Just(AnnounceEvent::Stopped),
    ]
}

fn token() -> impl Strategy<Value = Option<Vec<u8>>> {
    proptest::option::of(proptest::collection::vec(any::<u8>(), 1..=MAX_TOKEN_LEN))
}

fn request() -> impl Strategy<Value = AnnounceRequest> {
    let counters = any::<(u64, u64, u64)>();
    (
        any::<([u8; 20], [u8; 20])>(),
        1..=u16::MAX,
        counters,
        event(),
        any::<Option<u32>>(),
        any::<Option<IpAddr>>(),
        token(),
    )
        .prop_map(
            |((h, p), port, (uploaded, downloaded, left), event, numwant, ip, key)| AnnounceRequest {
                info_hash: InfoHash(h),
                peer_id: PeerId(p),
                port,
                transfer: Transfer {
                    uploaded,
                    downloaded,
                    left,
                },
                event,
                numwant,
                ip,
                key,
            },
        )
}

fn announce() -> impl Strategy<Value = HttpAnnounce> {
    let auth = proptest::option::of("[ -~]{1,128}");
    (
        request(),
        any::<(bool, bool)>(),
        auth,
        token(),
        any::<(Option<std::net::Ipv4Addr>, Option<std::net::Ipv6Addr>)>(),
    )
        .prop_map(
            |(request, (compact, no_peer_id), auth_key, tracker_id, (ipv4, ipv6))| HttpAnnounce {
                request,
                compact,
                no_peer_id,
                auth_key,
                tracker_id,
                ipv4,
                ipv6,
            },
        )
}

fn peer() -> impl Strategy<Value = ResponsePeer> {
    (any::<IpAddr>(), any::<u16>(), any::<Option<[u8; 20]>>()).prop_map(|(ip, port, id)| ResponsePeer {
        addr: SocketAddr::new(ip, port),
        peer_id: id.map(PeerId),
    })
}

fn response() -> impl Strategy<Value = AnnounceResponse> {
    let counts = any::<(u32, Option<u32>, u32, u32)>();
    let text = (
        proptest::option::of(".{0,40}"),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
    );
    (
        counts,
        proptest::collection::vec(peer(), 0..40),
        any::<Option<IpAddr>>(),
        text,
    )
        .prop_map(
            |((interval, min_interval, complete, incomplete), peers, external_ip, (warning, tracker_id))| {
                AnnounceResponse {
                    interval,
                    min_interval,
                    complete,
                    incomplete,
                    peers,
                    external_ip,
                    warning,
                    tracker_id,
                }
            },
        )
}

fn without_ids(mut resp: AnnounceResponse) -> AnnounceResponse {
    for p in &mut resp.peers {
        p.peer_id = None;
    }
    resp
}

/// What a client reads back from a compact reply: IPv4 first, then IPv6 (a stable sort keeps
/// each family's order), without peer ids.
fn as_compact(mut resp: AnnounceResponse) -> AnnounceResponse {
    resp.peers.sort_by_key(|p| p.addr.is_ipv6());
    without_ids(resp)
}

/// Query-shaped noise, so the parser gets past the first parameter more often than with
/// arbitrary bytes.
fn query_noise() -> impl Strategy<Value = String> {
    "((info_hash|peer_id|port|left|uploaded|event|compact|numwant|ip|ipv4|ipv6|key|passkey|x)=[%0-9a-fA-F+.:\\[\\]a-z]{0,64}&?){0,12}"
}

fn every_prefix(bytes: &[u8], mut f: impl FnMut(&[u8])) {
    for end in 0..=bytes.len() {
        f(&bytes[..end]);
    }
}

proptest! {
    #[test]
    fn query_round_trip(ann in announce()) {
        let mut out = String::new();
        write_announce_query(&mut out, &ann);
        prop_assert_eq!(parse_announce(out.as_bytes()), Ok(ann));
    }

    #[test]
    fn reply_round_trip(resp in response(), compact in any::<bool>(), no_peer_id in any::<bool>()) {
        let mut out = Vec::new();
        write_announce(&mut out, &resp, compact, no_peer_id);
        // Dictionary peers lose nothing but what `no_peer_id` asks to leave out.
        let want = match (compact, no_peer_id) {
            (true, _) => as_compact(resp),
            (false, true) => without_ids(resp),
            (false, false) => resp,
        };
        prop_assert_eq!(parse_announce_reply(&out), Ok(AnnounceReply::Ok(want)));
    }

    #[test]
    fn scrape_round_trip(files in proptest::collection::vec((any::<[u8; 20]>(), any::<(u32, u32, u32)>()), 0..30)) {
        let mut files: Vec<(InfoHash, ScrapeStats)> = files
            .into_iter()
            .map(|(h, (complete, downloaded, incomplete))| (InfoHash(h), ScrapeStats { complete, downloaded, incomplete }))
            .collect();
        let mut out = Vec::new();
        write_scrape(&mut out, &mut files);
        let parsed = parse_scrape_reply(&out).unwrap();
        let mut hashes: Vec<InfoHash> = files.iter().map(|f| f.0).collect();
        hashes.dedup();
        prop_assert_eq!(parsed.iter().map(|f| f.0).collect::<Vec<_>>(), hashes);
        for (hash, stats) in parsed {
            prop_assert!(files.contains(&(hash, stats)));
        }
    }

    #[test]
    fn parsers_never_panic_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse_announce(&bytes);
        let _ = parse_scrape(&bytes, 8);
        let _ = parse_announce_reply(&bytes);
        let _ = parse_scrape_reply(&bytes);
    }

    #[test]
    fn parsers_never_panic_on_query_noise(q in query_noise()) {
        let _ = parse_announce(q.as_bytes());
        let _ = parse_scrape(q.as_bytes(), 8);
    }

    #[test]
    fn every_truncation_of_a_valid_query(ann in announce()) {
        let mut out = String::new();
        write_announce_query(&mut out, &ann);
        every_prefix(out.as_bytes(), |q| {
            let _ = parse_announce(q);
            let _ = parse_scrape(q, 4);
        });
    }

    #[test]
    fn every_truncation_of_a_valid_reply(resp in response(), compact in any::<bool>()) {
        let mut out = Vec::new();
        write_announce(&mut out, &resp, compact, false);
        every_prefix(&out, |b| {
            let _ = parse_announce_reply(b);
        });
    }
}

#[test]
fn every_truncation_of_the_libtorrent_query() {
    let q = "info_hash=%124Vx%9a%bc%de%f1%23Eg%89%ab%cd%ef%124Vx%9a&peer_id=-LT2080-%8a%fd%11%a9k%ad%b5%a3%16%40%e5%0c\
             &port=6881&uploaded=0&downloaded=0&left=1234&corrupt=0&key=1A2B3C4D&event=started&numwant=200\
             &compact=1&no_peer_id=1&supportcrypto=1&redundant=0";
    let mut valid = Vec::new();
    every_prefix(q.as_bytes(), |p| {
        let _ = parse_scrape(p, 2);
        valid.push(parse_announce(p).is_ok());
    });
    // Valid from the first digit of `left` on, except where the cut leaves a value that
    // must not be empty or partial (`numwant=`, `event=sta`, `compact=`).
    let first = q.find("left=1").unwrap() + "left=1".len();
    assert_eq!(valid.iter().position(|&v| v), Some(first));
    assert_eq!(valid.last(), Some(&true));
    assert!(!valid[q.find("numwant=").unwrap() + "numwant=".len()]);
}
