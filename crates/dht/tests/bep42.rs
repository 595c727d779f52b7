//! BEP 42 ids, the external-address vote, the saved state, and the table's preference for
//! ids that fit their addresses.
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use dht::bep42::{ExternalIp, crc32c, id_for, is_exempt, is_valid};
use dht::state::{MAX_SAVED, SavedState, StateError};
use dht::table::K;
use dht::{Heard, Inserted, Table};
use ids::NodeId;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn id(hex: &str) -> NodeId {
    NodeId(ids::hex::decode_vec(hex).unwrap().try_into().unwrap())
}

#[test]
fn crc32c_matches_the_castagnoli_check_value() {
    assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    assert_eq!(crc32c(b""), 0);
}

#[test]
fn the_bep_examples_are_valid_for_their_addresses_and_no_other() {
    // BEP 42's table: IP, node id (only the first 21 bits and the last byte are bound).
    let examples = [
        ("124.31.75.21", "5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401"),
        ("21.75.31.124", "5a3ce9c14e7a08645677bbd1cfe7d8f956d53256"),
        ("65.23.51.170", "a5d43220bc8f112a3d426c84764f8c2a1150e616"),
        ("84.124.73.14", "1b0321dd1bb1fe518101ceef99462b947a01ff41"),
        ("43.213.53.83", "e56f6cbf5b7c4be0237986d5243b87aa6d51305a"),
    ];
    for (addr, hex) in examples {
        assert!(is_valid(&id(hex), ip(addr)), "{addr}");
        assert!(
            !is_valid(&id(hex), ip("8.8.8.8")),
            "{addr} against another address"
        );
    }
    // Changing `r` (the last byte) changes the prefix.
    let mut wrong = id(examples[0].1);
    wrong.0[19] = 2;
    assert!(!is_valid(&wrong, ip(examples[0].0)));
}

#[test]
fn generated_ids_are_valid_for_any_random_bytes() {
    for seed in 0..64u8 {
        let random = [seed.wrapping_mul(37); 20];
        for addr in ["124.31.75.21", "2001:db8:1:2::7", "203.0.113.9"] {
            let made = id_for(ip(addr), random);
            assert!(is_valid(&made, ip(addr)), "{addr} {seed}");
            assert_eq!(made.0[3..], random[3..], "the rest stays random");
        }
    }
}

#[test]
fn local_addresses_are_exempt() {
    for a in [
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.9",
        "172.16.4.4",
        "169.254.1.1",
        "::1",
        "fd00::1",
        "fe80::1",
    ] {
        assert!(is_exempt(ip(a)), "{a}");
        assert!(is_valid(&NodeId([0xab; 20]), ip(a)), "{a}");
    }
    for a in ["8.8.8.8", "2001:db8::1", "172.32.0.1"] {
        assert!(!is_exempt(ip(a)), "{a}");
    }
}

#[test]
fn the_external_address_is_what_most_voters_say() {
    let mut e = ExternalIp::default();
    let us = ip("203.0.113.9");
    for i in 1..ExternalIp::VOTES as u8 {
        assert_eq!(e.vote(IpAddr::from([1, 1, 1, i]), us), None, "too few votes");
    }
    // The same voter again does not count twice.
    assert_eq!(e.vote(ip("1.1.1.1"), us), None);
    assert_eq!(
        e.vote(ip("1.1.1.99"), ip("198.51.100.1")),
        Some(us),
        "four of five"
    );
    assert_eq!(e.get(), Some(us));
    assert_eq!(e.vote(ip("1.1.1.100"), us), None, "decided already");
    // No majority, no decision.
    let mut split = ExternalIp::default();
    for (i, seen) in [
        "198.51.100.1",
        "198.51.100.2",
        "198.51.100.3",
        "198.51.100.1",
        "198.51.100.2",
    ]
    .into_iter()
    .enumerate()
    {
        assert_eq!(split.vote(IpAddr::from([2, 2, 2, i as u8]), ip(seen)), None);
    }
    assert_eq!(split.get(), None);
}

