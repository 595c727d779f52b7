//! Verifying data on disk against v1, v2 and hybrid torrents made by other tools.

use metainfo::Torrent;
use metainfo::verify::verify;
use testkit::{TempDir, pseudo_random, write_files};

use crate::{MULTI_FILES, fixture};

fn load(name: &str) -> Torrent {
    Torrent::from_bytes(&std::fs::read(fixture(name)).unwrap()).unwrap()
}

fn content() -> TempDir {
    let dir = TempDir::new("verify");
    write_files(&dir.path().join("multi"), MULTI_FILES);
    std::fs::write(dir.path().join("single.bin"), pseudo_random(0, 50000)).unwrap();
    dir
}

const ALL: [&str; 6] = [
    "lt_v1_multi.torrent",
    "lt_v2_multi.torrent",
    "lt_hybrid_multi.torrent",
    "lt_hybrid_single.torrent",
    "mktorrent_multi.torrent",
    "transmission_single.torrent",
];

#[test]
fn intact_data_verifies() {
    let dir = content();
    for name in ALL {
        let t = load(name);
        let report = verify(&t, dir.path(), &|_| {}).unwrap();
        assert!(report.is_ok(), "{name}: {report:?}");
        assert_eq!(report.num_pieces, t.info.num_pieces());
    }
}

#[test]
fn a_flipped_byte_names_its_piece_and_file() {
    for name in [
        "lt_v1_multi.torrent",
        "lt_v2_multi.torrent",
        "lt_hybrid_multi.torrent",
        "mktorrent_multi.torrent",
    ] {
        let dir = content();
        let path = dir.path().join("multi/media/b.bin");
        let mut data = std::fs::read(&path).unwrap();
        data[69_000] ^= 1;
        std::fs::write(&path, &data).unwrap();
        let t = load(name);
        let report = verify(&t, dir.path(), &|_| {}).unwrap();
        assert_eq!(report.bad_pieces.len(), 1, "{name}: {report:?}");
        let bad: Vec<String> = report
            .bad_files
            .iter()
            .map(|&i| t.info.files[i].path.to_string())
            .collect();
        assert!(bad.contains(&"media/b.bin".to_string()), "{name}: {bad:?}");
        assert!(!report.is_ok());
    }
}

#[test]
fn missing_and_short_files_are_reported() {
    for name in [
        "lt_v1_multi.torrent",
        "lt_v2_multi.torrent",
        "lt_hybrid_multi.torrent",
    ] {
        let dir = content();
        std::fs::remove_file(dir.path().join("multi/docs/a.txt")).unwrap();
        std::fs::remove_file(dir.path().join("multi/docs/empty")).unwrap();
        let z = dir.path().join("multi/z");
        std::fs::write(&z, b"short").unwrap();
        let t = load(name);
        let report = verify(&t, dir.path(), &|_| {}).unwrap();
        let names = |idx: &[usize]| {
            let mut v: Vec<String> = idx.iter().map(|&i| t.info.files[i].path.to_string()).collect();
            v.sort();
            v
        };
        // An empty file counts too: it is part of the content.
        assert_eq!(
            names(&report.missing_files),
            ["docs/a.txt", "docs/empty"],
            "{name}"
        );
        assert_eq!(names(&report.wrong_size_files), ["z"], "{name}");
        assert!(!report.bad_pieces.is_empty());
    }
}

#[test]
fn progress_counts_every_byte() {
    let dir = content();
    let t = load("lt_hybrid_multi.torrent");
    let seen = std::sync::atomic::AtomicU64::new(0);
    verify(&t, dir.path(), &|n| {
        seen.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(seen.into_inner(), t.info.byte_space_len());
}
