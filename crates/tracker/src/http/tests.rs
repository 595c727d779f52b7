//! The HTTP tracker over real TCP connections: a server on port 0, requests written by hand.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Arc;

use ids::InfoHash;
use tracker_proto::common::{AnnounceEvent, AnnounceRequest, ScrapeStats};
use tracker_proto::http::{
    AnnounceReply, HttpAnnounce, parse_announce_reply, parse_scrape_reply, write_announce_query,
};

use super::{HttpOptions, TrustedProxies, router};
use crate::access::{AccessPolicy, ListMode, PublicPolicy};
use crate::engine::{CoreConfig, Tracker};
use crate::stats::ServerStats;
use crate::test_support::{Site, request};

/// A server on `bind` (port 0) in a runtime of its own; dropped with the test.
struct Server {
    addr: SocketAddr,
    tracker: Arc<Tracker>,
    _runtime: tokio::runtime::Runtime,
}

fn start(policy: Arc<dyn AccessPolicy>, options: HttpOptions, bind: &str) -> Server {
    start_with(CoreConfig::default(), policy, options, bind)
}

fn start_with(core: CoreConfig, policy: Arc<dyn AccessPolicy>, options: HttpOptions, bind: &str) -> Server {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let tracker = Arc::new(Tracker::new(core, policy, None));
    let stats = Arc::new(ServerStats::default());
    let app = router(tracker.clone(), stats.clone(), options);
    let listener = runtime.block_on(tokio::net::TcpListener::bind(bind)).unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = http_server::ServerLimits::default();
    runtime.spawn(http_server::serve(
        listener,
        app,
        limits,
        stats.connections.clone(),
        std::future::pending(),
    ));
    Server {
        addr,
        tracker,
        _runtime: runtime,
    }
}

fn public(bind: &str) -> Server {
    let policy = Arc::new(PublicPolicy::new(ListMode::Open, None, vec![]).unwrap());
    start(policy, HttpOptions::default(), bind)
}

/// GET `target` with extra header lines; returns the status and the body.
fn get(addr: SocketAddr, target: &str, headers: &str) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{headers}\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head[9..12].parse().unwrap();
    (status, raw[split + 4..].to_vec())
}

fn query(req: AnnounceRequest, compact: bool, edit: impl FnOnce(&mut HttpAnnounce)) -> String {
    let mut a = HttpAnnounce {
        request: req,
        compact,
        no_peer_id: false,
        auth_key: None,
        tracker_id: None,
        ipv4: None,
        ipv6: None,
    };
    edit(&mut a);
    let mut q = String::new();
    write_announce_query(&mut q, &a);
    q
}

fn announce(addr: SocketAddr, path: &str, q: &str, headers: &str) -> AnnounceReply {
    let (status, body) = get(addr, &format!("{path}?{q}"), headers);
    assert_eq!(status, 200);
    parse_announce_reply(&body).unwrap()
}

/// A compact announce from test peer `peer` with `left` bytes to go, which must succeed.
fn plain(addr: SocketAddr, peer: u8, left: u64) -> tracker_proto::common::AnnounceResponse {
    ok(announce(
        addr,
        "/announce",
        &query(request(peer, left), true, |_| ()),
        "",
    ))
}

fn ok(reply: AnnounceReply) -> tracker_proto::common::AnnounceResponse {
    match reply {
        AnnounceReply::Ok(r) => r,
        AnnounceReply::Failure(f) => panic!("refused: {f}"),
    }
}

fn failure(reply: AnnounceReply) -> String {
    match reply {
        AnnounceReply::Failure(f) => f,
        AnnounceReply::Ok(r) => panic!("accepted: {r:?}"),
    }
}

#[test]
fn compact_and_dictionary_peers_with_external_ip() {
    let s = public("127.0.0.1:0");
    let r = plain(s.addr, 1, 0);
    assert_eq!((r.complete, r.incomplete, r.peers.len()), (1, 0, 0));
    assert_eq!(r.external_ip, Some(IpAddr::from([127, 0, 0, 1])));
    assert_eq!((r.interval, r.min_interval), (1800, Some(900)));
    let r = plain(s.addr, 2, 9);
    assert_eq!(r.peers[0].addr, "127.0.0.1:6882".parse().unwrap());
    assert_eq!(r.peers[0].peer_id, None, "compact peers carry no id");
    let r = ok(announce(
        s.addr,
        "/announce",
        &query(request(3, 9), false, |_| ()),
        "",
    ));
    assert_eq!(r.peers.len(), 2);
    assert!(
        r.peers.iter().all(|p| p.peer_id.is_some()),
        "dictionary peers carry ids"
    );
    let q = query(request(3, 9), false, |a| a.no_peer_id = true);
    let r = ok(announce(s.addr, "/announce", &q, ""));
    assert!(r.peers.iter().all(|p| p.peer_id.is_none()));
}