#[test]
fn the_state_round_trips_and_bad_entries_are_skipped() {
    let s = SavedState {
        id: NodeId([7; 20]),
        nodes: vec![
            "1.2.3.4:6881".parse().unwrap(),
            "[2001:db8::1]:6882".parse().unwrap(),
        ],
    };
    assert_eq!(SavedState::decode(&s.encode()).unwrap(), s);
    // Odd lengths, a zero port, too many nodes.
    let mut bytes = b"d7:node-id20:".to_vec();
    bytes.extend_from_slice(&[1; 20]);
    bytes.extend_from_slice(b"5:nodes13:\x01\x02\x03\x04\x00\x00\x05\x06\x07\x08\x1a\xe1\xff");
    bytes.push(b'e');
    let read = SavedState::decode(&bytes).unwrap();
    assert_eq!(read.nodes, vec!["5.6.7.8:6881".parse::<SocketAddr>().unwrap()]);
    let many = SavedState {
        id: NodeId([1; 20]),
        nodes: (0..MAX_SAVED as u32 + 50)
            .map(|i| SocketAddr::from((i.to_be_bytes(), 1)))
            .collect(),
    };
    assert_eq!(SavedState::decode(&many.encode()).unwrap().nodes.len(), MAX_SAVED);
    assert_eq!(SavedState::decode(b"le"), Err(StateError::NotADict));
    assert_eq!(SavedState::decode(b"junk"), Err(StateError::NotADict));
    assert_eq!(SavedState::decode(b"d7:node-id3:abce"), Err(StateError::NodeId));
}

#[test]
fn a_full_bucket_prefers_nodes_whose_ids_fit_their_addresses() {
    let t0 = Instant::now();
    // Our id's first bit is 0; every node below starts with 1, so all go to one far bucket.
    let own = NodeId([0; 20]);
    let mut t = Table::new(own, t0);
    let far = |i: u8| {
        let mut b = [i; 20];
        b[0] = 0x80 | i;
        NodeId(b)
    };
    // Fill the bucket beyond splitting: K nodes on public addresses with random ids.
    let mut filled = 0;
    for i in 0..=K as u8 + 1 {
        let a = SocketAddr::from(([198, 18, 0, i], 6881));
        if t.heard(far(i), a, Heard::Replied, t0) == Inserted::Yes {
            filled += 1;
        }
    }
    assert!(filled >= K);
    let before = t.len();
    // A node with an id that fits its address, but with the first bit of ours flipped so it
    // lands in the same far bucket: it takes an unverified node's place.
    let addr = ip("203.0.113.9");
    let mut random = [0x42; 20];
    let good = loop {
        let made = id_for(addr, random);
        if made.0[0] & 0x80 != 0 {
            break made;
        }
        random[19] = random[19].wrapping_add(1);
    };
    let from = SocketAddr::new(addr, 6881);
    // Heard of only (named by another node): no replacement.
    assert!(matches!(
        t.heard(good, from, Heard::Named, t0),
        Inserted::Cached { .. }
    ));
    assert_eq!(t.heard(good, from, Heard::Replied, t0), Inserted::Yes);
    assert_eq!(t.len(), before);
    assert!(t.get(&good).is_some());
}

#[test]
fn recentring_keeps_the_nodes() {
    let t0 = Instant::now();
    let mut t = Table::new(NodeId([0; 20]), t0);
    for i in 1..30u8 {
        t.heard(
            NodeId([i; 20]),
            SocketAddr::from(([127, 0, 0, 1], 7000 + u16::from(i))),
            Heard::Replied,
            t0,
        );
    }
    let n = t.len();
    t.recentre(NodeId([0xff; 20]), t0);
    assert_eq!(t.own_id(), NodeId([0xff; 20]));
    assert!(t.len() >= n.min(K), "{} of {n}", t.len());
    assert!(t.nodes().all(|x| x.last_reply == Some(t0)));
}
