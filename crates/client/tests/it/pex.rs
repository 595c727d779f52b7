//! Peer exchange (BEP 11) with peers written in the test: a seeder tells each peer about the
//! others, and a leecher connects to the peers a ut_pex message names.

use std::net::SocketAddr;
use std::time::Duration;

use metainfo::builder::TorrentVersion;
use testkit::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wire::extended::ExtendedHandshake;
use wire::pex::Pex;
use wire::{Handshake, Limits, Message, Parsed, Reserved};

use crate::common::*;

/// Our side of a connection: handshake, an extension handshake saying we listen on `port`
/// and receive ut_pex as id 7, and nothing else.
async fn greet(s: &mut TcpStream, info_hash: ids::InfoHash, id: u8, port: u16) {
    let hs = Handshake {
        reserved: Reserved::nexsuj(),
        info_hash,
        peer_id: ids::PeerId([id; 20]),
    };
    let ext = ExtendedHandshake {
        extensions: vec![("ut_pex".into(), 7)],
        port: Some(port),
        ..Default::default()
    };
    let mut payload = Vec::new();
    ext.write(&mut payload);
    let mut out = hs.to_bytes().to_vec();
    Message::HaveNone.write(&mut out);
    Message::Extended {
        id: 0,
        payload: &payload,
    }
    .write(&mut out);
    s.write_all(&out).await.unwrap();
}

/// Reads frames until a ut_pex message (id 7) arrives.
async fn next_pex(s: &mut TcpStream) -> Pex {
    let mut buf = vec![0u8; 68];
    s.read_exact(&mut buf).await.unwrap();
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        if let Ok(Parsed::Done { value, len }) = wire::decode(&buf, &Limits::default()) {
            if let Message::Extended { id: 7, payload } = value {
                return Pex::parse(payload).unwrap();
            }
            buf.drain(..len);
            continue;
        }
        let n = s.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed before any ut_pex message");
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeder_tells_each_peer_about_the_others() {
    let src = TempDir::new("pex-seed");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[]);
    let (seed_session, _) = seeder(&src, &torrent).await;
    let ih = torrent.info_hash_v1().unwrap();
    let mut a = TcpStream::connect(listen(&seed_session)).await.unwrap();
    greet(&mut a, ih, 1, 1111).await;
    let mut b = TcpStream::connect(listen(&seed_session)).await.unwrap();
    greet(&mut b, ih, 2, 2222).await;
    let pex = tokio::time::timeout(Duration::from_secs(30), next_pex(&mut a))
        .await
        .unwrap();
    let expected: SocketAddr = "127.0.0.1:2222".parse().unwrap();
    assert!(pex.added.iter().any(|(addr, _)| *addr == expected), "{pex:?}");
    seed_session.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leecher_connects_to_peers_named_by_pex() {
    let src = TempDir::new("pex-src");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[]);
    let (seed_session, _) = seeder(&src, &torrent).await;
    let ih = torrent.info_hash_v1().unwrap();
    // A peer that has nothing but names the seeder.
    let gossip = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gossip_addr = gossip.local_addr().unwrap();
    let seed_addr = listen(&seed_session);
    // Plaintext only, as a real peer it accepts every connection: the leecher's first one
    // tries encryption, gets this handshake back and comes again in plaintext.
    tokio::spawn(async move {
        loop {
            let (s, _) = gossip.accept().await.unwrap();
            tokio::spawn(gossip_once(s, ih, gossip_addr.port(), seed_addr));
        }
    });
    let dst = TempDir::new("pex-dst");
    let s = session().await;
    let h = s
        .add(torrent.clone(), opts(dst.path(), vec![gossip_addr]))
        .await
        .unwrap();
    complete(&h).await;
    same_content(src.path(), dst.path());
    s.shutdown().await;
    seed_session.shutdown().await;
}

/// The gossiping peer's side of one connection: greets, names the seeder, reads until closed.
async fn gossip_once(mut s: TcpStream, ih: ids::InfoHash, port: u16, seed_addr: SocketAddr) {
    greet(&mut s, ih, 3, port).await;
    let mut payload = Vec::new();
    Pex {
        added: vec![(seed_addr, wire::pex::FLAG_SEED)],
        dropped: vec![],
    }
    .write(&mut payload);
    // nexsuj receives ut_pex as extended id 1 (its handshake says so).
    let mut out = Vec::new();
    Message::Extended {
        id: 1,
        payload: &payload,
    }
    .write(&mut out);
    let _ = s.write_all(&out).await;
    let mut sink = [0u8; 4096];
    while s.read(&mut sink).await.unwrap_or(0) > 0 {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_torrents_offer_no_peer_exchange() {
    let src = TempDir::new("pex-private");
    let torrent = make_private_torrent(src.path());
    assert!(torrent.info.private);
    let (seed_session, _) = seeder(&src, &torrent).await;
    let mut s = TcpStream::connect(listen(&seed_session)).await.unwrap();
    greet(&mut s, torrent.info_hash_v1().unwrap(), 4, 4444).await;
    let mut buf = vec![0u8; 68];
    s.read_exact(&mut buf).await.unwrap();
    buf.clear();
    let mut chunk = [0u8; 4096];
    let theirs = loop {
        if let Ok(Parsed::Done { value, len }) = wire::decode(&buf, &Limits::default()) {
            if let Message::Extended { id: 0, payload } = value {
                break ExtendedHandshake::parse(payload).unwrap();
            }
            buf.drain(..len);
            continue;
        }
        let n = s.read(&mut chunk).await.unwrap();
        assert!(n > 0, "closed before the extension handshake");
        buf.extend_from_slice(&chunk[..n]);
    };
    assert_eq!(
        theirs.id_of("ut_pex"),
        None,
        "BEP 27: no PEX for private torrents"
    );
    assert!(theirs.client.unwrap().starts_with("nexsuj"));
    seed_session.shutdown().await;
}
