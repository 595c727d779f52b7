//! Announce replies: exact bytes written, and what the client reads back.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::*;
use crate::common::ResponsePeer;

fn peer(addr: &str, id: Option<&[u8; 20]>) -> ResponsePeer {
    ResponsePeer {
        addr: addr.parse().unwrap(),
        peer_id: id.map(|id| PeerId(*id)),
    }
}

const ID: &[u8; 20] = b"-LT2080-aaaaaaaaaaaa";

fn full_response() -> AnnounceResponse {
    AnnounceResponse {
        interval: 1800,
        min_interval: Some(900),
        complete: 5,
        incomplete: 3,
        peers: vec![
            peer("1.2.3.4:6881", Some(ID)),
            peer("[2001:db8::1]:51413", None),
            peer("10.0.0.1:80", None),
        ],
        external_ip: Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7))),
        warning: Some("be nice".to_string()),
        tracker_id: Some(b"tid".to_vec()),
    }
}

#[test]
fn compact_reply_bytes() {
    let mut out = Vec::new();
    write_announce(&mut out, &full_response(), true, false);
    let v6 = [
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xc8, 0xd5,
    ];
    let want = [
        &b"d8:completei5e11:external ip4:"[..],
        &[203, 0, 113, 7],
        b"10:incompletei3e8:intervali1800e12:min intervali900e5:peers12:",
        &[1, 2, 3, 4, 0x1a, 0xe1, 10, 0, 0, 1, 0, 80],
        b"6:peers618:",
        &v6,
        b"10:tracker id3:tid15:warning message7:be nicee",
    ]
    .concat();
    assert_eq!(out, want);

    // Compact replies carry no peer ids and put IPv4 before IPv6.
    let mut back = full_response();
    back.peers = vec![
        peer("1.2.3.4:6881", None),
        peer("10.0.0.1:80", None),
        peer("[2001:db8::1]:51413", None),
    ];
    assert_eq!(parse_announce_reply(&out).unwrap(), AnnounceReply::Ok(back));
}

#[test]
fn compact_reply_ipv6_external_ip_and_no_peers() {
    let resp = AnnounceResponse {
        interval: 60,
        external_ip: Some("2001:db8::7".parse().unwrap()),
        ..Default::default()
    };
    let mut out = Vec::new();
    write_announce(&mut out, &resp, true, false);
    let ip = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];
    let want = [
        &b"d8:completei0e11:external ip16:"[..],
        &ip,
        b"10:incompletei0e8:intervali60e5:peers0:e",
    ]
    .concat();
    assert_eq!(out, want);
    assert_eq!(parse_announce_reply(&out).unwrap(), AnnounceReply::Ok(resp));
}

#[test]
fn dictionary_reply_bytes() {
    let resp = AnnounceResponse {
        interval: 60,
        complete: 1,
        peers: vec![peer("1.2.3.4:6881", Some(ID)), peer("[::1]:6882", None)],
        ..Default::default()
    };
    let mut out = Vec::new();
    write_announce(&mut out, &resp, false, false);
    assert_eq!(
        out,
        b"d8:completei1e10:incompletei0e8:intervali60e5:peersl\
          d2:ip7:1.2.3.47:peer id20:-LT2080-aaaaaaaaaaaa4:porti6881ee\
          d2:ip3:::14:porti6882eeee"
    );
    assert_eq!(
        parse_announce_reply(&out).unwrap(),
        AnnounceReply::Ok(resp.clone())
    );

    out.clear();
    write_announce(&mut out, &resp, false, true);
    assert_eq!(
        out,
        b"d8:completei1e10:incompletei0e8:intervali60e5:peersl\
          d2:ip7:1.2.3.44:porti6881eed2:ip3:::14:porti6882eeee"
    );
}

#[test]
fn failure_bytes() {
    let mut out = b"x".to_vec();
    write_failure(&mut out, &HttpError::MissingParam { name: "port" }.to_string());
    assert_eq!(out, b"xd14:failure reason23:missing parameter: porte");
    assert_eq!(
        parse_announce_reply(&out[1..]).unwrap(),
        AnnounceReply::Failure("missing parameter: port".into())
    );
}

#[test]
fn reply_from_another_tracker() {
    // Unsorted keys, a DNS name (skipped), a bad peer id (dropped), a 5-byte external ip (ignored).
    let reply = b"d8:intervali120e5:peersld4:porti1e2:ip11:example.orged2:ip8:10.0.0.2\
                  7:peer id3:abc4:porti2ee\
                  d2:ip5:[::2]4:porti3eee11:external ip5:abcde8:completei2ee";
    let want = AnnounceResponse {
        interval: 120,
        complete: 2,
        peers: vec![peer("10.0.0.2:2", None), peer("[::2]:3", None)],
        ..Default::default()
    };
    assert_eq!(parse_announce_reply(reply).unwrap(), AnnounceReply::Ok(want));
}

#[test]
fn reply_errors() {
    let err = |b: &[u8]| parse_announce_reply(b).unwrap_err().to_string();
    assert_eq!(err(b"d5:peers0:e"), "invalid tracker reply: interval is missing");
    assert_eq!(
        err(b"d8:intervali-1e5:peers0:e"),
        "invalid tracker reply: interval is out of range"
    );
    assert_eq!(
        err(b"d8:interval2:60e"),
        "invalid tracker reply: interval is not an integer"
    );
    assert_eq!(
        err(b"d8:intervali1e5:peers5:abcdee"),
        "invalid tracker reply: peers has a length that is not a whole number of peers"
    );
    assert_eq!(
        err(b"d8:intervali1e6:peers66:abcdefe"),
        "invalid tracker reply: peers6 has a length that is not a whole number of peers"
    );
    assert_eq!(
        err(b"d8:intervali1e5:peersi1ee"),
        "invalid tracker reply: peers is neither a string nor a list"
    );
    assert_eq!(
        err(b"d8:intervali1e5:peersli1eee"),
        "invalid tracker reply: peers has an entry that is not a dictionary"
    );
    assert_eq!(
        err(b"d8:intervali1e5:peersld4:porti1eeee"),
        "invalid tracker reply: peers has an entry without an ip"
    );
    assert_eq!(
        err(b"d8:intervali1e5:peersld2:ip3:::14:porti65536eeee"),
        "invalid tracker reply: peers has an entry without a valid port"
    );
    assert_eq!(
        err(b"d14:failure reasoni1ee"),
        "invalid tracker reply: failure reason is not a string"
    );
    assert_eq!(err(b"i1e"), "invalid tracker reply: reply is not a dictionary");
    assert!(err(b"d8:intervali1e").starts_with("malformed tracker reply: "));
    assert!(err(b"").starts_with("malformed tracker reply: "));
}

#[test]
fn too_many_peers() {
    let mut reply = b"d8:intervali1e5:peers60006:".to_vec();
    reply.extend_from_slice(&[1; 60_006]);
    reply.push(b'e');
    assert_eq!(
        parse_announce_reply(&reply).unwrap_err().to_string(),
        "tracker reply has more than 10000 peers"
    );

    let mut reply = b"d8:intervali1e5:peers60000:".to_vec();
    reply.extend_from_slice(&[1; 60_000]);
    reply.push(b'e');
    let AnnounceReply::Ok(resp) = parse_announce_reply(&reply).unwrap() else {
        panic!("not ok")
    };
    assert_eq!(resp.peers.len(), MAX_REPLY_PEERS);
    let addr: SocketAddr = "1.1.1.1:257".parse().unwrap();
    assert!(resp.peers.iter().all(|p| p.addr == addr));
}
