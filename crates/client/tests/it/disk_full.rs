//! A full disk (hardening item 16): the torrent pauses with the error in its snapshot,
//! requests nothing while paused, retries with backoff and, once writes succeed again,
//! completes without fetching twice what it had.

use std::time::Duration;

use client::{DiskFaults, Session};
use metainfo::builder::TorrentVersion;
use testkit::TempDir;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_pauses_the_torrent_until_a_retry_can_write_and_nothing_is_fetched_twice() {
    let src = TempDir::new("full-src");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[]);
    let (seed_session, seed) = seeder(&src, &torrent).await;
    let dst = TempDir::new("full-dst");
    let mut config = config();
    // Retries come quickly (the test waits for them as events, not for time).
    config.timing.disk_retry_min = Duration::from_millis(5);
    config.timing.disk_retry_max = Duration::from_millis(40);
    // Room for two pieces in memory: the rest are written block by block, so both ways of
    // writing meet the full disk.
    config.piece_memory = 64 * 1024;
    let faults = DiskFaults::new();
    // About a third of the 1.8 MB content fits.
    faults.set_space(600_000);
    config.disk_faults = Some(faults.clone());
    let s = Session::new(config).await.unwrap();
    let h = s
        .add(torrent.clone(), opts(dst.path(), vec![listen(&seed_session)]))
        .await
        .unwrap();

    wait_for(&h, "the pause, with what was written", |t| {
        t.disk.paused && t.have_pieces > 0 && t.peers.is_empty()
    })
    .await;
    let paused = h.snapshot();
    let error = paused.error.clone().unwrap_or_default();
    assert!(error.contains("no space left on device"), "{error}");
    assert_eq!(paused.disk.error.as_deref(), Some(error.as_str()));
    assert!(
        paused.disk.write_errors >= 1 && paused.disk.held_bytes > 0,
        "{paused:#?}"
    );
    wait_for(&seed, "the seeder to lose the leecher", |t| t.peers.is_empty()).await;

    // Retries fail while the disk stays full; meanwhile no peer is connected, so nothing is
    // requested or received.
    let retries = paused.disk.retries;
    wait_for(&h, "two failed retries", |t| t.disk.retries >= retries + 2).await;
    let still = h.snapshot();
    assert!(still.disk.paused && still.peers.is_empty(), "{still:#?}");
    assert_eq!(
        still.downloaded, paused.downloaded,
        "nothing arrived while paused"
    );
    assert!(
        still.have_pieces >= paused.have_pieces,
        "what was written is kept"
    );
    assert!(seed.snapshot().peers.is_empty(), "the leecher did not come back");

    // Space again: the next retry writes the held data and the download resumes.
    faults.clear();
    complete(&h).await;
    let done = h.snapshot();
    assert!(!done.disk.paused && done.error.is_none(), "{done:#?}");
    assert_eq!(done.disk.held_bytes, 0);
    assert_eq!(done.downloaded, done.total_size, "no piece was fetched twice");
    same_content(src.path(), dst.path());
    s.shutdown().await;
    seed_session.shutdown().await;
}
