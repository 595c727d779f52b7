//! Limits on what peers can make a session hold: the bytes queued for a peer that never reads
//! (ut_metadata amplification), half-open connections under `max_connections`, and the
//! known-peer list under a PEX flood. Peers here are raw sockets written in the test.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use client::{Session, SessionConfig, SessionCounters, TorrentSnapshot};
use metainfo::Torrent;
use metainfo::builder::TorrentVersion;
use testkit::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use wire::extended::ExtendedHandshake;
use wire::metadata::MetadataMessage;
use wire::pex::Pex;
use wire::{Handshake, Message, Reserved};

use crate::common::*;

/// The extended ids nexsuj receives ut_pex and ut_metadata under (its handshake says so).
const NEXSUJ_UT_PEX: u8 = 1;
const NEXSUJ_UT_METADATA: u8 = 2;

/// Waits (bounded) until the session's counters and the torrent's snapshot satisfy `cond`.
async fn wait_until(s: &Session, what: &str, cond: impl Fn(&SessionCounters, &TorrentSnapshot) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let snap = s.snapshot();
        if let Some(t) = snap.torrents.first()
            && cond(&snap.counters, t)
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting for {what}: {:#?}",
            snap.counters
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Our opening as a raw peer: the handshake and an extension handshake that takes
/// ut_metadata as id 3 and ut_pex as id 4.
fn opening(info_hash: ids::InfoHash, id: u8) -> Vec<u8> {
    let hs = Handshake {
        reserved: Reserved::nexsuj(),
        info_hash,
        peer_id: ids::PeerId([id; 20]),
    };
    let ext = ExtendedHandshake {
        extensions: vec![("ut_metadata".into(), 3), ("ut_pex".into(), 4)],
        ..Default::default()
    };
    let mut payload = Vec::new();
    ext.write(&mut payload);
    let mut out = hs.to_bytes().to_vec();
    Message::Extended {
        id: 0,
        payload: &payload,
    }
    .write(&mut out);
    out
}

/// A ut_metadata request for piece 0, as nexsuj receives it.
fn metadata_request() -> Vec<u8> {
    let mut payload = Vec::new();
    MetadataMessage::Request { piece: 0 }.write(&mut payload);
    let mut out = Vec::new();
    Message::Extended {
        id: NEXSUJ_UT_METADATA,
        payload: &payload,
    }
    .write(&mut out);
    out
}

/// The framed answer to [`metadata_request`] for `torrent` (a one-piece info dictionary).
fn metadata_answer(torrent: &Torrent) -> Vec<u8> {
    let info = torrent.info_bytes();
    let mut payload = Vec::new();
    MetadataMessage::Data {
        piece: 0,
        total_size: info.len() as u64,
        data: info,
    }
    .write(&mut payload);
    let mut out = Vec::new();
    Message::Extended {
        id: 3,
        payload: &payload,
    }
    .write(&mut out);
    out
}

async fn seeding(config: SessionConfig, dir: &TempDir, torrent: &Torrent) -> Session {
    let s = Session::new(config).await.unwrap();
    let h = s.add(torrent.clone(), opts(dir.path(), vec![])).await.unwrap();
    assert!(h.is_complete());
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_requests_from_a_peer_that_never_reads_keep_its_send_queue_under_the_cap() {
    let src = TempDir::new("sendq-src");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[]);
    let cap = 64 << 10;
    let s = seeding(
        SessionConfig {
            max_send_queue: cap,
            ..config()
        },
        &src,
        &torrent,
    )
    .await;
    // A small receive buffer: the kernel holds little of what the seeder sends, the rest
    // stays with the seeder.
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(listen(&s)).await.unwrap();
    let (_never_read, mut wr) = stream.into_split();
    let mut flood = opening(torrent.info_hash_v1().unwrap(), 1);
    let one = metadata_request();
    // Twenty thousand requests for about 1.3 KiB each: 26 MiB of answers.
    for _ in 0..20_000 {
        flood.extend_from_slice(&one);
    }
    // The seeder stops reading once its queue for us is full: the rest of the flood waits in
    // the socket and this write never finishes.
    let writer = tokio::spawn(async move { wr.write_all(&flood).await });

    wait_until(&s, "the flood to fill the queue", |c, t| {
        c.metadata_rejected > 0 || t.peers.iter().any(|p| p.send_queue_peak > cap as u64)
    })
    .await;
    let snap = s.snapshot();
    let peer = &snap.torrents[0].peers[0];
    assert!(
        peer.send_queue_peak <= cap as u64,
        "{} bytes queued for a peer that never reads, cap {cap}",
        peer.send_queue_peak
    );
    assert!(snap.counters.metadata_rejected > 0);
    writer.abort();
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_answers_are_charged_to_the_upload_limit() {
    let src = TempDir::new("sendq-rate-src");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[]);
    // One byte a second: the first answer alone puts the limiter in debt for twenty minutes.
    let s = seeding(
        SessionConfig {
            upload_rate: 1,
            ..config()
        },
        &src,
        &torrent,
    )
    .await;
    let mut peer = TcpStream::connect(listen(&s)).await.unwrap();
    let mut out = opening(torrent.info_hash_v1().unwrap(), 2);
    for _ in 0..3 {
        out.extend_from_slice(&metadata_request());
    }
    peer.write_all(&out).await.unwrap();
    let answer = metadata_answer(&torrent);
    let held = 3 * answer.len() as u64;
    // The answers wait in the queue for the limiter, as blocks do.
    wait_until(&s, "three answers held by the upload limit", |_, t| {
        t.peers.iter().any(|p| p.send_queue == held)
    })
    .await;
    // Lifted, the limit lets them go.
    s.set_rate_limits(0, 0);
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    while got
        .windows(answer.len())
        .filter(|w| *w == answer.as_slice())
        .count()
        < 3
    {
        let n = peer.read(&mut chunk).await.unwrap();
        assert!(n > 0, "closed before the three answers came");
        got.extend_from_slice(&chunk[..n]);
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_incoming_connections_count_against_max_connections() {
    let src = TempDir::new("halfopen-src");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[]);
    let s = seeding(
        SessionConfig {
            max_connections: 2,
            ..config()
        },
        &src,
        &torrent,
    )
    .await;
    // Ten connections that never send a handshake.
    let mut idle = Vec::new();
    for _ in 0..10 {
        idle.push(TcpStream::connect(listen(&s)).await.unwrap());
    }
    wait_until(&s, "the refusals", |c, _| c.incoming_refused >= 8).await;
    let c = s.snapshot().counters;
    assert_eq!((c.connections, c.incoming_refused), (2, 8), "{c:#?}");
    // Their slots come back when they close, and a real peer gets one.
    drop(idle);
    wait_until(&s, "the slots to come back", |c, _| c.connections == 0).await;
    let dst = TempDir::new("halfopen-dst");
    let leecher = session().await;
    let h = leecher
        .add(torrent.clone(), opts(dst.path(), vec![listen(&s)]))
        .await
        .unwrap();
    complete(&h).await;
    leecher.shutdown().await;
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outgoing_half_open_connections_count_against_max_connections() {
    // Ten peers that accept and never answer the handshake.
    let accepted = Arc::new(AtomicUsize::new(0));
    let mut addrs = Vec::new();
    for _ in 0..10 {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        addrs.push(l.local_addr().unwrap());
        let accepted = accepted.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = l.accept().await {
                accepted.fetch_add(1, Ordering::SeqCst);
                held.push(s);
            }
        });
    }
    let src = TempDir::new("halfopen-out");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[]);
    let dst = TempDir::new("halfopen-out-dst");
    let s = Session::new(SessionConfig {
        max_connections: 2,
        ..config()
    })
    .await
    .unwrap();
    s.add(torrent, opts(dst.path(), addrs)).await.unwrap();
    // Two rounds of the driver that wanted more connections and found no slot.
    wait_until(&s, "two deferred rounds", |c, _| c.outgoing_deferred >= 2).await;
    assert_eq!(s.snapshot().counters.connections, 2);
    assert!(accepted.load(Ordering::SeqCst) <= 2);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pex_flood_keeps_the_known_peer_list_at_its_cap() {
    let src = TempDir::new("pexflood-src");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[]);
    let dst = TempDir::new("pexflood-dst");
    let s = Session::new(SessionConfig {
        max_known_peers: 100,
        ..config()
    })
    .await
    .unwrap();
    s.add(torrent.clone(), opts(dst.path(), vec![])).await.unwrap();
    let mut peer = TcpStream::connect(listen(&s)).await.unwrap();
    let mut out = opening(torrent.info_hash_v1().unwrap(), 3);
    Message::HaveNone.write(&mut out);
    // Five messages of 200 addresses each, all different; nothing listens there, so the
    // session's attempts fail at once.
    let all: Vec<SocketAddr> = (0..1000u32)
        .map(|i| SocketAddr::from(([127, 1, (i / 200) as u8, (i % 200) as u8 + 1], 1)))
        .collect();
    for batch in all.chunks(200) {
        let mut payload = Vec::new();
        Pex {
            added: batch.iter().map(|a| (*a, 0)).collect(),
            dropped: vec![],
        }
        .write(&mut payload);
        Message::Extended {
            id: NEXSUJ_UT_PEX,
            payload: &payload,
        }
        .write(&mut out);
    }
    peer.write_all(&out).await.unwrap();
    wait_until(&s, "the flood to be trimmed", |c, t| {
        c.known_peers_dropped >= 900 || t.known_peers > 100
    })
    .await;
    let snap = s.snapshot();
    assert_eq!(snap.torrents[0].known_peers, 100);
    assert_eq!(snap.counters.known_peers_dropped, 900);
    s.shutdown().await;
}
