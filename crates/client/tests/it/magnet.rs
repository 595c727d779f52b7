//! Magnet links (BEP 9): the info dictionary fetched from a nexsuj seeder over ut_metadata,
//! then the download.

use std::time::Duration;

use client::ClientError;
use metainfo::builder::TorrentVersion;
use metainfo::magnet::{Magnet, PeerAddr};
use testkit::TempDir;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_magnet_link_fetches_the_metadata_then_the_data() {
    let src = TempDir::new("magnet-seed");
    let torrent = make_torrent(src.path(), TorrentVersion::Hybrid, &[]);
    let (seed_session, _) = seeder(&src, &torrent).await;
    let mut magnet = Magnet::from_info_hashes(torrent.info_hash_v1(), None);
    magnet.peers = vec![PeerAddr::Ip(listen(&seed_session))];

    let s = session().await;
    let fetched = s
        .fetch_metadata(&magnet, &[], Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(fetched.info_bytes(), torrent.info_bytes());
    assert_eq!(fetched.info_hash_v1(), torrent.info_hash_v1());
    let dst = TempDir::new("magnet-leech");
    let h = s
        .add(fetched, opts(dst.path(), vec![listen(&seed_session)]))
        .await
        .unwrap();
    complete(&h).await;
    same_content(src.path(), dst.path());
    s.shutdown().await;
    seed_session.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_torrents_do_not_give_out_their_metadata() {
    let src = TempDir::new("magnet-private");
    let torrent = make_private_torrent(src.path());
    let (seed_session, _) = seeder(&src, &torrent).await;
    let magnet = Magnet::from_info_hashes(torrent.info_hash_v1(), None);
    let s = session().await;
    let err = s
        .fetch_metadata(&magnet, &[listen(&seed_session)], Duration::from_secs(30))
        .await
        .expect_err("a private torrent's seeder does not serve ut_metadata");
    assert!(
        matches!(&err, ClientError::Metadata(_) if err.to_string().contains("ut_metadata")),
        "{err}"
    );
    s.shutdown().await;
    seed_session.shutdown().await;
}

#[tokio::test]
async fn a_magnet_without_peers_fails_at_once() {
    let torrent_hash = ids::InfoHash([7; 20]);
    let magnet = Magnet::from_info_hashes(Some(torrent_hash), None);
    let s = session().await;
    let err = s
        .fetch_metadata(&magnet, &[], Duration::from_secs(30))
        .await
        .expect_err("nobody to ask");
    assert!(err.to_string().contains("no peers found"), "{err}");
    s.shutdown().await;
}
