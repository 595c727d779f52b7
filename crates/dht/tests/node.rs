//! A node's answers: BEP 5's four queries, BEP 51, errors, and no amplification.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Instant;

use dht::krpc::code;
use dht::{Body, DhtNode, Heard, Incoming, Message, Method, PeerStore, StoreLimits, Tokens};
use ids::{InfoHash, NodeId};

fn node(now: Instant) -> DhtNode {
    DhtNode::new(
        NodeId([0x11; 20]),
        Tokens::new(now, [5; 32]),
        PeerStore::new(StoreLimits::default()),
        now,
    )
}

fn ask(n: &mut DhtNode, asker: &DhtNode, method: Method, from: SocketAddr, now: Instant) -> (usize, Message) {
    let q = asker.query(b"tq".to_vec(), method);
    match n.incoming(&q, from, now, 0) {
        Incoming::Answer(a) => (a.len(), Message::decode(&a).unwrap()),
        other => panic!("no answer: {other:?}"),
    }
}

#[test]
fn get_peers_then_announce_with_the_token() {
    let now = Instant::now();
    let mut n = node(now);
    for i in 1..=30u8 {
        let from = SocketAddr::from(([10, 0, 1, i], 6881));
        n.table4.heard(NodeId([i; 20]), from, Heard::Replied, now);
    }
    let asker = DhtNode::new(
        NodeId([0x22; 20]),
        Tokens::new(now, [6; 32]),
        PeerStore::default(),
        now,
    );
    let me: SocketAddr = "192.0.2.7:4000".parse().unwrap();
    let ih = InfoHash([0x33; 20]);

    let (_, m) = ask(&mut n, &asker, Method::Ping, me, now);
    assert!(matches!(m.body, Body::Response(ref r) if r.id == n.id));
    assert_eq!(m.ip, Some(me), "BEP 42: the answer says where it saw us");

    let (_, m) = ask(&mut n, &asker, Method::GetPeers { info_hash: ih }, me, now);
    let Body::Response(r) = m.body else { panic!() };
    assert!(
        r.values.is_empty() && !r.nodes.is_empty(),
        "no peers yet: the closest nodes"
    );
    let token = r.token.unwrap();

    let (_, m) = ask(
        &mut n,
        &asker,
        Method::AnnouncePeer {
            info_hash: ih,
            port: 0,
            implied_port: true,
            token: token.clone(),
        },
        me,
        now,
    );
    assert!(matches!(m.body, Body::Response(_)), "{m:?}");
    let (_, m) = ask(&mut n, &asker, Method::GetPeers { info_hash: ih }, me, now);
    let Body::Response(r) = m.body else { panic!() };
    assert_eq!(r.values, vec![me], "implied_port: the packet's source port");

    // A token given to another address does not work.
    let other: SocketAddr = "192.0.2.8:4000".parse().unwrap();
    let (_, m) = ask(
        &mut n,
        &asker,
        Method::AnnouncePeer {
            info_hash: ih,
            port: 5,
            implied_port: false,
            token,
        },
        other,
        now,
    );
    assert!(matches!(m.body, Body::Error(code::PROTOCOL, _)), "{m:?}");

    let (_, m) = ask(
        &mut n,
        &asker,
        Method::SampleInfohashes {
            target: NodeId([0; 20]),
        },
        me,
        now,
    );
    let Body::Response(r) = m.body else { panic!() };
    assert_eq!((r.samples, r.num), (vec![ih], Some(1)));
}

#[test]
fn errors_and_read_only() {
    let now = Instant::now();
    let mut n = node(now);
    let from: SocketAddr = "192.0.2.9:1".parse().unwrap();
    let Incoming::Answer(a) = n.incoming(
        b"d1:ad2:id20:abcdefghij0123456789e1:q4:vote1:t2:xy1:y1:qe",
        from,
        now,
        0,
    ) else {
        panic!()
    };
    let m = Message::decode(&a).unwrap();
    assert_eq!(
        (
            m.tid.as_slice(),
            matches!(m.body, Body::Error(code::METHOD_UNKNOWN, _))
        ),
        (&b"xy"[..], true)
    );
    assert_eq!(n.incoming(b"junk", from, now, 0), Incoming::Nothing);
    n.read_only = true;
    let q = node(now).query(b"a".to_vec(), Method::Ping);
    assert_eq!(
        n.incoming(&q, from, now, 0),
        Incoming::Nothing,
        "BEP 43: a read-only node does not answer"
    );
}

#[test]
fn answers_to_unverified_sources_stay_small() {
    let now = Instant::now();
    let mut n = node(now);
    let ih = InfoHash([0x44; 20]);
    for i in 0..200u16 {
        n.store.announce(
            ih,
            SocketAddr::from(([10, 9, (i >> 8) as u8, i as u8], 6881)),
            now,
        );
    }
    let asker = node(now);
    let spoofed: SocketAddr = "198.51.100.1:53".parse().unwrap();
    let q = asker.query(b"aa".to_vec(), Method::GetPeers { info_hash: ih });
    let Incoming::Answer(a) = n.incoming(&q, spoofed, now, 0) else {
        panic!()
    };
    assert!(
        a.len() <= 4 * q.len(),
        "{} bytes answer a {}-byte query",
        a.len(),
        q.len()
    );
    let Body::Response(r) = Message::decode(&a).unwrap().body else {
        panic!()
    };
    assert!(!r.values.is_empty(), "still some peers");
    // A good node of our table gets the full answer.
    let id = NodeId([0x77; 20]);
    n.table4.heard(id, spoofed, Heard::Replied, now);
    let Incoming::Answer(full) = n.incoming(&q, spoofed, now, 0) else {
        panic!()
    };
    assert!(full.len() > a.len());
}
