use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use client_api::{App, Daemon, DaemonConfig};
use metainfo::builder::TorrentBuilder;
use serde_json::Value;
use tokio::sync::watch;
use tower::ServiceExt;

pub const TOKEN: &str = "test-token-0123456789";

/// A daemon with its router, stopped by `close`.
pub struct Node {
    pub daemon: Arc<Daemon>,
    pub router: Router,
    stop: watch::Sender<bool>,
    saver: tokio::task::JoinHandle<()>,
}

pub fn config(state: &Path) -> DaemonConfig {
    let mut c = DaemonConfig::default();
    c.storage.state_dir = state.to_path_buf();
    c.peers.peer_addresses = vec!["127.0.0.1".parse().unwrap()];
    c.peers.peer_port = 0;
    c.peers.peer_port_last = 0;
    c.api.max_torrent_file = 64 << 10;
    c.api.login_attempts_per_minute = 5;
    // No DHT unless a test asks: the well-known routers are not reachable here.
    c.peers.dht = false;
    c
}

impl Node {
    pub async fn start(state: &Path) -> Self {
        Self::with(config(state)).await
    }

    pub async fn with(config: DaemonConfig) -> Self {
        let daemon = Daemon::open(&config).await.unwrap();
        let app = Arc::new(App::new(daemon.clone(), &config.api, TOKEN.into(), &[]));
        let router = client_api::app_router(app, config.api.max_torrent_file);
        let (stop, mut rx) = watch::channel(false);
        let saver = tokio::spawn(daemon.clone().keep_saved(Duration::from_secs(60), async move {
            let _ = rx.wait_for(|v| *v).await;
        }));
        Self {
            daemon,
            router,
            stop,
            saver,
        }
    }

    /// Stops every torrent and saves, as a signal would.
    pub async fn close(self) {
        let _ = self.stop.send(true);
        self.saver.await.unwrap();
    }

    pub fn peer_addr(&self) -> SocketAddr {
        self.daemon.session().listen_addrs()[0]
    }

    /// A request with the bearer token.
    pub async fn api(&self, method: Method, uri: &str, body: Vec<u8>) -> (StatusCode, Value) {
        let (s, _, v) = self
            .raw(
                method,
                uri,
                &[("authorization", &format!("Bearer {TOKEN}"))],
                body,
            )
            .await;
        (s, v)
    }

    /// A request with these headers (Host is 127.0.0.1 unless given).
    pub async fn raw(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (StatusCode, HeaderMap, Value) {
        let (s, h, bytes) = self.bytes(method, uri, headers, body).await;
        let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (s, h, v)
    }

    pub async fn bytes(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        let mut req = Request::builder().method(method).uri(uri);
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            req = req.header("host", "127.0.0.1:8090");
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut req = req.body(Body::from(body)).unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        let res = self.router.clone().oneshot(req).await.unwrap();
        let (parts, body) = res.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 30).await.unwrap();
        (parts.status, parts.headers, bytes.to_vec())
    }

    /// `POST /addmagnet` with this JSON body.
    pub async fn add_magnet(&self, body: Value) -> (StatusCode, Value) {
        let (s, _, v) = self
            .raw(
                Method::POST,
                "/addmagnet",
                &[
                    ("authorization", &format!("Bearer {TOKEN}")),
                    ("content-type", "application/json"),
                ],
                body.to_string().into_bytes(),
            )
            .await;
        (s, v)
    }

    /// Polls `/torrentdata` until `ready` holds for it (the API has no push; the wait is
    /// bounded so a broken transfer fails the test instead of hanging it).
    pub async fn wait_for(&self, hash: &str, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let (s, v) = self
                .api(Method::GET, &format!("/torrentdata?infohash={hash}"), vec![])
                .await;
            if s == StatusCode::OK && ready(&v) {
                return v;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}: {v}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Writes a two-file folder under `dir` and returns (.torrent bytes, info-hash hex, files).
pub fn make_torrent(dir: &Path, name: &str, sizes: &[usize]) -> (Vec<u8>, String, Vec<PathBuf>) {
    let files: Vec<(String, usize)> = sizes
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("{name}/file{i}.bin"), *s))
        .collect();
    let refs: Vec<(&str, usize)> = files.iter().map(|(n, s)| (n.as_str(), *s)).collect();
    let paths = testkit::write_files(dir, &refs);
    let bytes = TorrentBuilder::new(dir.join(name))
        .piece_length(Some(32 * 1024))
        .creation_date(None)
        .build(&|_| {})
        .unwrap();
    let hash = metainfo::Torrent::from_bytes(&bytes)
        .unwrap()
        .info_hash_v1()
        .unwrap()
        .to_hex();
    (bytes, hash, paths)
}