#[test]
fn bad_requests_get_a_failure_reason_that_says_what_is_wrong() {
    let s = public("127.0.0.1:0");
    let cases = [
        (
            "info_hash=%01%02&peer_id=-LT2080-aaaaaaaaaaaa&port=1",
            "info_hash must be 20 bytes, got 2",
        ),
        (
            &format!("info_hash={}&peer_id=-LT2080-aaaaaaaaaaaa", "a".repeat(20)),
            "missing parameter: port",
        ),
        (
            &format!("info_hash=%zz{}&peer_id=x&port=1", "a".repeat(19)),
            "invalid percent-encoding in info_hash",
        ),
        (
            &format!("info_hash={}&x={}", "a".repeat(20), "b".repeat(9000)),
            "query too long",
        ),
        ("", "missing parameter"),
    ];
    for (q, expect) in cases {
        let reason = failure(announce(s.addr, "/announce", q, ""));
        assert!(reason.contains(expect), "{q:.60}: {reason}");
    }
    // Nothing was disturbed: a good announce still works.
    plain(s.addr, 1, 0);
}

#[test]
fn stoped_as_the_seed_spells_it_removes_the_peer() {
    let s = public("127.0.0.1:0");
    plain(s.addr, 1, 5);
    assert_eq!(s.tracker.swarms().totals().leechers, 1);
    let q = query(request(1, 5), true, |_| ()).replace("event=started", "event=stoped");
    ok(announce(s.addr, "/announce", &q, ""));
    assert_eq!(s.tracker.swarms().totals().leechers, 0);
}

#[test]
fn scrape_reports_several_torrents_with_downloaded() {
    let s = public("127.0.0.1:0");
    let mut done = request(1, 0);
    done.event = AnnounceEvent::Completed;
    ok(announce(s.addr, "/announce", &query(done, true, |_| ()), ""));
    plain(s.addr, 2, 7);
    let seven = "%07".repeat(20);
    let eight = "%08".repeat(20);
    let (_, body) = get(
        s.addr,
        &format!("/scrape?info_hash={seven}&info_hash={eight}"),
        "",
    );
    let files = parse_scrape_reply(&body).unwrap();
    let find = |h: u8| {
        files
            .iter()
            .find(|(k, _)| *k == InfoHash([h; 20]))
            .map(|(_, s)| *s)
    };
    let seven_stats = ScrapeStats {
        complete: 1,
        downloaded: 1,
        incomplete: 1,
    };
    assert_eq!(find(7), Some(seven_stats));
    assert_eq!(find(8), Some(ScrapeStats::default()));
    let (_, body) = get(s.addr, "/scrape", "");
    assert!(String::from_utf8_lossy(&body).contains("at least one info_hash"));
    let many = format!("info_hash={seven}&").repeat(71);
    let (_, body) = get(s.addr, &format!("/scrape?{many}"), "");
    assert!(String::from_utf8_lossy(&body).contains("too many info_hash"));
}

#[test]
fn passkeys_in_query_or_path_for_a_private_tracker() {
    let s = start(Arc::new(Site), HttpOptions::default(), "127.0.0.1:0");
    let q = query(request(1, 5), true, |_| ());
    assert_eq!(failure(announce(s.addr, "/announce", &q, "")), "passkey required");
    ok(announce(s.addr, "/announce/alice", &q, ""));
    let with_key = query(request(2, 5), true, |a| a.auth_key = Some("bob".into()));
    ok(announce(s.addr, "/announce", &with_key, ""));
    let wrong = query(request(3, 5), true, |a| a.auth_key = Some("mallory".into()));
    assert_eq!(
        failure(announce(s.addr, "/announce", &wrong, "")),
        "unknown or disabled passkey"
    );
    let (_, body) = get(
        s.addr,
        &format!("/scrape/alice?info_hash={}", "%07".repeat(20)),
        "",
    );
    assert_eq!(parse_scrape_reply(&body).unwrap()[0].1.incomplete, 2);
}

