//! New peers are connected as soon as they are known, not on the driver's next one-second
//! tick (issue 11: a tracker's peers waited a whole second, which made a 200 MB download
//! through a tracker take 1.7 s instead of 0.95 s).
//!
//! The tests run on tokio's paused clock and keep the runtime busy while they wait, so the
//! clock cannot auto-advance: the driver's tick never fires again, and the only way the
//! connection can happen is straight from the event that brought the peer.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use metainfo::builder::TorrentVersion;
use testkit::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tracker_proto::common::{AnnounceResponse, ResponsePeer};

use crate::common::*;

/// A session dialling over TCP only: the fake peers here listen on TCP, and what is tested is
/// when the dial starts, not over what.
async fn tcp_session() -> client::Session {
    client::Session::new(client::SessionConfig {
        transport: client::TransportPolicy::Tcp,
        ..config()
    })
    .await
    .unwrap()
}

/// A "peer" that records that someone connected.
async fn fake_peer() -> (SocketAddr, Arc<AtomicBool>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let connected = Arc::new(AtomicBool::new(false));
    let flag = connected.clone();
    tokio::spawn(async move {
        let (_stream, _) = l.accept().await.unwrap();
        flag.store(true, Ordering::SeqCst);
        // Keep the connection open; the test ends first.
        std::future::pending::<()>().await;
    });
    (addr, connected)
}

/// An HTTP tracker whose every reply names `peer`.
async fn tracker_naming(peer: SocketAddr) -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/announce", l.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut req = vec![0u8; 8192];
                let mut n = 0;
                while !req[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut req[n..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => n += k,
                    }
                }
                let resp = AnnounceResponse {
                    interval: 1800,
                    peers: vec![ResponsePeer {
                        addr: peer,
                        peer_id: None,
                    }],
                    ..Default::default()
                };
                let mut body = Vec::new();
                tracker_proto::http::write_announce(&mut body, &resp, true, true);
                let mut out =
                    format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
                out.extend_from_slice(&body);
                let _ = s.write_all(&out).await;
            });
        }
    });
    url
}

/// Waits for the connection with the paused clock held still (see `testkit::clock`).
async fn connected_without_the_clock_moving(connected: &AtomicBool, what: &str) {
    let done = || connected.load(Ordering::SeqCst);
    testkit::clock::without_time_passing(what, Duration::from_secs(10), done).await;
}

#[tokio::test(start_paused = true)]
async fn peers_from_an_announce_are_connected_without_waiting_for_a_tick() {
    let (peer, connected) = fake_peer().await;
    let url = tracker_naming(peer).await;
    let src = TempDir::new("connect-trk-src");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[url]);
    let dst = TempDir::new("connect-trk-dst");
    let s = tcp_session().await;
    let mut o = opts(dst.path(), vec![]);
    o.no_trackers = false;
    let _h = s.add(torrent, o).await.unwrap();
    connected_without_the_clock_moving(&connected, "tracker peers").await;
}

#[tokio::test(start_paused = true)]
async fn peers_added_by_hand_are_connected_without_waiting_for_a_tick() {
    let src = TempDir::new("connect-hand-src");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[]);
    let dst = TempDir::new("connect-hand-dst");
    let s = tcp_session().await;
    let h = s.add(torrent, opts(dst.path(), vec![])).await.unwrap();
    // Let the driver take its first (immediate) tick with nothing to connect.
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    let (peer, connected) = fake_peer().await;
    h.add_peers(vec![peer]);
    connected_without_the_clock_moving(&connected, "added peers").await;
}
