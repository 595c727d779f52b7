//! Announces that try to hurt others or cheat the accounting.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use ids::{InfoHash, PeerId};
use tracker_proto::common::{AnnounceEvent, AnnounceRequest, AnnounceResponse, Transfer};

use super::tests::{LOCAL, announce, open};
use super::{AnnounceInput, CoreConfig, MAX_CREDIT_RATE, Tracker};
use crate::access::{Refusal, UserId};
use crate::accounting::{Accumulator, Sums};
use crate::swarm::SwarmConfig;
use crate::test_support::{Site, request};

const VICTIM: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 9));

/// An announce from `source` that names `other` as its other-family address.
fn announce_naming(t: &Tracker, req: &AnnounceRequest, source: IpAddr, other: IpAddr) {
    let mut resp = AnnounceResponse::default();
    let input = AnnounceInput {
        request: req,
        passkey: None,
        source,
        other_family: Some(other),
    };
    t.announce(&input, 0, &mut resp).unwrap();
}

/// The addresses and peer ids a fresh leecher is given.
fn listed(t: &Tracker) -> Vec<(IpAddr, PeerId)> {
    let mut probe = request(200, 10);
    probe.numwant = Some(200);
    let r = announce(t, &probe, IpAddr::V4(Ipv4Addr::new(10, 9, 9, 9)), None).unwrap();
    let mut v: Vec<_> = r
        .peers
        .iter()
        .map(|p| (p.addr.ip(), p.peer_id.unwrap()))
        .collect();
    v.sort_by_key(|(ip, _)| *ip);
    v
}

#[test]
fn ipv4_and_ipv6_params_are_ignored_unless_the_operator_allows_them() {
    let t = open(CoreConfig::default());
    // From 127.0.0.1 naming an IPv6 address, and from IPv6 naming 1.2.3.4.
    announce_naming(&t, &request(1, 0), LOCAL, VICTIM);
    let third_party = IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4));
    announce_naming(&t, &request(2, 0), "2001:db8::1".parse().unwrap(), third_party);
    let ips: Vec<IpAddr> = listed(&t).into_iter().map(|(ip, _)| ip).collect();
    assert!(!ips.contains(&VICTIM) && !ips.contains(&third_party), "{ips:?}");
    assert_eq!(t.counters().other_family_ignored.load(Ordering::Relaxed), 2);
}

#[test]
fn a_named_address_never_changes_or_removes_another_peers_record() {
    let t = open(CoreConfig {
        honour_other_family: true,
        honour_ip_param: true,
        ..CoreConfig::default()
    });
    // The victim announces from its own IPv6 address.
    let victim = request(9, 0);
    announce(&t, &victim, VICTIM, None).unwrap();
    // Another peer id names the victim's address: a regular announce, then a stop.
    let mut liar = AnnounceRequest {
        port: victim.port,
        ..request(66, 0)
    };
    announce_naming(&t, &liar, LOCAL, VICTIM);
    liar.event = AnnounceEvent::Stopped;
    announce_naming(&t, &liar, LOCAL, VICTIM);
    // `ip=` is no better.
    let mut with_ip = AnnounceRequest {
        ip: Some(VICTIM),
        ..liar.clone()
    };
    assert_eq!(announce(&t, &with_ip, LOCAL, None), Err(Refusal::AddressTaken));
    with_ip.event = AnnounceEvent::Started;
    assert_eq!(announce(&t, &with_ip, LOCAL, None), Err(Refusal::AddressTaken));
    assert!(
        listed(&t).contains(&(VICTIM, victim.peer_id)),
        "the victim's record was changed or removed"
    );
    assert_eq!(t.counters().limited.load(Ordering::Relaxed), 2);
}

#[test]
fn a_dual_stack_owner_still_adds_and_removes_its_second_address() {
    let t = open(CoreConfig {
        honour_other_family: true,
        ..CoreConfig::default()
    });
    // libtorrent on a dual-stack host: the IPv4 announce names its IPv6 address.
    let mut owner = request(5, 0);
    announce_naming(&t, &owner, LOCAL, VICTIM);
    assert_eq!(listed(&t), vec![(LOCAL, owner.peer_id), (VICTIM, owner.peer_id)]);
    owner.event = AnnounceEvent::Stopped;
    announce_naming(&t, &owner, LOCAL, VICTIM);
    assert_eq!(listed(&t), vec![], "both of the owner's records are gone");
}

/// A private tracker (the test site: passkeys alice and bob) with min interval 900 s.
fn private() -> (Tracker, Arc<Accumulator>) {
    let acc = Arc::new(Accumulator::new(100));
    let t = Tracker::new(CoreConfig::default(), Arc::new(Site), Some(acc.clone()));
    (t, acc)
}

