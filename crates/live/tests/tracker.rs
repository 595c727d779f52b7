//! Seed 001's tracker over real HTTP: announce, peer lists, stats, heartbeats, expiry,
//! channels and metrics, CORS, and every kind of bad request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{get_json, request, start};

const URL: &str = "http://cdn.example/live/stream.m3u8";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_announce_get_each_other_and_report() {
    let s = start(|_| {}).await;
    let q = format!(
        "/announce?info_hash={}&browser=Chrome&device=PC&os=Linux",
        urlencode(URL)
    );
    let (status, first) = get_json(s.addr, &q).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["report_interval"], 20);
    assert_eq!(first["heartbeat_interval"], 10);
    assert_eq!(first["peers"], serde_json::json!([]), "the first viewer is alone");
    let a = first["peer_id"].as_str().unwrap().to_owned();
    assert_eq!(a.len(), 20);
    // The channel id is the SHA-1 of the URL: 40 hex digits name the same channel.
    let hex = live::peer::channel_id(URL).unwrap().to_hex();
    let (_, second) = get_json(s.addr, &format!("/announce?info_hash={hex}&device=mobile")).await;
    assert_eq!(second["peers"], serde_json::json!([{ "id": a }]));
    let b = second["peer_id"].as_str().unwrap().to_owned();
    let (status, peers) = get_json(s.addr, &format!("/get_peers?info_hash={hex}&peer_id={a}")).await;
    assert_eq!(
        (status, peers),
        (200, serde_json::json!({ "peers": [{ "id": b }] }))
    );
    let (status, beat) = get_json(s.addr, &format!("/heartbeat?info_hash={hex}&peer_id={b}")).await;
    assert_eq!((status, beat), (200, serde_json::json!({})));
    for (who, body) in [
        (&a, r#"{"source":3000,"p2p":1000,"conns":2,"failConns":1}"#),
        (&b, r#"{"source":1000,"p2p":5000,"conns":1,"failConns":0}"#),
    ] {
        let (status, _, reply) = request(
            s.addr,
            "POST",
            &format!("/stats?info_hash={hex}&peer_id={who}"),
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )
        .await;
        assert_eq!((status, reply.as_str()), (200, "{}"));
    }
    let (_, channels) = get_json(s.addr, "/channels").await;
    let c = &channels[0];
    assert_eq!(c["info_hash"], hex);
    assert_eq!((c["viewers"].as_u64(), c["mobile"].as_u64()), (Some(2), Some(1)));
    assert_eq!(c["p2p_ratio"].as_f64().unwrap(), 0.6);
    assert_eq!(
        (c["conns"].as_u64(), c["fail_conns"].as_u64()),
        (Some(3), Some(1))
    );
    let (status, _, metrics) = request(s.addr, "GET", "/metrics", &[], b"").await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains(&format!("nexsuj_live_p2p_ratio{{channel=\"{hex}\"}} 0.6")),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!("nexsuj_live_viewers{{channel=\"{hex}\"}} 2")),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_a_json_error_naming_what() {
    let s = start(|_| {}).await;
    let (_, ok) = get_json(s.addr, "/announce?info_hash=abc").await;
    let id = ok["peer_id"].as_str().unwrap().to_owned();
    let hex = live::peer::channel_id("abc").unwrap().to_hex();
    let other = live::peer::channel_id("other").unwrap().to_hex();
    let long = "x".repeat(3000);
    let cases: Vec<(String, &str, &[u8], u16, &str)> = vec![
        ("/announce".into(), "GET", b"", 400, "info_hash is missing"),
        (
            "/announce?info_hash=".into(),
            "GET",
            b"",
            400,
            "info_hash is empty",
        ),
        (
            format!("/announce?info_hash={long}"),
            "GET",
            b"",
            400,
            "longer than",
        ),
        (
            format!("/announce?info_hash=a&browser={}", "b".repeat(65)),
            "GET",
            b"",
            400,
            "browser is longer",
        ),
        (
            format!("/get_peers?info_hash={hex}"),
            "GET",
            b"",
            400,
            "peer_id is missing",
        ),
        (
            format!("/get_peers?info_hash={hex}&peer_id=NOT-OURS"),
            "GET",
            b"",
            400,
            "peer_id is malformed",
        ),
        (
            format!("/get_peers?info_hash={hex}&peer_id=abcdefghij0123456789"),
            "GET",
            b"",
            404,
            "unknown peer_id",
        ),
        (
            format!("/heartbeat?info_hash={other}&peer_id={id}"),
            "GET",
            b"",
            409,
            "another channel",
        ),
        (
            format!("/stats?info_hash={hex}&peer_id={id}"),
            "POST",
            b"not json",
            400,
            "body is not JSON",
        ),
        (
            format!("/stats?info_hash={hex}&peer_id={id}"),
            "POST",
            b"[1]",
            400,
            "JSON object",
        ),
        (
            format!("/stats?info_hash={hex}&peer_id={id}"),
            "POST",
            br#"{"p2p":-5}"#,
            400,
            "p2p must be a number",
        ),
        (
            format!("/stats?info_hash={hex}&peer_id={id}"),
            "POST",
            &[b' '; 5000],
            413,
            "",
        ),
    ];
    for (path, method, body, want, says) in cases {
        let (status, _, reply) = request(s.addr, method, &path, &[], body).await;
        assert_eq!(status, want, "{method} {path}: {reply}");
        if !says.is_empty() {
            let v: serde_json::Value =
                serde_json::from_str(&reply).unwrap_or_else(|_| panic!("{path}: {reply}"));
            assert!(v["error"].as_str().unwrap().contains(says), "{path}: {reply}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_lets_players_on_other_origins_in() {
    let s = start(|_| {}).await;
    let (status, head, _) = request(
        s.addr,
        "OPTIONS",
        "/stats?info_hash=a&peer_id=b",
        &[
            ("Origin", "https://player.example"),
            ("Access-Control-Request-Method", "POST"),
        ],
        b"",
    )
    .await;
    assert_eq!(status, 204);
    assert!(
        head.to_ascii_lowercase()
            .contains("access-control-allow-origin: *"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("access-control-allow-headers: content-type"),
        "{head}"
    );
    let (_, head, _) = request(
        s.addr,
        "GET",
        "/announce?info_hash=a",
        &[("Origin", "https://player.example")],
        b"",
    )
    .await;
    assert!(
        head.to_ascii_lowercase()
            .contains("access-control-allow-origin: *"),
        "{head}"
    );
    // With a list, only the origins on it.
    let only = start(|c| c.live.cors_origins = vec!["https://ok.example".into()]).await;
    let (_, head, _) = request(
        only.addr,
        "GET",
        "/channels",
        &[("Origin", "https://ok.example")],
        b"",
    )
    .await;
    assert!(
        head.to_ascii_lowercase()
            .contains("access-control-allow-origin: https://ok.example"),
        "{head}"
    );
    let (_, head, _) = request(
        only.addr,
        "GET",
        "/channels",
        &[("Origin", "https://evil.example")],
        b"",
    )
    .await;
    assert!(
        !head.to_ascii_lowercase().contains("access-control-allow-origin"),
        "{head}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_viewers_are_dropped_and_announces_are_limited_per_address() {
    let s = start(|c| c.live.announces_per_ip_per_minute = 3).await;
    for _ in 0..3 {
        assert_eq!(get_json(s.addr, "/announce?info_hash=chan").await.0, 200);
    }
    let (status, v) = get_json(s.addr, "/announce?info_hash=chan").await;
    assert_eq!(
        (status, v["error"].as_str()),
        (429, Some("too many announces from your address"))
    );
    assert_eq!(s.app.swarms.lock().unwrap().len(), 3);
    // 2.5 heartbeat intervals of silence (10 s each) and they are gone.
    s.app.expire(Instant::now() + Duration::from_secs(26));
    assert!(s.app.swarms.lock().unwrap().is_empty());
    let (_, channels) = get_json(s.addr, "/channels").await;
    assert_eq!(channels, serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_and_the_demo_are_served() {
    let s = start(|_| {}).await;
    let (status, head, body) = request(s.addr, "GET", "/sdk/nexsuj-p2p.js", &[], b"").await;
    assert_eq!(status, 200);
    assert!(head.contains("text/javascript"), "{head}");
    assert!(body.contains("NexsujP2P"));
    let (status, _, body) = request(s.addr, "GET", "/demo?src=x", &[], b"").await;
    assert_eq!(status, 200);
    assert!(body.contains("/sdk/nexsuj-p2p.js"));
    let (status, _, _) = request(s.addr, "GET", "/sdk/hls.min.js", &[], b"").await;
    assert_eq!(status, 404, "not configured");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
