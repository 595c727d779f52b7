//! A live tracker on loopback, and a minimal HTTP client.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use live::{App, LiveConfig, Ready};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A running tracker.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state.
    pub app: Arc<App>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Starts a tracker on loopback, with settings tuned by `tune`.
pub async fn start(tune: impl FnOnce(&mut LiveConfig)) -> Server {
    let mut config = LiveConfig::default();
    config.live.live_address = "127.0.0.1:0".parse().unwrap();
    tune(&mut config);
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<Ready>();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(live::run(
        config,
        move |r| {
            let _ = ready_tx.send(r);
        },
        async move {
            let _ = stopped.await;
        },
    ));
    let ready = ready_rx.await.unwrap();
    Server {
        addr: ready.addr,
        app: ready.app,
        _stop: stop,
    }
}

/// One request; (status, headers, body).
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let out = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    (status, head.to_owned(), body.to_owned())
}

/// A GET and its JSON.
pub async fn get_json(addr: SocketAddr, path: &str) -> (u16, Value) {
    let (status, _, body) = request(addr, "GET", path, &[], b"").await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}
