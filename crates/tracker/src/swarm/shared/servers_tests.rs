//! Tracker services on a shared store, over real sockets: two instances on one Redis answer
//! as one tracker (HTTP on one, UDP on the other), and one whose Redis is down says so.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tracker_proto::common::AnnounceResponse;
use tracker_proto::http::{AnnounceReply, parse_announce_reply, parse_scrape_reply};
use tracker_proto::udp::{AddressFamily, ConnectRequest, Request, Response, UdpAnnounce, parse_response};

use crate::access::{ListMode, PublicPolicy};
use crate::config::TrackerConfig;
use crate::engine::{DEGRADED, Tracker};
use crate::service::Service;
use crate::test_support::request;

fn config(redis: &str, prefix: &str) -> TrackerConfig {
    let mut config = TrackerConfig::default();
    config.http.http_address = "127.0.0.1:0".parse().unwrap();
    config.udp.udp_address = "127.0.0.1:0".parse().unwrap();
    config.store.redis_url = Some(redis.into());
    config.store.redis_prefix = prefix.into();
    config.store.redis_timeout_ms = 2000;
    config
}

async fn start(config: &TrackerConfig) -> Service {
    let policy = Arc::new(PublicPolicy::new(ListMode::Open, None, vec![]).unwrap());
    let core = config.core();
    let tracker = Tracker::new(core.clone(), policy, None)
        .with_shared_store(core.shared.as_ref().unwrap())
        .unwrap();
    Service::start(config, Arc::new(tracker), Router::new())
        .await
        .unwrap()
}

/// GET `path` over a fresh connection; the reply's body.
async fn http_get(addr: SocketAddr, path: String) -> Vec<u8> {
    tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        let at = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        out.split_off(at)
    })
    .await
    .unwrap()
}

fn escaped(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02x}")).collect()
}

/// An HTTP announce of peer `n` (port 6881 + n) with `left` bytes to go.
async fn http_announce(addr: SocketAddr, n: u8, left: u64) -> AnnounceReply {
    let r = request(n, left);
    let path = format!(
        "/announce?info_hash={}&peer_id={}&port={}&uploaded=0&downloaded=0&left={left}&event=started&compact=1",
        escaped(&r.info_hash.0),
        escaped(&r.peer_id.0),
        r.port
    );
    parse_announce_reply(&http_get(addr, path).await).unwrap()
}

/// A UDP connect and announce of peer `n` with `left` bytes to go.
async fn udp_announce(addr: SocketAddr, n: u8, left: u64) -> Response {
    tokio::task::spawn_blocking(move || {
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let exchange = |req: Request| {
            let mut packet = Vec::new();
            req.write(&mut packet);
            client.send_to(&packet, addr).unwrap();
            let mut buf = [0u8; 2048];
            let (len, _) = client.recv_from(&mut buf).unwrap();
            parse_response(&buf[..len], AddressFamily::V4).unwrap()
        };
        let Response::Connect { connection_id, .. } =
            exchange(Request::Connect(ConnectRequest { transaction_id: 1 }))
        else {
            panic!("no connect reply")
        };
        exchange(Request::Announce(UdpAnnounce {
            connection_id,
            transaction_id: 2,
            request: request(n, left),
            key: 0,
            url_data: None,
        }))
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_redis_answer_as_one_tracker() {
    let Some(url) = super::tests::redis_url() else {
        return;
    };
    let prefix = super::tests::prefix("servers");
    let one = start(&config(&url, &prefix)).await;
    let two = start(&config(&url, &prefix)).await;
    let AnnounceReply::Ok(seeder) = http_announce(one.http_addrs()[0], 1, 0).await else {
        panic!("seeder refused")
    };
    assert!(seeder.peers.is_empty());
    let Response::Announce { response, .. } = udp_announce(two.udp_addrs()[0], 2, 100).await else {
        panic!("no UDP announce reply")
    };
    let AnnounceResponse {
        complete,
        incomplete,
        peers,
        ..
    } = response;
    assert_eq!((complete, incomplete), (1, 1));
    assert_eq!(peers.len(), 1);
    assert_eq!(peers[0].addr, "127.0.0.1:6882".parse().unwrap());
    // Scraped through the first instance: both peers, whichever instance heard them.
    let hash = escaped(&request(1, 0).info_hash.0);
    let body = http_get(one.http_addrs()[0], format!("/scrape?info_hash={hash}")).await;
    let scraped = parse_scrape_reply(&body).unwrap();
    assert_eq!((scraped[0].1.complete, scraped[0].1.incomplete), (1, 1));
    let stats = String::from_utf8(http_get(two.http_addrs()[0], "/stats".into()).await).unwrap();
    assert!(stats.contains(r#""store":"redis""#), "{stats}");
    one.shutdown().await;
    two.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_store_is_a_clear_failure_over_both_protocols() {
    // Nothing listens on port 1: every announce fails at once, and says why.
    let service = start(&config("redis://127.0.0.1:1", "x")).await;
    let reply = http_announce(service.http_addrs()[0], 1, 0).await;
    assert_eq!(reply, AnnounceReply::Failure(DEGRADED.into()));
    let Response::Error { message, .. } = udp_announce(service.udp_addrs()[0], 2, 0).await else {
        panic!("expected an error reply")
    };
    assert_eq!(message, DEGRADED);
    service.shutdown().await;
}
