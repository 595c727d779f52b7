//! The site and its tracker on one real port (what `nexsuj serve` runs): announces over HTTP
//! with passkeys are accounted, scrapes need the passkey, pages answer beside them.

// Test helpers below panic on failure, like the tests that call them.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracker::config::TrackerConfig;
use tracker::service::Service;

use crate::support::{Backend, TestSite, torrent_bytes};

async fn http_get(addr: SocketAddr, path: &str) -> Vec<u8> {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    out.split_off(split + 4)
}

fn pct(hex: &str) -> String {
    hex.as_bytes()
        .chunks(2)
        .map(|c| format!("%{}", std::str::from_utf8(c).unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn site_and_tracker_share_a_port() {
    let t = TestSite::new(Backend::Sqlite).await;
    let (me, cookie) = t.user("porter").await;
    let pk = me["authKey"].as_str().unwrap().to_owned();
    let (_, hash) = t
        .upload_ok(&cookie, &torrent_bytes("port.bin", 100_000), "port", "other", "")
        .await;
    let mut config = TrackerConfig::default();
    config.http.http_address = "127.0.0.1:0".parse().unwrap();
    config.udp.udp_address = "127.0.0.1:0".parse().unwrap();
    let service = Service::start(&config, t.site.tracker().clone(), t.site.router())
        .await
        .unwrap();
    let addr = service.http_addrs()[0];
    let announce = |key: &str, left: u64, downloaded: u64, event: &str| {
        format!(
            "/announce?info_hash={}&peer_id=-XX0001-000000000001&port=6881&uploaded=0&downloaded={downloaded}\
             &left={left}&event={event}&compact=1&auth_key={key}",
            pct(&hash)
        )
    };
    let ok = http_get(addr, &announce(&pk, 100_000, 0, "started")).await;
    assert!(ok.starts_with(b"d8:complete"), "{}", String::from_utf8_lossy(&ok));
    let ok = http_get(addr, &announce(&pk, 0, 100_000, "completed")).await;
    assert!(!String::from_utf8_lossy(&ok).contains("failure"));
    let bad = http_get(addr, &announce(&"0".repeat(32), 0, 0, "started")).await;
    assert_eq!(bad, b"d14:failure reason27:unknown or disabled passkeye");
    // The passkey in the path works too (`/announce/<passkey>`).
    let path_style = announce(&pk, 0, 100_000, "").replace("/announce?", &format!("/announce/{pk}?"));
    assert!(!String::from_utf8_lossy(&http_get(addr, &path_style).await).contains("failure"));
    // Scrape with the passkey from the announce URL; without one it is refused.
    let scrape = http_get(addr, &format!("/scrape?info_hash={}&auth_key={pk}", pct(&hash))).await;
    assert!(
        scrape.starts_with(b"d5:filesd20:"),
        "{}",
        String::from_utf8_lossy(&scrape)
    );
    let anonymous = http_get(addr, &format!("/scrape?info_hash={}", pct(&hash))).await;
    assert_eq!(anonymous, b"d14:failure reason16:passkey requirede");
    // Pages on the same port.
    let page = String::from_utf8(http_get(addr, "/").await).unwrap();
    assert!(page.contains("1 torrent"), "{page}");
    t.site.flusher().flush_once().await.unwrap();
    let profile = t.get("/api/profile", Some(&cookie)).await.json();
    assert_eq!(
        (
            profile["body"]["downloaded"].as_i64(),
            profile["body"]["snatched"].as_i64()
        ),
        (Some(100_000), Some(1))
    );
    service.shutdown().await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_serves_until_shutdown_then_stops() {
    let dir = testkit::TempDir::new("site-run");
    let mut config = site::ServeConfig::default();
    config.site.storage.data_dir = dir.path().to_path_buf();
    config.tracker.http.http_address = "127.0.0.1:0".parse().unwrap();
    config.tracker.udp.udp_address = "127.0.0.1:0".parse().unwrap();
    let reload = std::sync::Arc::new(tokio::sync::Notify::new());
    reload.notify_one();
    // Shutdown is already asked for: run opens the site, starts the servers, then stops.
    site::run(config.clone(), reload, async {}).await.unwrap();
    assert!(dir.path().join("nexsuj.db").exists());
    // A bad CIDR is refused before anything is opened.
    config.tracker.http.trusted_proxies = vec!["nope".into()];
    let err = site::run(config, Default::default(), std::future::pending())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
}