#[test]
fn forwarded_for_only_from_trusted_proxies() {
    let loopback = TrustedProxies::new([("127.0.0.1".parse().unwrap(), 32)]);
    let policy = Arc::new(PublicPolicy::new(ListMode::Open, None, vec![]).unwrap());
    let trusting = start(
        policy,
        HttpOptions {
            trusted_proxies: loopback,
            ..HttpOptions::default()
        },
        "127.0.0.1:0",
    );
    let q = query(request(1, 5), true, |_| ());
    let r = ok(announce(
        trusting.addr,
        "/announce",
        &q,
        "X-Forwarded-For: 203.0.113.7\r\n",
    ));
    assert_eq!(r.external_ip, Some("203.0.113.7".parse().unwrap()));
    let plain = public("127.0.0.1:0");
    let r = ok(announce(
        plain.addr,
        "/announce",
        &q,
        "X-Forwarded-For: 203.0.113.7\r\n",
    ));
    assert_eq!(r.external_ip, Some("127.0.0.1".parse().unwrap()));
}

#[test]
fn ipv6_listener_and_bep7_dual_stack_addresses() {
    let policy = Arc::new(PublicPolicy::new(ListMode::Open, None, vec![]).unwrap());
    let core = CoreConfig {
        honour_other_family: true,
        ..CoreConfig::default()
    };
    let s = start_with(core, policy, HttpOptions::default(), "[::1]:0");
    let q = query(request(1, 0), true, |a| {
        a.ipv4 = Some("127.0.0.1".parse().unwrap())
    });
    let r = ok(announce(s.addr, "/announce", &q, ""));
    assert_eq!(r.external_ip, Some("::1".parse().unwrap()));
    let r = plain(s.addr, 2, 5);
    let mut addrs: Vec<SocketAddr> = r.peers.iter().map(|p| p.addr).collect();
    addrs.sort();
    let expect: Vec<SocketAddr> = vec!["127.0.0.1:6882".parse().unwrap(), "[::1]:6882".parse().unwrap()];
    assert_eq!(addrs, expect, "peers (IPv4) and peers6 both listed");
}

#[test]
fn stats_and_metrics() {
    let s = public("127.0.0.1:0");
    plain(s.addr, 1, 5);
    failure(announce(s.addr, "/announce", "port=x", ""));
    let (status, body) = get(s.addr, "/stats", "");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (v["torrents"].as_u64(), v["leechers"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(v["http"]["announces"], 1);
    assert_eq!(v["http"]["errors"]["malformed"], 1);
    let (_, body) = get(s.addr, "/metrics", "");
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains("nexsuj_tracker_leechers 1\n"), "{text}");
    assert!(text.contains("nexsuj_tracker_announces_total{protocol=\"http\"} 1\n"));
}

#[test]
fn metrics_and_stats_answer_loopback_or_the_token_only() {
    let policy = Arc::new(PublicPolicy::new(ListMode::Open, None, vec![]).unwrap());
    let s = start(
        policy,
        HttpOptions {
            // Behind a proxy on loopback, the client is whoever it says: not loopback.
            trusted_proxies: TrustedProxies::new([("127.0.0.1".parse().unwrap(), 32)]),
            metrics_token: Some(super::MetricsToken("let-me-in".into())),
            ..HttpOptions::default()
        },
        "127.0.0.1:0",
    );
    let remote = "X-Forwarded-For: 203.0.113.7\r\n";
    for path in ["/metrics", "/stats"] {
        assert_eq!(get(s.addr, path, remote).0, 404, "{path} is public");
        let wrong = format!("{remote}Authorization: Bearer let-me-out\r\n");
        assert_eq!(get(s.addr, path, &wrong).0, 404);
        let right = format!("{remote}Authorization: Bearer let-me-in\r\n");
        assert_eq!(get(s.addr, path, &right).0, 200);
        assert_eq!(get(s.addr, path, "").0, 200, "loopback may read {path}");
    }
    let (_, body) = get(s.addr, "/metrics", "");
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.contains("nexsuj_tracker_errors_total{protocol=\"http\",kind=\"metrics_denied\"} 4\n"),
        "{text}"
    );
    assert!(
        text.contains("nexsuj_http_connections_refused_per_ip_total 0\n"),
        "{text}"
    );
}
