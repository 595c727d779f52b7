//! uTP between sessions (BEP 29): a transfer over uTP only, plaintext and RC4; a session that
//! tries uTP first reaches a TCP-only one over TCP; the DHT and uTP share one UDP port.

use client::{Encryption, Session, SessionConfig, TransportPolicy};
use metainfo::builder::TorrentVersion;
use testkit::TempDir;

use crate::common::*;

fn with(transport: TransportPolicy, encryption: Encryption) -> SessionConfig {
    SessionConfig {
        transport,
        encryption,
        ..config()
    }
}

/// Transfers a torrent; each side's (tcp, utp) connection counts.
async fn transfer(seed: SessionConfig, leech: SessionConfig) -> [(u64, u64); 2] {
    let src = TempDir::new("utp-src");
    let dst = TempDir::new("utp-dst");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[]);
    let s = Session::new(seed).await.unwrap();
    s.add(torrent.clone(), opts(src.path(), vec![])).await.unwrap();
    let l = Session::new(leech).await.unwrap();
    let h = l.add(torrent, opts(dst.path(), vec![listen(&s)])).await.unwrap();
    complete(&h).await;
    same_content(src.path(), dst.path());
    let count = |x: &Session| {
        let c = x.snapshot().counters;
        (c.peers_tcp, c.peers_utp)
    };
    let out = [count(&l), count(&s)];
    l.shutdown().await;
    s.shutdown().await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torrent_crosses_over_utp_only() {
    let utp = || with(TransportPolicy::Utp, Encryption::Disabled);
    assert_eq!(transfer(utp(), utp()).await, [(0, 1), (0, 1)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn utp_carries_rc4() {
    let utp = || with(TransportPolicy::Utp, Encryption::Required);
    assert_eq!(transfer(utp(), utp()).await, [(0, 1), (0, 1)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_prefers_utp() {
    let both = || with(TransportPolicy::Both, Encryption::Enabled);
    assert_eq!(transfer(both(), both()).await, [(0, 1), (0, 1)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_reaches_a_tcp_only_peer_over_tcp() {
    let both = || with(TransportPolicy::Both, Encryption::Enabled);
    // A session shut down first: its port may come back to the next one, and nothing of it
    // (no UDP socket) may answer there.
    assert_eq!(transfer(both(), both()).await, [(0, 1), (0, 1)]);
    let tcp_only = with(TransportPolicy::Tcp, Encryption::Enabled);
    assert_eq!(transfer(tcp_only, both()).await, [(1, 0), (1, 0)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dht_and_utp_share_the_peer_port() {
    let src = TempDir::new("utp-dht-src");
    let dst = TempDir::new("utp-dht-dst");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[]);
    let s = Session::new(with(TransportPolicy::Utp, Encryption::Enabled))
        .await
        .unwrap();
    let dht = client::dht::Dht::start_for(&s, vec!["127.0.0.1:1".into()], None)
        .await
        .unwrap();
    assert_eq!(
        dht.local_addr().unwrap(),
        listen(&s),
        "one port for TCP, uTP and the DHT"
    );
    s.add(torrent.clone(), opts(src.path(), vec![])).await.unwrap();
    let l = Session::new(with(TransportPolicy::Utp, Encryption::Enabled))
        .await
        .unwrap();
    let h = l.add(torrent, opts(dst.path(), vec![listen(&s)])).await.unwrap();
    complete(&h).await;
    same_content(src.path(), dst.path());
    // The seeder's DHT node still answers on the shared port.
    let other = client::dht::Dht::start(client::dht::DhtConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(other.ping(listen(&s)).await.unwrap(), dht.id());
    assert_eq!(s.snapshot().counters.peers_utp, 1);
}
