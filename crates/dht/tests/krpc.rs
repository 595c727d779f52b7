//! KRPC messages: BEP 5's examples, round trips, and hostile packets.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;

use dht::krpc::{MAX_NODES, MAX_PACKET, code};
use dht::{Body, CompactNode, KrpcError, Message, Method, Query, Response, Want};
use ids::{InfoHash, NodeId};
use proptest::prelude::*;

fn id(b: u8) -> NodeId {
    NodeId([b; 20])
}

#[test]
fn bep5_examples_decode() {
    let ping = b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
    let m = Message::decode(ping).unwrap();
    assert_eq!(m.tid, b"aa");
    let Body::Query(q) = &m.body else { panic!() };
    assert_eq!(q.method, Method::Ping);
    assert_eq!(q.id.0, *b"abcdefghij0123456789");
    assert_eq!(m.encode(), ping, "our encoding is BEP 5's, byte for byte");

    let announce = b"d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe";
    let m = Message::decode(announce).unwrap();
    let Body::Query(Query {
        method:
            Method::AnnouncePeer {
                port,
                implied_port,
                token,
                info_hash,
            },
        ..
    }) = &m.body
    else {
        panic!()
    };
    assert_eq!(
        (*port, *implied_port, token.as_slice()),
        (6881, true, &b"aoeusnth"[..])
    );
    assert_eq!(info_hash.0, *b"mnopqrstuvwxyz123456");
    assert_eq!(m.encode(), announce);

    let error = b"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee";
    let m = Message::decode(error).unwrap();
    assert_eq!(
        m.body,
        Body::Error(code::GENERIC, "A Generic Error Ocurred".into())
    );
    assert_eq!(m.encode(), error);

    let peers = b"d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re";
    let m = Message::decode(peers).unwrap();
    let Body::Response(r) = &m.body else { panic!() };
    assert_eq!(r.values.len(), 2);
    assert_eq!(r.token.as_deref(), Some(&b"aoeusnth"[..]));
    assert_eq!(m.encode(), peers);
}

#[test]
fn bad_packets_say_how_to_answer() {
    // Unknown method: 204 with its transaction id.
    let e = Message::decode(b"d1:ad2:id20:abcdefghij0123456789e1:q4:vote1:t2:xy1:y1:qe").unwrap_err();
    assert_eq!(e.reply(), Some((&b"xy"[..], code::METHOD_UNKNOWN)));
    // Missing arguments: 203.
    let e = Message::decode(b"d1:ad2:id20:abcdefghij0123456789e1:q9:find_node1:t2:xy1:y1:qe").unwrap_err();
    assert_eq!(e.reply(), Some((&b"xy"[..], code::PROTOCOL)));
    let e = Message::decode(b"d1:ad2:id3:abce1:q4:ping1:t1:z1:y1:qe").unwrap_err();
    assert_eq!(e.reply(), Some((&b"z"[..], code::PROTOCOL)));
    // No transaction id, not bencode, too large: nothing to answer.
    for p in [
        &b"d1:y1:qe"[..],
        b"garbage",
        b"i1e",
        b"d1:t40:0123456789012345678901234567890123456789e",
    ] {
        assert_eq!(Message::decode(p).unwrap_err().reply(), None, "{p:?}");
    }
    let big = vec![b'x'; MAX_PACKET + 1];
    assert_eq!(
        Message::decode(&big).unwrap_err(),
        KrpcError::TooLarge(MAX_PACKET + 1)
    );
    // A partial node entry is a protocol error; too many nodes are cut, not refused.
    let e = Message::decode(b"d1:rd2:id20:abcdefghij01234567895:nodes3:abce1:t1:a1:y1:re").unwrap_err();
    assert!(matches!(e, KrpcError::Protocol { .. }));
    let mut many = Response {
        id: id(1),
        ..Response::default()
    };
    let n = CompactNode {
        id: id(2),
        addr: "10.0.0.1:1".parse().unwrap(),
    };
    many.nodes = vec![n; MAX_NODES + 10];
    let m = Message {
        tid: b"a".to_vec(),
        body: Body::Response(many),
        version: None,
        ip: None,
        read_only: false,
    };
    let Body::Response(back) = Message::decode(&m.encode()).unwrap().body else {
        panic!()
    };
    assert_eq!(back.nodes.len(), MAX_NODES);
}

fn addr() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>()).prop_map(|(ip, p)| SocketAddr::from((ip, p))),
        (any::<[u8; 16]>(), any::<u16>()).prop_map(|(ip, p)| SocketAddr::from((ip, p))),
    ]
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::Ping),
        any::<[u8; 20]>().prop_map(|t| Method::FindNode { target: NodeId(t) }),
        any::<[u8; 20]>().prop_map(|t| Method::GetPeers {
            info_hash: InfoHash(t)
        }),
        any::<[u8; 20]>().prop_map(|t| Method::SampleInfohashes { target: NodeId(t) }),
        (
            any::<[u8; 20]>(),
            any::<u16>(),
            any::<bool>(),
            proptest::collection::vec(any::<u8>(), 0..20)
        )
            .prop_map(|(h, port, implied_port, token)| Method::AnnouncePeer {
                info_hash: InfoHash(h),
                port,
                implied_port,
                token
            }),
    ]
}

proptest! {
    #[test]
    fn queries_round_trip(tid in proptest::collection::vec(any::<u8>(), 0..8), sender in any::<[u8; 20]>(),
                          method in method(), v4 in any::<bool>(), v6 in any::<bool>(), ro in any::<bool>()) {
        let m = Message {
            tid,
            body: Body::Query(Query { id: NodeId(sender), method, want: Want { v4, v6 } }),
            version: Some(b"NX01".to_vec()),
            ip: None,
            read_only: ro,
        };
        prop_assert_eq!(Message::decode(&m.encode()).unwrap(), m);
    }

    #[test]
    fn responses_round_trip(responder in any::<[u8; 20]>(), ip in proptest::option::of(addr()),
                            values in proptest::collection::vec(addr(), 0..20),
                            token in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20)),
                            node_ids in proptest::collection::vec(any::<[u8; 20]>(), 0..8)) {
        let nodes = node_ids.iter().map(|i| CompactNode { id: NodeId(*i), addr: "10.1.2.3:4".parse().unwrap() }).collect();
        let nodes6 = node_ids.iter().map(|i| CompactNode { id: NodeId(*i), addr: "[::1]:5".parse().unwrap() }).collect();
        let r = Response { id: NodeId(responder), nodes, nodes6, values, token, samples: vec![InfoHash([7; 20])],
                           interval: Some(60), num: Some(3) };
        let m = Message { tid: b"tt".to_vec(), body: Body::Response(r), version: None, ip, read_only: false };
        prop_assert_eq!(Message::decode(&m.encode()).unwrap(), m);
    }

    #[test]
    fn any_bytes_decode_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = Message::decode(&bytes);
    }
}
