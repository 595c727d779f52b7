use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use ids::InfoHash;
use tracker_proto::common::{AnnounceEvent, AnnounceRequest, AnnounceResponse, Transfer};

use super::{AnnounceInput, CoreConfig, Tracker};
use crate::access::{ListMode, PublicPolicy, Refusal, UserId};
use crate::accounting::Accumulator;
use crate::test_support::{Site, request};

pub(super) fn open(config: CoreConfig) -> Tracker {
    Tracker::new(
        config,
        Arc::new(PublicPolicy::new(ListMode::Open, None, vec![]).unwrap()),
        None,
    )
}

pub(super) fn announce(
    t: &Tracker,
    req: &AnnounceRequest,
    source: IpAddr,
    passkey: Option<&str>,
) -> Result<AnnounceResponse, Refusal> {
    let mut resp = AnnounceResponse::default();
    t.announce(
        &AnnounceInput {
            request: req,
            passkey,
            source,
            other_family: None,
        },
        0,
        &mut resp,
    )
    .map(|()| resp)
}

pub(super) const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

#[test]
fn peers_find_each_other_with_counts_interval_and_external_ip() {
    let t = open(CoreConfig::default());
    let seeder = request(1, 0);
    let r = announce(&t, &seeder, LOCAL, None).unwrap();
    assert!(r.peers.is_empty());
    assert_eq!((r.complete, r.incomplete), (1, 0));
    let leecher = request(2, 100);
    let mapped = IpAddr::V6(Ipv4Addr::new(10, 0, 0, 2).to_ipv6_mapped());
    let r = announce(&t, &leecher, mapped, None).unwrap();
    assert_eq!(r.peers.len(), 1);
    assert_eq!(r.peers[0].addr, "127.0.0.1:6882".parse().unwrap());
    assert_eq!((r.complete, r.incomplete), (1, 1));
    assert_eq!((r.interval, r.min_interval), (1800, Some(900)));
    // BEP 24, with an IPv4-mapped source reported as plain IPv4.
    assert_eq!(r.external_ip, Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2))));
    assert_eq!(t.counters().announces.load(Ordering::Relaxed), 2);
}

#[test]
fn numwant_is_capped_and_ip_param_honoured_only_when_configured() {
    let t = open(CoreConfig {
        max_numwant: 3,
        ..CoreConfig::default()
    });
    for p in 1..=10 {
        announce(&t, &request(p, 1), LOCAL, None).unwrap();
    }
    let mut greedy = request(11, 1);
    greedy.numwant = Some(1000);
    assert_eq!(announce(&t, &greedy, LOCAL, None).unwrap().peers.len(), 3);

    let claimed = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
    for (honour, expect) in [(false, LOCAL), (true, claimed)] {
        let t = open(CoreConfig {
            honour_ip_param: honour,
            ..CoreConfig::default()
        });
        let mut liar = request(1, 1);
        liar.ip = Some(claimed);
        announce(&t, &liar, LOCAL, None).unwrap();
        let r = announce(&t, &request(2, 1), LOCAL, None).unwrap();
        assert_eq!(r.peers[0].addr.ip(), expect);
    }
}

#[test]
fn private_announces_are_checked_and_accounted() {
    let acc = Arc::new(Accumulator::new(100));
    let t = Tracker::new(CoreConfig::default(), Arc::new(Site), Some(acc.clone()));
    let mut req = request(1, 100);
    assert_eq!(
        announce(&t, &req, LOCAL, None).unwrap_err(),
        Refusal::MissingPasskey
    );
    assert_eq!(
        announce(&t, &req, LOCAL, Some("mallory")).unwrap_err(),
        Refusal::BadPasskey
    );
    let mut other = req.clone();
    other.info_hash = InfoHash([8; 20]);
    assert_eq!(
        announce(&t, &other, LOCAL, Some("alice")).unwrap_err(),
        Refusal::UnregisteredTorrent
    );
    assert_eq!(t.counters().refused.load(Ordering::Relaxed), 3);

    announce(&t, &req, LOCAL, Some("alice")).unwrap();
    req.transfer = Transfer {
        uploaded: 10,
        downloaded: 60,
        left: 40,
    };
    req.event = AnnounceEvent::None;
    announce(&t, &req, LOCAL, Some("alice")).unwrap();
    req.transfer = Transfer {
        uploaded: 15,
        downloaded: 100,
        left: 0,
    };
    req.event = AnnounceEvent::Completed;
    announce(&t, &req, LOCAL, Some("alice")).unwrap();
    let batch = acc.drain();
    assert_eq!(batch.len(), 1);
    let (key, sums) = batch[0];
    assert_eq!(key, (UserId(1), InfoHash([7; 20])));
    assert_eq!(
        (sums.uploaded, sums.downloaded, sums.completions, sums.announces),
        (15, 100, 1, 3)
    );
}

#[test]
fn a_full_accounting_queue_refuses_before_touching_the_swarm() {
    let acc = Arc::new(Accumulator::new(1));
    let t = Tracker::new(CoreConfig::default(), Arc::new(Site), Some(acc.clone()));
    announce(&t, &request(1, 1), LOCAL, Some("alice")).unwrap();
    let err = announce(&t, &request(2, 1), LOCAL, Some("bob"));
    assert!(matches!(err, Err(Refusal::Other(_))));
    assert_eq!(t.swarms().totals().leechers, 1, "bob was not added");
    assert_eq!(t.counters().backpressure.load(Ordering::Relaxed), 1);
    acc.drain();
    announce(&t, &request(2, 1), LOCAL, Some("bob")).unwrap();
    assert_eq!(t.swarms().totals().leechers, 2);
}

#[test]
fn scrape_counts_and_refusals() {
    let t = Tracker::new(CoreConfig::default(), Arc::new(Site), None);
    let mut out = Vec::new();
    assert_eq!(
        t.scrape(&[InfoHash([8; 20])], None, &mut out),
        Err(Refusal::UnregisteredTorrent)
    );
    let mut req = request(1, 0);
    announce(&t, &req, LOCAL, Some("alice")).unwrap();
    req = request(2, 5);
    announce(&t, &req, LOCAL, Some("bob")).unwrap();
    out.clear();
    t.scrape(&[InfoHash([7; 20])], None, &mut out).unwrap();
    assert_eq!((out[0].1.complete, out[0].1.incomplete), (1, 1));
}

#[test]
fn a_dual_stack_peer_is_reachable_over_both_families() {
    let dual_stack = CoreConfig {
        honour_other_family: true,
        ..CoreConfig::default()
    };
    let t = open(dual_stack.clone());
    let v6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 9));
    let mut resp = AnnounceResponse::default();
    let req = request(1, 0);
    let input = AnnounceInput {
        request: &req,
        passkey: None,
        source: LOCAL,
        other_family: Some(v6),
    };
    t.announce(&input, 0, &mut resp).unwrap();
    let r = announce(&t, &request(2, 10), LOCAL, None).unwrap();
    let mut ips: Vec<IpAddr> = r.peers.iter().map(|p| p.addr.ip()).collect();
    ips.sort();
    assert_eq!(ips, vec![LOCAL, v6]);
    // The same family is not a second address: an `ipv4=` on an IPv4 announce is ignored.
    let t = open(dual_stack);
    let input = AnnounceInput {
        other_family: Some(IpAddr::V4(Ipv4Addr::new(10, 1, 1, 1))),
        ..input
    };
    t.announce(&input, 0, &mut resp).unwrap();
    assert_eq!(t.swarms().totals().seeders, 1);
}
