//! A server on port 0 with a few routes, and blocking clients.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::routing::{get, post};
use http_server::{ServerCounters, ServerLimits};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

/// The size of `GET /big`: more than loopback's socket buffers hold.
pub const BIG: usize = 64 << 20;

/// A running server.
pub struct TestServer {
    pub addr: SocketAddr,
    pub counters: Arc<ServerCounters>,
    /// Notified when `/upload` starts reading its body.
    pub upload_started: Arc<Notify>,
    stop: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    pub async fn start(limits: ServerLimits) -> Self {
        let upload_started = Arc::new(Notify::new());
        let started = upload_started.clone();
        let app = Router::new()
            .route("/", get(|| async { "hi" }))
            .route(
                "/me",
                get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
            )
            .route("/big", get(|| async { vec![b'x'; BIG] }))
            .route(
                "/buffered",
                post(|body: Bytes| async move { body.len().to_string() }),
            )
            .route(
                "/upload",
                post(move |body: Body| {
                    let started = started.clone();
                    async move {
                        started.notify_one();
                        match axum::body::to_bytes(body, usize::MAX).await {
                            Ok(b) => b.len().to_string(),
                            Err(e) => e.to_string(),
                        }
                    }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let counters = Arc::new(ServerCounters::default());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(http_server::serve(
            listener,
            app,
            limits,
            counters.clone(),
            async {
                let _ = stopped.await;
            },
        ));
        Self {
            addr,
            counters,
            upload_started,
            stop: Some(stop),
            task,
        }
    }

    /// Asks the server to stop.
    pub fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Limits with every timeout long, to change one at a time.
pub fn patient() -> ServerLimits {
    let hour = Duration::from_secs(3600);
    ServerLimits {
        header_read_timeout: hour,
        body_read_timeout: hour,
        idle_timeout: hour,
        shutdown_grace: hour,
        ..ServerLimits::default()
    }
}

/// `GET path` on a fresh connection from the given local address; the whole response.
pub fn get_from(local: std::net::IpAddr, addr: SocketAddr, path: &str) -> String {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.bind(&SocketAddr::new(local, 0).into()).unwrap();
    socket.connect(&addr.into()).unwrap();
    let mut s: TcpStream = socket.into();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// Runs blocking client code off the runtime.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

/// Whether the server has closed `s`: a read that ends (EOF or reset) rather than times out.
pub fn is_closed(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return false;
            }
            Err(_) => return true,
        }
    }
}

/// Waits until `done` holds, checking every few milliseconds, for a condition that has no
/// event to wait on (a counter in another task); fails after 20 seconds.
pub async fn wait_until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..2000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting until {what}");
}
