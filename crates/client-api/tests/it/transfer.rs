use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Node, config, make_torrent};

fn seeding(v: &Value) -> bool {
    v["state"] == "seeding" && v["progress"] == 1.0
}

/// A seeding daemon, and a second one that downloads from it by magnet (metadata and data),
/// streams a range, stops, restarts without downloading again, and removes with the data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn magnet_download_stream_restart_and_remove() {
    let dir = testkit::TempDir::new("api-transfer");
    let sizes = [300_000, 1_000_000];
    let (torrent, hash, files) = make_torrent(&dir.path().join("seed-data"), "movie", &sizes);

    let a = Node::start(&dir.path().join("a")).await;
    let seed_dir = dir.path().join("seed-data").display().to_string();
    let (s, v) = a
        .api(Method::POST, &format!("/addtorrentfile?path={seed_dir}"), torrent)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    a.wait_for(&hash, "the seeder to find its data", seeding).await;

    let b_state = dir.path().join("b");
    let b_data = dir.path().join("b-data");
    let b = Node::start(&b_state).await;
    let link = format!("magnet:?xt=urn:btih:{hash}&dn=movie&x.pe={}", a.peer_addr());
    let (s, v) = b
        .add_magnet(json!({"url": link, "targetdir": b_data, "maxdown": 0, "maxup": "0"}))
        .await;
    assert_eq!(
        (s, v["infohash"].as_str()),
        (StatusCode::OK, Some(hash.as_str())),
        "{v}"
    );
    let done = b.wait_for(&hash, "the magnet download", seeding).await;
    assert_eq!(done["name"], "movie");
    assert_eq!(done["bitfield_length"], 40);
    assert_eq!(done["bitfield_base64"].as_str().unwrap().len(), 8);
    assert!(
        done["downloaded"].as_f64().unwrap() >= 1_300_000.0 / 1024.0,
        "{done}"
    );
    assert_eq!(done["files"].as_array().unwrap().len(), 2);
    for (i, f) in files.iter().enumerate() {
        let got = std::fs::read(b_data.join(format!("movie/file{i}.bin"))).unwrap();
        assert_eq!(got, std::fs::read(f).unwrap(), "file {i}");
    }

    // The seeder saw us as a peer and uploaded what we downloaded.
    let (_, seen) = a
        .api(Method::GET, &format!("/torrentdata?infohash={hash}"), vec![])
        .await;
    assert!(
        seen["uploaded"].as_f64().unwrap() >= 1_300_000.0 / 1024.0,
        "{seen}"
    );

    // A range of the second file, as a player asks for it.
    let bearer = "Bearer test-token-0123456789";
    let (s, h, body) = b
        .bytes(
            Method::GET,
            &format!("/stream/{hash}/1"),
            &[("authorization", bearer), ("range", "bytes=100000-600099")],
            vec![],
        )
        .await;
    assert_eq!(s, StatusCode::PARTIAL_CONTENT);
    assert_eq!(h["content-range"], "bytes 100000-600099/1000000");
    assert_eq!(body, std::fs::read(&files[1]).unwrap()[100_000..600_100]);
    let (s, _, _) = b
        .bytes(
            Method::GET,
            &format!("/stream/{hash}/1"),
            &[("authorization", bearer), ("range", "bytes=2000000-")],
            vec![],
        )
        .await;
    assert_eq!(s, StatusCode::RANGE_NOT_SATISFIABLE);

    // Limits are kept per torrent and globally.
    let (s, _) = b
        .api(
            Method::POST,
            &format!("/setdownrate?infohash={hash}&rate=500"),
            vec![],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = b.api(Method::POST, "/setglobaluprate?rate=700", vec![]).await;
    assert_eq!(s, StatusCode::OK);

    // Stop: the engine lets it go, the daemon keeps it.
    let (s, _) = b
        .api(Method::GET, &format!("/stoptorrent?infohash={hash}"), vec![])
        .await;
    assert_eq!(s, StatusCode::OK);
    let stopped = b.wait_for(&hash, "the stop", |v| v["state"] == "stopped").await;
    assert_eq!(
        stopped["progress"], 1.0,
        "a stopped torrent still shows its pieces"
    );
    let downloaded = stopped["downloaded"].as_f64().unwrap();
    b.close().await;

    // A restart: the torrent, its folder, its limits and its stopped state are back, and
    // starting it finds the data verified (nothing is downloaded again).
    let b = Node::with(config(&b_state)).await;
    let (_, all) = b.api(Method::GET, "/alldata", vec![]).await;
    assert_eq!(all["maxup"], 700);
    let back = &all["sessions"][0];
    assert_eq!(
        (back["state"].as_str(), back["maxdown"].as_u64()),
        (Some("stopped"), Some(500))
    );
    assert_eq!(back["targetdir"], b_data.display().to_string());
    let (s, _) = b
        .api(Method::POST, &format!("/starttorrent?infohash={hash}"), vec![])
        .await;
    assert_eq!(s, StatusCode::OK);
    let again = b.wait_for(&hash, "the restart", seeding).await;
    assert_eq!(again["downloaded"].as_f64().unwrap(), downloaded, "{again}");

    // Remove with the data: the files and the folder are gone; the seeder's are not.
    let (s, _) = b
        .api(
            Method::POST,
            &format!("/removetorrent?infohash={hash}&delete=true"),
            vec![],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(!b_data.join("movie").exists());
    assert!(files.iter().all(|f| f.exists()));
    let (s, _) = b
        .api(Method::GET, &format!("/torrentdata?infohash={hash}"), vec![])
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    b.close().await;
    a.close().await;
}

/// A stream of the end of a file that is still downloading slowly: the pieces under the
/// range come first and the read waits for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_reads_ahead_of_a_slow_download() {
    let dir = testkit::TempDir::new("api-stream");
    let (torrent, hash, files) = make_torrent(&dir.path().join("seed-data"), "slow", &[4_000_000]);
    let a = Node::start(&dir.path().join("a")).await;
    let seed_dir = dir.path().join("seed-data").display().to_string();
    a.api(
        Method::POST,
        &format!("/addtorrentfile?path={seed_dir}"),
        torrent.clone(),
    )
    .await;
    a.wait_for(&hash, "the seeder", seeding).await;

    let b = Node::start(&dir.path().join("b")).await;
    // 200 KiB/s: the whole file takes about 20 s, the last 64 KiB well under one.
    b.api(Method::POST, "/setglobaldownrate?rate=200", vec![]).await;
    let (s, v) = b.add_magnet(json!({"url": format!("magnet:?xt=urn:btih:{hash}&x.pe={}", a.peer_addr()), "targetdir": dir.path().join("b-data")}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    b.wait_for(&hash, "the metadata", |v| v["state"] == "downloading")
        .await;
    let (s, _, body) = b
        .bytes(
            Method::GET,
            &format!("/stream/{hash}/0"),
            &[
                ("authorization", "Bearer test-token-0123456789"),
                ("range", "bytes=-65536"),
            ],
            vec![],
        )
        .await;
    assert_eq!(s, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, std::fs::read(&files[0]).unwrap()[4_000_000 - 65_536..]);
    let (_, v) = b
        .api(Method::GET, &format!("/torrentdata?infohash={hash}"), vec![])
        .await;
    assert!(
        v["progress"].as_f64().unwrap() < 1.0,
        "the tail came before the rest: {v}"
    );
    b.close().await;
    a.close().await;
}