/// Alice's announce at `now` with these counters.
fn alice_at(t: &Tracker, now: u32, event: AnnounceEvent, uploaded: u64) {
    let mut req = request(1, 100);
    req.event = event;
    req.transfer = Transfer {
        uploaded,
        downloaded: 0,
        left: 100,
    };
    let input = AnnounceInput {
        request: &req,
        passkey: Some("alice"),
        source: LOCAL,
        other_family: None,
    };
    t.announce(&input, now, &mut AnnounceResponse::default()).unwrap();
}

fn alice_sums(acc: &Accumulator) -> Sums {
    let batch = acc.drain();
    batch
        .iter()
        .find(|((u, h), _)| *u == UserId(1) && *h == InfoHash([7; 20]))
        .map_or(Sums::default(), |(_, s)| *s)
}

#[test]
fn credit_is_capped_by_elapsed_time_times_the_max_rate() {
    let (t, acc) = private();
    alice_at(&t, 0, AnnounceEvent::Started, 0);
    // 100 seconds later, a claim of 4 PB: at most 100 s × 10 Gbit/s is credited (the old
    // rule let up to 1 TiB through per announce, however soon).
    alice_at(&t, 100, AnnounceEvent::Completed, 4 << 50);
    assert_eq!(alice_sums(&acc).uploaded, 100 * MAX_CREDIT_RATE);
    assert_eq!(t.counters().capped.load(Ordering::Relaxed), 1);
    // A plausible amount passes untouched.
    alice_at(&t, 2000, AnnounceEvent::None, (4 << 50) + 5_000_000);
    assert_eq!(alice_sums(&acc).uploaded, 5_000_000);
}

#[test]
fn announces_inside_min_interval_credit_nothing_until_the_next_one() {
    let (t, acc) = private();
    alice_at(&t, 0, AnnounceEvent::Started, 0);
    // Announcing every second gains nothing now...
    for s in 1..=10 {
        alice_at(&t, s, AnnounceEvent::None, u64::from(s) * 1_000_000);
    }
    let early = alice_sums(&acc);
    assert_eq!((early.uploaded, early.announces), (0, 11));
    assert_eq!(t.counters().early.load(Ordering::Relaxed), 10);
    // ...and loses nothing: the next announce past min interval credits it all.
    alice_at(&t, 900, AnnounceEvent::None, 12_000_000);
    assert_eq!(alice_sums(&acc).uploaded, 12_000_000);
    // Events always count.
    alice_at(&t, 901, AnnounceEvent::Stopped, 13_000_000);
    assert_eq!(alice_sums(&acc).uploaded, 1_000_000);
}

#[test]
fn open_mode_caps_swarms_and_peers_per_address_with_a_failure_reason() {
    let t = open(CoreConfig {
        swarms: SwarmConfig {
            max_torrents: 2,
            max_peers_per_ip: 3,
            ..SwarmConfig::default()
        },
        ..CoreConfig::default()
    });
    let on = |torrent: u8, peer: u8| AnnounceRequest {
        info_hash: InfoHash([torrent; 20]),
        ..request(peer, 1)
    };
    announce(&t, &on(1, 1), LOCAL, None).unwrap();
    announce(&t, &on(2, 1), LOCAL, None).unwrap();
    let third = announce(&t, &on(3, 1), LOCAL, None).unwrap_err();
    assert_eq!(third, Refusal::TooManyTorrents);
    assert!(third.to_string().contains("too many torrents") || third.to_string().contains("tracker full"));
    // Three records from 127.0.0.1 in all; a fourth port is refused, an update is not.
    announce(&t, &on(1, 2), LOCAL, None).unwrap();
    assert_eq!(
        announce(&t, &on(1, 3), LOCAL, None),
        Err(Refusal::TooManyPeersFromAddress)
    );
    announce(&t, &on(1, 2), LOCAL, None).unwrap();
    // IPv6 counts by /64: two addresses of one /64 share a budget.
    let a: IpAddr = "2001:db8:0:1::1".parse().unwrap();
    let b: IpAddr = "2001:db8:0:1::2".parse().unwrap();
    for p in 10..13 {
        announce(&t, &on(1, p), if p % 2 == 0 { a } else { b }, None).unwrap();
    }
    assert_eq!(
        announce(&t, &on(1, 13), a, None),
        Err(Refusal::TooManyPeersFromAddress)
    );
    // A stop frees the slot, and expiry frees swarms.
    let mut stop = on(1, 2);
    stop.event = AnnounceEvent::Stopped;
    announce(&t, &stop, LOCAL, None).unwrap();
    announce(&t, &on(1, 3), LOCAL, None).unwrap();
    assert_eq!(t.counters().limited.load(Ordering::Relaxed), 3);
    t.expire(u32::MAX);
    announce(&t, &on(3, 1), LOCAL, None).unwrap();
}
