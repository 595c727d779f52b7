//! Peers found through trackers written in the test: an HTTP one and a UDP one (BEP 15),
//! both built on tracker-proto's server-side functions.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ids::InfoHash;
use metainfo::builder::TorrentVersion;
use testkit::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tracker_proto::common::{AnnounceEvent, AnnounceResponse, ResponsePeer, ScrapeStats};
use tracker_proto::http;
use tracker_proto::udp::{self, AddressFamily, Request};

use crate::common::*;

type Peers = Arc<Mutex<Vec<(SocketAddr, AnnounceEvent)>>>;

fn remember(peers: &Peers, from: SocketAddr, port: u16, event: AnnounceEvent) -> Vec<ResponsePeer> {
    let mut all = peers.lock().unwrap();
    let me = SocketAddr::new(from.ip(), port);
    all.push((me, event));
    let mut out: Vec<ResponsePeer> = Vec::new();
    for (a, _) in all.iter().filter(|(a, _)| *a != me) {
        if out.iter().all(|p| p.addr != *a) {
            out.push(ResponsePeer {
                addr: *a,
                peer_id: None,
            });
        }
    }
    out
}

/// Scrape counts: distinct announcers, the completed ones as `downloaded`.
fn stats(peers: &Peers) -> ScrapeStats {
    let all = peers.lock().unwrap();
    let completed = all.iter().filter(|(_, e)| *e == AnnounceEvent::Completed).count() as u32;
    let mut distinct: Vec<SocketAddr> = all.iter().map(|(a, _)| *a).collect();
    distinct.dedup();
    ScrapeStats {
        complete: 0,
        downloaded: completed,
        incomplete: distinct.len() as u32,
    }
}

async fn http_tracker(peers: Peers) -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/announce", l.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut s, from)) = l.accept().await {
            let peers = peers.clone();
            tokio::spawn(async move {
                let mut req = vec![0u8; 8192];
                let mut n = 0;
                while !req[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                    let k = s.read(&mut req[n..]).await.unwrap();
                    if k == 0 {
                        return;
                    }
                    n += k;
                }
                let head = String::from_utf8_lossy(&req[..n]).into_owned();
                let target = head.split_whitespace().nth(1).unwrap();
                let (path, query) = target.split_once('?').unwrap();
                let mut body = Vec::new();
                if path == "/scrape" {
                    let hashes = http::parse_scrape(query.as_bytes(), 50).unwrap();
                    let mut files: Vec<_> = hashes.into_iter().map(|h| (h, stats(&peers))).collect();
                    http::write_scrape(&mut body, &mut files);
                } else {
                    let ann = http::parse_announce(query.as_bytes()).unwrap();
                    let list = remember(&peers, from, ann.request.port, ann.request.event);
                    let resp = AnnounceResponse {
                        interval: 1800,
                        peers: list,
                        ..Default::default()
                    };
                    http::write_announce(&mut body, &resp, true, true);
                }
                // Chunked, as some trackers answer.
                let mut out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
                out.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
                out.extend_from_slice(&body);
                out.extend_from_slice(b"\r\n0\r\n\r\n");
                let _ = s.write_all(&out).await;
            });
        }
    });
    url
}

async fn udp_tracker(peers: Peers) -> String {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let url = format!("udp://{}/announce", sock.local_addr().unwrap());
    tokio::spawn(async move {
        let mut buf = vec![0u8; 2048];
        loop {
            let (n, from) = sock.recv_from(&mut buf).await.unwrap();
            let mut out = Vec::new();
            match udp::parse_request(&buf[..n]) {
                Ok(Request::Connect(c)) => udp::write_connect(&mut out, c.transaction_id, 42),
                Ok(Request::Announce(a)) => {
                    let list = remember(&peers, from, a.request.port, a.request.event);
                    let resp = AnnounceResponse {
                        interval: 1800,
                        peers: list,
                        ..Default::default()
                    };
                    udp::Response::Announce {
                        transaction_id: a.transaction_id,
                        response: resp,
                    }
                    .write(&mut out, AddressFamily::V4);
                }
                Ok(Request::Scrape(r)) => {
                    let all: Vec<ScrapeStats> = r.info_hashes.iter().map(|_| stats(&peers)).collect();
                    udp::write_scrape(&mut out, r.transaction_id, &all);
                }
                _ => continue,
            }
            let _ = sock.send_to(&out, from).await;
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_meet_through_http_and_udp_trackers() {
    for kind in ["http", "udp"] {
        let peers: Peers = Arc::default();
        let url = match kind {
            "http" => http_tracker(peers.clone()).await,
            _ => udp_tracker(peers.clone()).await,
        };
        // A dead tracker first in its tier: BEP 12 moves on to the next one.
        let dead = "udp://127.0.0.1:9/announce".to_string();
        let src = TempDir::new(&format!("trk-src-{kind}"));
        let torrent = make_torrent(src.path(), TorrentVersion::V1, &[dead, url.clone()]);
        let seed_session = session().await;
        let mut o = opts(src.path(), vec![]);
        o.no_trackers = false;
        let seed = seed_session.add(torrent.clone(), o).await.unwrap();
        wait_for(&seed, "the seeder's announce", |t| {
            t.trackers.iter().any(|tr| tr.url == url && tr.working)
        })
        .await;
        let dst = TempDir::new(&format!("trk-dst-{kind}"));
        let s = session().await;
        let mut o = opts(dst.path(), vec![]);
        o.no_trackers = false;
        let h = s.add(torrent.clone(), o).await.unwrap();
        complete(&h).await;
        same_content(src.path(), dst.path());
        wait_for(&h, "the completed announce", |_| {
            peers
                .lock()
                .unwrap()
                .iter()
                .any(|(_, e)| *e == AnnounceEvent::Completed)
        })
        .await;
        let via = client::tracker::Via {
            bind: None,
            udp_timeout: Duration::from_secs(2),
            http: client::tracker::HttpClient::new(None).unwrap(),
        };
        let scraped = client::tracker::scrape(&url, InfoHash(torrent.info_hash_v1().unwrap().0), &via)
            .await
            .unwrap();
        assert_eq!(scraped.downloaded, 1, "{kind} scrape: {scraped:?}");
        s.shutdown().await;
        let events: Vec<AnnounceEvent> = peers.lock().unwrap().iter().map(|(_, e)| *e).collect();
        assert!(
            events.contains(&AnnounceEvent::Started) && events.contains(&AnnounceEvent::Stopped),
            "{events:?}"
        );
        seed_session.shutdown().await;
    }
}
