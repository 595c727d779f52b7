//! Shared helpers: content, torrents, sessions, waiting.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use client::{AddOptions, Session, SessionConfig, TorrentHandle, TorrentSnapshot};
use metainfo::Torrent;
use metainfo::builder::{TorrentBuilder, TorrentVersion};
use testkit::TempDir;

/// Files of a multi-file torrent: odd sizes so pieces straddle files.
pub const FILES: &[(&str, usize)] = &[
    ("album/a.bin", 700_001),
    ("album/sub/b.bin", 123_457),
    ("album/empty", 0),
    ("album/c.bin", 1_000_000),
];

/// Writes the content under `dir` and returns a torrent of it (32 KiB pieces).
pub fn make_torrent(dir: &Path, version: TorrentVersion, trackers: &[String]) -> Torrent {
    build(dir, version, trackers, false)
}

/// The same content as a private torrent (BEP 27).
pub fn make_private_torrent(dir: &Path) -> Torrent {
    build(dir, TorrentVersion::V1, &[], true)
}

fn build(dir: &Path, version: TorrentVersion, trackers: &[String], private: bool) -> Torrent {
    testkit::write_files(dir, FILES);
    let mut b = TorrentBuilder::new(dir.join("album"))
        .piece_length(Some(32 * 1024))
        .version(version)
        .private(private)
        .creation_date(None);
    if !trackers.is_empty() {
        b = b.announce_tier(trackers.to_vec());
    }
    Torrent::from_bytes(&b.build(&|_| {}).unwrap()).unwrap()
}

pub fn config() -> SessionConfig {
    let mut c = SessionConfig {
        listen_addrs: vec!["127.0.0.1".parse().unwrap()],
        ports: (0, 0),
        ..SessionConfig::default()
    };
    c.timing.reconnect_delay = Duration::from_millis(100);
    c.timing.tracker_retry_min = Duration::from_millis(200);
    c.timing.udp_timeout = Duration::from_millis(500);
    c.timing.pex_interval = Duration::from_millis(300);
    c
}

pub async fn session() -> Session {
    Session::new(config()).await.unwrap()
}

pub fn opts(dir: &Path, peers: Vec<SocketAddr>) -> AddOptions {
    AddOptions {
        dir: dir.to_path_buf(),
        peers,
        no_trackers: true,
        ..AddOptions::default()
    }
}

/// A seeding session for the content in `dir`.
pub async fn seeder(dir: &TempDir, torrent: &Torrent) -> (Session, TorrentHandle) {
    let s = session().await;
    let h = s.add(torrent.clone(), opts(dir.path(), vec![])).await.unwrap();
    assert!(h.is_complete(), "the seeder finds its data by hashing it");
    (s, h)
}

/// Waits (bounded, so a bug fails instead of hanging) until `cond` holds.
pub async fn wait_for(h: &TorrentHandle, what: &str, cond: impl Fn(&TorrentSnapshot) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let snap = h.snapshot();
        if cond(&snap) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting for {what}: {snap:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn complete(h: &TorrentHandle) {
    tokio::time::timeout(Duration::from_secs(60), h.wait_complete())
        .await
        .unwrap_or_else(|_| panic!("download did not complete: {:#?}", h.snapshot()));
}

/// The downloaded files equal the originals.
pub fn same_content(a: &Path, b: &Path) {
    for (name, _) in FILES {
        let x = std::fs::read(a.join(name)).unwrap();
        let y = std::fs::read(b.join(name)).unwrap();
        assert!(x == y, "{name} differs");
    }
}

pub fn listen(s: &Session) -> SocketAddr {
    s.listen_addrs()[0]
}
