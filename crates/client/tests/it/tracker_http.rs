//! An HTTP tracker that behaves like aquatic_http, the fastest open tracker: it keeps the
//! connection open after answering (whatever `Connection: close` said), ends its body with a
//! CRLF that Content-Length counts, and drops without a reply any announce whose `key` does
//! not percent-decode to UTF-8 (it parses `key` as a string). nexsuj once sent the key as
//! four raw bytes and waited for the server to close: a download whose only tracker ran
//! aquatic_http never found a peer.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use metainfo::builder::TorrentVersion;
use testkit::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracker_proto::common::{AnnounceResponse, ResponsePeer};
use tracker_proto::http;

use crate::common::*;

/// What the tracker saw: every announce's `key` as sent, and the peers it knows.
#[derive(Default)]
struct Seen {
    keys: Vec<String>,
    peers: Vec<SocketAddr>,
}

/// The raw value of `name` in a query string.
fn param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

fn percent_decode(raw: &str) -> Option<Vec<u8>> {
    let b = raw.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(raw.get(i + 1..i + 3)?, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Answers one request; `None` for a request aquatic_http would drop without a reply.
fn answer(head: &str, from: SocketAddr, seen: &Mutex<Seen>) -> Option<Vec<u8>> {
    let target = head.split_whitespace().nth(1)?;
    let (path, query) = target.split_once('?')?;
    if path != "/announce" {
        return None;
    }
    let raw_key = param(query, "key").unwrap_or_default();
    let mut seen = seen.lock().unwrap();
    seen.keys.push(raw_key.to_owned());
    String::from_utf8(percent_decode(raw_key)?).ok()?;
    let ann = http::parse_announce(query.as_bytes()).ok()?;
    let me = SocketAddr::new(from.ip(), ann.request.port);
    let peers = seen
        .peers
        .iter()
        .filter(|a| **a != me)
        .map(|a| ResponsePeer {
            addr: *a,
            peer_id: None,
        })
        .collect();
    if !seen.peers.contains(&me) {
        seen.peers.push(me);
    }
    let mut body = Vec::new();
    let resp = AnnounceResponse {
        interval: 1800,
        peers,
        ..Default::default()
    };
    http::write_announce(&mut body, &resp, true, true);
    body.extend_from_slice(b"\r\n");
    let mut out = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(&body);
    Some(out)
}

/// One keep-alive connection: requests answered in turn until the client closes it.
async fn serve(mut s: TcpStream, from: SocketAddr, seen: Arc<Mutex<Seen>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let Ok(n) = s.read(&mut chunk).await else { return };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            if let Some(reply) = answer(&head, from, &seen)
                && s.write_all(&reply).await.is_err()
            {
                return;
            }
        }
    }
}

async fn aquatic_like_tracker() -> (String, Arc<Mutex<Seen>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/announce", l.local_addr().unwrap());
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let shared = seen.clone();
    tokio::spawn(async move {
        while let Ok((s, from)) = l.accept().await {
            tokio::spawn(serve(s, from, shared.clone()));
        }
    });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_whose_only_tracker_behaves_like_aquatic_http_finds_its_seeder() {
    let (url, seen) = aquatic_like_tracker().await;
    let src = TempDir::new("aquatic-src");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, std::slice::from_ref(&url));
    let seed_session = session().await;
    let mut o = opts(src.path(), vec![]);
    o.no_trackers = false;
    let seed = seed_session.add(torrent.clone(), o).await.unwrap();
    wait_for(&seed, "the seeder's announce", |t| {
        t.trackers.iter().any(|tr| tr.working)
    })
    .await;
    let dst = TempDir::new("aquatic-dst");
    let s = session().await;
    let mut o = opts(dst.path(), vec![]);
    o.no_trackers = false;
    let h = s.add(torrent.clone(), o).await.unwrap();
    complete(&h).await;
    same_content(src.path(), dst.path());
    // libtorrent's and uTorrent's form: eight hex digits, nothing to percent-encode.
    let keys = seen.lock().unwrap().keys.clone();
    assert!(
        keys.iter()
            .all(|k| k.len() == 8 && k.bytes().all(|b| b.is_ascii_hexdigit())),
        "{keys:?}"
    );
    s.shutdown().await;
    seed_session.shutdown().await;
}
