//! Torrents with thousands of files (hardening item 13): open file handles are pooled, so a
//! 5,000-file torrent checks, downloads and seeds without holding a handle per file.

use std::path::Path;

use client::{Session, SessionConfig};
use metainfo::Torrent;
use metainfo::builder::TorrentBuilder;
use testkit::TempDir;

use crate::common::*;

const FILE_COUNT: usize = 5_000;

/// How many of this process's file descriptors point at data files under `dir` (the resume
/// journal in the state folder is not a data file).
fn open_under(dir: &Path) -> usize {
    let dir = dir.canonicalize().unwrap();
    let state = dir.join(client::resume::STATE_DIR);
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target.starts_with(&dir) && !target.starts_with(&state))
        .count()
}

fn many_files(dir: &Path) -> (Torrent, Vec<String>) {
    let names: Vec<String> = (0..FILE_COUNT)
        .map(|i| format!("many/d{:02}/f{i:04}.bin", i % 50))
        .collect();
    let files: Vec<(&str, usize)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), 1 + (i * 37) % 400))
        .collect();
    testkit::write_files(dir, &files);
    let bytes = TorrentBuilder::new(dir.join("many"))
        .piece_length(Some(16 * 1024))
        .creation_date(None)
        .build(&|_| {})
        .unwrap();
    (Torrent::from_bytes(&bytes).unwrap(), names)
}

/// A session that may hold at most `POOL` files open.
async fn small_pool_session() -> Session {
    Session::new(SessionConfig {
        file_pool_size: POOL,
        ..config()
    })
    .await
    .unwrap()
}

const POOL: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5000_file_torrent_checks_downloads_and_seeds_within_the_file_pool_cap() {
    let src = TempDir::new("many-src");
    let (torrent, names) = many_files(src.path());
    let seed_session = small_pool_session().await;
    let seed = seed_session
        .add(torrent.clone(), opts(src.path(), vec![]))
        .await
        .unwrap();
    assert!(seed.is_complete(), "the hash check read every file");
    assert!(open_under(src.path()) <= POOL);

    let dst = TempDir::new("many-dst");
    let s = small_pool_session().await;
    let h = s
        .add(torrent.clone(), opts(dst.path(), vec![listen(&seed_session)]))
        .await
        .unwrap();
    assert!(
        open_under(dst.path()) <= POOL,
        "creating the files keeps none open"
    );
    complete(&h).await;
    assert!(open_under(dst.path()) <= POOL);
    for n in &names {
        let a = std::fs::read(src.path().join(n)).unwrap();
        let b = std::fs::read(dst.path().join(n)).unwrap();
        assert!(a == b, "{n} differs");
    }
    for (who, session) in [("seeder", &seed_session), ("leecher", &s)] {
        let files = session.snapshot().files;
        assert_eq!(files.cap, POOL);
        assert!(files.peak <= POOL && files.open <= POOL, "{who}: {files:?}");
        assert!(
            files.opened >= FILE_COUNT as u64 && files.evicted > 0,
            "{who}: {files:?}"
        );
    }
    s.shutdown().await;
    seed_session.shutdown().await;
}
