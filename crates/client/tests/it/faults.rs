//! Faults: a peer that sends corrupted blocks is banned; resume state survives a restart;
//! a piece corrupted on disk is found by a recheck and fetched again.

use std::net::SocketAddr;

use metainfo::builder::TorrentVersion;
use testkit::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wire::{Handshake, Limits, Message, Parsed, Reserved};

use crate::common::*;

/// A peer that claims every piece and answers every request with garbage.
async fn malicious_peer(info_hash: ids::InfoHash) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut hs = [0u8; 68];
                if s.read_exact(&mut hs).await.is_err() {
                    return;
                }
                let mine = Handshake {
                    reserved: Reserved::nexsuj(),
                    info_hash,
                    peer_id: ids::PeerId(*b"-EV0001-badbadbadbad"),
                };
                let mut out = mine.to_bytes().to_vec();
                Message::HaveAll.write(&mut out);
                Message::Unchoke.write(&mut out);
                if s.write_all(&out).await.is_err() {
                    return;
                }
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(n) = s.read(&mut chunk).await else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let mut out = Vec::new();
                    let mut off = 0;
                    while let Ok(Parsed::Done { value, len }) = wire::decode(&buf[off..], &Limits::default())
                    {
                        if let Message::Request(r) = value {
                            let junk = testkit::pseudo_random(u64::from(r.index), r.length as usize);
                            Message::Piece {
                                index: r.index,
                                begin: r.begin,
                                data: &junk,
                            }
                            .write(&mut out);
                        }
                        off += len;
                    }
                    buf.drain(..off);
                    if s.write_all(&out).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_sending_corrupt_blocks_is_banned_and_the_download_completes() {
    let src = TempDir::new("evil-src");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[]);
    let evil = malicious_peer(torrent.info_hash_v1().unwrap()).await;
    let dst = TempDir::new("evil-dst");
    let s = session().await;
    let h = s
        .add(torrent.clone(), opts(dst.path(), vec![evil]))
        .await
        .unwrap();
    wait_for(&h, "the ban", |t| t.banned == 1).await;
    let snap = h.snapshot();
    assert!(snap.hash_failures >= 2 && snap.wasted > 0, "{snap:#?}");
    let (seed_session, _) = seeder(&src, &torrent).await;
    h.add_peers(vec![evil, listen(&seed_session)]);
    complete(&h).await;
    same_content(src.path(), dst.path());
    assert!(
        h.snapshot().peers.iter().all(|p| p.addr != evil),
        "banned peers stay out"
    );
    s.shutdown().await;
    seed_session.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_state_is_trusted_and_recheck_finds_corruption() {
    let src = TempDir::new("resume-src");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[]);
    let (seed_session, _) = seeder(&src, &torrent).await;
    let dst = TempDir::new("resume-dst");
    let s = session().await;
    let h = s
        .add(torrent.clone(), opts(dst.path(), vec![listen(&seed_session)]))
        .await
        .unwrap();
    complete(&h).await;
    s.shutdown().await;
    assert!(dst.path().join(".nexsuj").is_dir());

    // A restart without peers is complete at once: the snapshot vouches for every piece.
    let s = session().await;
    let h = s.add(torrent.clone(), opts(dst.path(), vec![])).await.unwrap();
    assert!(h.is_complete());
    s.shutdown().await;

    // Flip one byte: a recheck finds the bad piece and a peer supplies it again.
    let victim = dst.path().join("album/c.bin");
    let mut data = std::fs::read(&victim).unwrap();
    data[500_000] ^= 0xff;
    std::fs::write(&victim, &data).unwrap();
    let s = session().await;
    let mut o = opts(dst.path(), vec![]);
    o.recheck = true;
    let h = s.add(torrent.clone(), o).await.unwrap();
    let snap = h.snapshot();
    assert_eq!(snap.have_pieces, snap.num_pieces - 1, "exactly one piece is bad");
    h.add_peers(vec![listen(&seed_session)]);
    complete(&h).await;
    same_content(src.path(), dst.path());

    // An on-demand recheck of good data changes nothing.
    h.recheck().await;
    assert!(h.is_complete());
    s.shutdown().await;
    seed_session.shutdown().await;
}
