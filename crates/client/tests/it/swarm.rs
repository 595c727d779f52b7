//! Seeders and leechers exchanging a multi-file torrent.

use metainfo::builder::TorrentVersion;
use testkit::TempDir;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leecher_downloads_from_seeder_v1_and_hybrid() {
    for version in [TorrentVersion::V1, TorrentVersion::Hybrid] {
        let src = TempDir::new("seed");
        let torrent = make_torrent(src.path(), version, &[]);
        let (seed_session, _) = seeder(&src, &torrent).await;
        let dst = TempDir::new("leech");
        let s = session().await;
        let h = s
            .add(torrent.clone(), opts(dst.path(), vec![listen(&seed_session)]))
            .await
            .unwrap();
        complete(&h).await;
        same_content(src.path(), dst.path());
        let snap = h.snapshot();
        assert_eq!(snap.left, 0);
        assert!(snap.downloaded >= snap.total_size);
        assert_eq!(snap.hash_failures, 0);
        assert!(snap.bitfield.iter().all(|&b| b != 0));
        s.shutdown().await;
        seed_session.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_leechers_share_while_the_seed_uploads() {
    let src = TempDir::new("seed3");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[]);
    let (seed_session, seed) = seeder(&src, &torrent).await;
    let seed_addr = listen(&seed_session);
    let mut leechers = Vec::new();
    let mut addrs = vec![seed_addr];
    for i in 0..3 {
        let dir = TempDir::new(&format!("leech3-{i}"));
        let s = session().await;
        let mut o = opts(dir.path(), addrs.clone());
        o.sequential = i == 1;
        let h = s.add(torrent.clone(), o).await.unwrap();
        addrs.push(listen(&s));
        leechers.push((dir, s, h));
    }
    for (dir, _, h) in &leechers {
        complete(h).await;
        same_content(src.path(), dir.path());
    }
    assert!(seed.snapshot().uploaded > 0);
    for (_, s, _) in leechers {
        s.shutdown().await;
    }
    seed_session.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_download_still_completes_and_shows_peers() {
    let src = TempDir::new("seedrl");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[]);
    let (seed_session, _) = seeder(&src, &torrent).await;
    let dst = TempDir::new("leechrl");
    let s = session().await;
    let mut o = opts(dst.path(), vec![listen(&seed_session)]);
    // Below the content's size (1.8 MB): the bucket's one-second burst does not cover the
    // whole download, so the limit really paces it (about 3 s) and the peer stays visible.
    o.download_rate = 512 << 10;
    let h = s.add(torrent.clone(), o).await.unwrap();
    wait_for(&h, "a connected peer", |t| {
        t.peers
            .iter()
            .any(|p| p.have_pieces == t.num_pieces && !p.peer_choking)
    })
    .await;
    complete(&h).await;
    same_content(src.path(), dst.path());
    let snap = s.snapshot();
    assert_eq!(snap.torrents.len(), 1);
    assert!(snap.peer_id.0.starts_with(b"-NX0001-"));
    s.shutdown().await;
    seed_session.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_peers() {
    let mut config = config();
    config.listen_addrs = vec!["::1".parse().unwrap()];
    let src = TempDir::new("v6-src");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[]);
    let seed_session = client::Session::new(config.clone()).await.unwrap();
    seed_session
        .add(torrent.clone(), opts(src.path(), vec![]))
        .await
        .unwrap();
    let addr = listen(&seed_session);
    assert!(addr.is_ipv6());
    let dst = TempDir::new("v6-dst");
    let s = client::Session::new(config).await.unwrap();
    let h = s
        .add(torrent.clone(), opts(dst.path(), vec![addr]))
        .await
        .unwrap();
    complete(&h).await;
    same_content(src.path(), dst.path());
    s.shutdown().await;
    seed_session.shutdown().await;
}
