//! MSE/PE between sessions: RC4 both ways when both require it; a plaintext retry when an
//! "enabled" client meets a peer with encryption disabled; refusals under "required" and
//! "disabled"; magnets fetched over an encrypted connection.

use std::time::Duration;

use client::{Encryption, Session, SessionConfig};
use metainfo::builder::TorrentVersion;
use testkit::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::*;

fn with(policy: Encryption) -> SessionConfig {
    SessionConfig {
        encryption: policy,
        ..config()
    }
}

/// Transfers a torrent from a seeder under `seed` to a leecher under `leech`; how each side
/// counted the connections: (plaintext, obfuscated, rc4).
async fn transfer(seed: Encryption, leech: Encryption) -> [(u64, u64, u64); 2] {
    let src = TempDir::new("enc-src");
    let dst = TempDir::new("enc-dst");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[]);
    let s = Session::new(with(seed)).await.unwrap();
    s.add(torrent.clone(), opts(src.path(), vec![])).await.unwrap();
    let l = Session::new(with(leech)).await.unwrap();
    let h = l.add(torrent, opts(dst.path(), vec![listen(&s)])).await.unwrap();
    complete(&h).await;
    same_content(src.path(), dst.path());
    // The seeder counted its side before it sent the first byte of data.
    let count = |x: &Session| {
        let c = x.snapshot().counters;
        (c.peers_plaintext, c.peers_obfuscated, c.peers_rc4)
    };
    [count(&l), count(&s)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_on_both_sides_runs_rc4() {
    assert_eq!(
        transfer(Encryption::Required, Encryption::Required).await,
        [(0, 0, 1), (0, 0, 1)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enabled_on_both_sides_picks_rc4() {
    assert_eq!(
        transfer(Encryption::Enabled, Encryption::Enabled).await,
        [(0, 0, 1), (0, 0, 1)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enabled_falls_back_to_plaintext_for_a_peer_without_encryption() {
    assert_eq!(
        transfer(Encryption::Disabled, Encryption::Enabled).await,
        [(1, 0, 0), (1, 0, 0)]
    );
}

/// Writes `first` to `target` and reads until the peer closes; the bytes it sent meanwhile.
async fn closed_after(target: std::net::SocketAddr, first: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(target).await.unwrap();
    s.write_all(first).await.unwrap();
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut got)).await;
    assert!(read.is_ok(), "the peer kept the connection open");
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_refuses_a_plaintext_handshake() {
    let src = TempDir::new("enc-req");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[]);
    let s = Session::new(with(Encryption::Required)).await.unwrap();
    s.add(torrent.clone(), opts(src.path(), vec![])).await.unwrap();
    let mut hs = vec![19u8];
    hs.extend_from_slice(b"BitTorrent protocol");
    hs.extend_from_slice(&[0; 8]);
    hs.extend_from_slice(&torrent.info_hash_v1().unwrap().0);
    hs.extend_from_slice(b"-XX0001-abcdefghijkl");
    let got = closed_after(listen(&s), &hs).await;
    assert!(got.is_empty(), "nothing is answered to a refused peer: {got:?}");
    assert_eq!(s.snapshot().counters.encryption_failures, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_refuses_an_encrypted_handshake() {
    let src = TempDir::new("enc-off");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[]);
    let s = Session::new(with(Encryption::Disabled)).await.unwrap();
    s.add(torrent.clone(), opts(src.path(), vec![])).await.unwrap();
    let (_, first) = mse::Initiator::new(
        torrent.info_hash_v1().unwrap(),
        [3; 20],
        &[7; 100],
        mse::Methods::BOTH,
        b"",
    );
    let got = closed_after(listen(&s), &first).await;
    assert!(got.is_empty(), "no public key comes back: {} bytes", got.len());
    assert_eq!(s.snapshot().counters.encryption_failures, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_client_does_not_fall_back_to_plaintext() {
    let src = TempDir::new("enc-nofb-src");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[]);
    let s = Session::new(with(Encryption::Disabled)).await.unwrap();
    let sh = s.add(torrent.clone(), opts(src.path(), vec![])).await.unwrap();
    let l = Session::new(with(Encryption::Required)).await.unwrap();
    // A magnet fetch reports why each peer failed: here, the encryption handshake.
    let magnet = metainfo::magnet::Magnet::from_info_hashes(torrent.info_hash_v1(), None);
    let err = l
        .fetch_metadata(&magnet, &[listen(&s)], Duration::from_secs(20))
        .await
        .unwrap_err();
    let text = chain(&err);
    assert!(text.contains("encryption"), "{text}");
    assert!(sh.snapshot().peers.is_empty());
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_magnet_is_fetched_over_rc4() {
    let src = TempDir::new("enc-mag-src");
    let dst = TempDir::new("enc-mag-dst");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[]);
    let s = Session::new(with(Encryption::Required)).await.unwrap();
    s.add(torrent.clone(), opts(src.path(), vec![])).await.unwrap();
    let l = Session::new(with(Encryption::Required)).await.unwrap();
    let magnet = metainfo::magnet::Magnet::from_info_hashes(torrent.info_hash_v1(), None);
    let got = l
        .fetch_metadata(&magnet, &[listen(&s)], Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(got.info_hash_v1(), torrent.info_hash_v1());
    let h = l.add(got, opts(dst.path(), vec![listen(&s)])).await.unwrap();
    complete(&h).await;
    same_content(src.path(), dst.path());
}
