//! The standalone node: /stats and /metrics over HTTP, and its state saved at shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use client::dht::{Dht, DhtConfig};
use dht_server::{DhtServerConfig, Ready};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get(addr: SocketAddr, path: &str) -> (String, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    (head.to_owned(), body.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_stats_and_metrics_and_saves_its_state() {
    let dir = testkit::TempDir::new("dht-serve");
    let state = dir.path().join("dht.state");
    let peer = Dht::start(DhtConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..DhtConfig::default()
    })
    .await
    .unwrap();
    let config = DhtServerConfig {
        dht: DhtConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            bootstrap: vec![peer.local_addr().unwrap()],
            query_timeout: Duration::from_millis(500),
            state_file: Some(state.clone()),
            ..DhtConfig::default()
        },
        http: Some("127.0.0.1:0".parse().unwrap()),
    };
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<Ready>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(dht_server::run(
        config,
        move |r| {
            let _ = ready_tx.send(r);
        },
        async move {
            let _ = stop_rx.await;
        },
    ));
    let ready = ready_rx.await.unwrap();
    let http = ready.http.unwrap();
    // The node answers a ping from the peer; the counters say so.
    assert_eq!(peer.ping(ready.udp).await.unwrap(), ready.dht.id());
    let (head, body) = get(http, "/stats").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["id"], ready.dht.id().to_hex());
    assert!(v["queries_in"]["by_method"]["ping"].as_u64().unwrap() >= 1, "{v}");
    assert!(v["table"]["nodes"].is_u64(), "{v}");
    let (head, body) = get(http, "/metrics").await;
    assert!(head.contains("text/plain"), "{head}");
    assert!(
        body.contains("nexsuj_dht_queries_in_total{method=\"ping\"}"),
        "{body}"
    );
    assert!(body.contains("# TYPE nexsuj_dht_table_nodes gauge"), "{body}");
    let (head, _) = get(http, "/nothing").await;
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    stop_tx.send(()).unwrap();
    server.await.unwrap().unwrap();
    let saved = dht::SavedState::decode(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(saved.id, ready.dht.id());
}
