use std::time::Duration;

use axum::http::{Method, StatusCode};
use client::dht::{Dht, DhtConfig};
use serde_json::{Value, json};

use crate::common::{Node, config, make_torrent};

/// Two daemons that know nothing of each other but a DHT node: one seeds a torrent (and
/// announces it there), the other downloads it from a magnet that has only the info-hash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_magnet_with_only_the_info_hash_downloads_through_the_dht() {
    let dir = testkit::TempDir::new("api-dht");
    let router = Dht::start(DhtConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..DhtConfig::default()
    })
    .await
    .unwrap();
    let with_dht = |name: &str| {
        let mut c = config(&dir.path().join(name));
        c.peers.dht = true;
        c.peers.dht_bootstrap = vec![router.local_addr().unwrap().to_string()];
        c
    };
    let (torrent, hash, files) = make_torrent(&dir.path().join("seed-data"), "film", &[200_000, 90_000]);
    let a = Node::with(with_dht("a")).await;
    let seed_dir = dir.path().join("seed-data").display().to_string();
    let (s, v) = a
        .api(Method::POST, &format!("/addtorrentfile?path={seed_dir}"), torrent)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    a.wait_for(&hash, "the seeder to find its data", |v: &Value| {
        v["state"] == "seeding"
    })
    .await;
    // The announce reaches the router (the only other node there is).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while router.stored().0 == 0 {
        assert!(tokio::time::Instant::now() < deadline, "never announced");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let b = Node::with(with_dht("b")).await;
    let b_data = dir.path().join("b-data");
    let (s, v) = b
        .add_magnet(json!({"url": format!("magnet:?xt=urn:btih:{hash}"), "targetdir": b_data}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    b.wait_for(&hash, "the DHT-only magnet download", |v: &Value| {
        v["state"] == "seeding"
    })
    .await;
    for (i, f) in files.iter().enumerate() {
        let got = std::fs::read(b_data.join(format!("film/file{i}.bin"))).unwrap();
        assert_eq!(got, std::fs::read(f).unwrap(), "file {i}");
    }
    let (s, _, metrics) = b
        .bytes(
            Method::GET,
            "/metrics",
            &[("authorization", "Bearer test-token-0123456789")],
            vec![],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(metrics.contains("nexsuj_dht_table_nodes"), "{metrics}");
    assert!(
        metrics.contains("nexsuj_dht_queries_out_total{method=\"get_peers\"}"),
        "{metrics}"
    );
    b.close().await;
    let saved = std::fs::read(dir.path().join("b").join("dht.state")).unwrap();
    assert!(dht::SavedState::decode(&saved).is_ok());
}
