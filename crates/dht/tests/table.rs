//! The routing table: buckets, splitting, one node per IP, replacements, status, closest.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use dht::table::{FRESH, K};
use dht::{Heard, Inserted, Status, Table};
use ids::NodeId;

fn addr(i: u32) -> SocketAddr {
    SocketAddr::from(([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 6881))
}

/// An id sharing exactly `prefix` leading bits with `own`, made distinct by `n`.
fn id_at(own: NodeId, prefix: u32, n: u8) -> NodeId {
    let mut rest = [n; 20];
    rest[19] = n;
    own.in_bucket(prefix, &rest)
}

#[test]
fn the_bucket_of_our_own_id_splits_and_far_ones_fill_up() {
    let t0 = Instant::now();
    let own = NodeId([0x55; 20]);
    let mut t = Table::new(own, t0);
    assert_eq!(t.heard(own, addr(0), Heard::Replied, t0), Inserted::Refused);
    // Far nodes (first bit differs): K fit, the rest go to the replacement cache once the
    // bucket stops being the splittable one.
    for n in 0..K as u8 {
        assert_eq!(
            t.heard(id_at(own, 0, n), addr(u32::from(n) + 1), Heard::Replied, t0),
            Inserted::Yes
        );
    }
    // Near nodes make the table split.
    for n in 0..K as u8 {
        assert_eq!(
            t.heard(id_at(own, 5, n), addr(100 + u32::from(n)), Heard::Replied, t0),
            Inserted::Yes
        );
    }
    assert!(t.buckets() > 1, "split into {} buckets", t.buckets());
    assert_eq!(t.len(), 2 * K);
    let far = t.heard(id_at(own, 0, 200), addr(999), Heard::Replied, t0);
    assert_eq!(
        far,
        Inserted::Cached { ping: vec![] },
        "all good: nothing to ping"
    );
    // An hour later every node is questionable: the caller is told which to ping.
    let later = t0 + Duration::from_secs(3600);
    let Inserted::Cached { ping } = t.heard(id_at(own, 0, 201), addr(998), Heard::Replied, later) else {
        panic!()
    };
    assert_eq!(ping.len(), K);
    // Two failures make a node bad; the freshest replacement takes its place.
    let victim = id_at(own, 0, 0);
    t.failed(&victim, later);
    assert_eq!(t.get(&victim).unwrap().status(later), Status::Questionable);
    t.failed(&victim, later);
    assert!(t.get(&victim).is_none(), "replaced");
    assert!(t.get(&id_at(own, 0, 201)).is_some());
}

#[test]
fn one_node_per_ip_and_addresses_do_not_move() {
    let t0 = Instant::now();
    let own = NodeId([0; 20]);
    let mut t = Table::new(own, t0);
    let a = id_at(own, 0, 1);
    assert_eq!(t.heard(a, addr(1), Heard::Replied, t0), Inserted::Yes);
    assert_eq!(
        t.heard(id_at(own, 0, 2), addr(1), Heard::Replied, t0),
        Inserted::Refused,
        "same IP, same bucket"
    );
    assert_eq!(
        t.heard(a, addr(2), Heard::Replied, t0),
        Inserted::Refused,
        "known id at another address"
    );
    assert_eq!(t.get(&a).unwrap().addr, addr(1));
}

#[test]
fn status_follows_bep5() {
    let t0 = Instant::now();
    let own = NodeId([0; 20]);
    let mut t = Table::new(own, t0);
    let a = id_at(own, 0, 1);
    t.heard(a, addr(1), Heard::Named, t0);
    assert_eq!(
        t.get(&a).unwrap().status(t0),
        Status::Questionable,
        "never answered"
    );
    t.heard(a, addr(1), Heard::Replied, t0);
    assert_eq!(t.get(&a).unwrap().status(t0), Status::Good);
    let later = t0 + FRESH + Duration::from_secs(1);
    assert_eq!(t.get(&a).unwrap().status(later), Status::Questionable);
    t.heard(a, addr(1), Heard::Queried, later);
    assert_eq!(
        t.get(&a).unwrap().status(later),
        Status::Good,
        "answered once, queried us lately"
    );
}

#[test]
fn closest_are_by_xor_and_refresh_names_idle_buckets() {
    let t0 = Instant::now();
    let own = NodeId([0; 20]);
    let mut t = Table::new(own, t0);
    for i in 0..60u32 {
        let mut b = [0u8; 20];
        b[..4].copy_from_slice(&(i.wrapping_mul(2_654_435_761)).to_be_bytes());
        t.heard(NodeId(b), addr(i + 1), Heard::Replied, t0);
    }
    let target = NodeId([0x80; 20]);
    let got = t.closest(&target, 8, t0);
    let mut all: Vec<NodeId> = t.nodes().map(|n| n.id).collect();
    all.sort_by_key(|n| n.distance(&target));
    assert_eq!(got.iter().map(|n| n.id).collect::<Vec<_>>(), all[..8]);
    assert!(t.refresh(t0, || [9; 20]).is_empty());
    let targets = t.refresh(t0 + FRESH, || [9; 20]);
    assert_eq!(targets.len(), t.buckets());
    for (i, id) in targets.iter().enumerate() {
        assert!(own.common_prefix(id) as usize >= i);
    }
}
