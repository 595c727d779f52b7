//! Live P2P streaming (seed 001): browsers watching the same HLS stream fetch its segments
//! from each other over WebRTC data channels, and from the origin only what peers cannot give
//! in time. This crate is the tracker they meet at, the signaling that connects them, and the
//! browser SDK they run.
//!
//! - [`peer`], [`datachannel`]: ids, and the data-channel messages as a pure module (the
//!   SDK mirrors it);
//! - [`swarm`]: seed 001's channels (pure: time and randomness are parameters);
//! - [`signal`]: the WebRTC signaling relay; [`webtorrent`]: the WebTorrent tracker protocol;
//! - [`http`], [`ws`], [`metrics`]: the handlers; [`run`]: the server until `shutdown`.

pub mod app;
pub mod config;
pub mod datachannel;
pub mod http;
pub mod metrics;
pub mod peer;
pub mod signal;
pub mod swarm;
pub mod webtorrent;
pub mod ws;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use http_server::{ServerCounters, ServerLimits};

pub use app::App;
pub use config::{LiveConfig, LiveSection};

/// The browser SDK.
pub const SDK_JS: &str = include_str!("../sdk/nexsuj-p2p.js");
/// The demo page.
pub const DEMO_HTML: &str = include_str!("../sdk/demo.html");

/// What a caller of [`run`] learns once the server listens.
#[derive(Debug, Clone)]
pub struct Ready {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state (tests and benchmarks look inside).
    pub app: Arc<App>,
}

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The address cannot be bound.
    #[error("listening on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP server failed.
    #[error("serving")]
    Serve(#[source] std::io::Error),
}

async fn sdk() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], SDK_JS)
}

async fn demo() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        DEMO_HTML,
    )
}

async fn hls_js(axum::extract::State(app): axum::extract::State<Arc<App>>) -> axum::response::Response {
    let Some(path) = app.config.hls_js.clone() else {
        return http::Refusal(
            axum::http::StatusCode::NOT_FOUND,
            "hls_js is not configured".into(),
        )
        .into_response();
    };
    match tokio::task::spawn_blocking(move || std::fs::read(path)).await {
        Ok(Ok(bytes)) => ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], bytes).into_response(),
        _ => http::Refusal(axum::http::StatusCode::NOT_FOUND, "hls_js cannot be read".into()).into_response(),
    }
}

/// Every route, with CORS, over `app`.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/announce", get(http::announce))
        .route("/get_peers", get(http::get_peers))
        .route("/heartbeat", get(http::heartbeat))
        .route("/stats", axum::routing::post(http::stats))
        .route("/channels", get(http::channels))
        .route("/metrics", get(metrics::metrics))
        .route("/signal", get(ws::signal))
        .route("/webtorrent", get(ws::webtorrent))
        .route("/sdk/nexsuj-p2p.js", get(sdk))
        .route("/sdk/hls.min.js", get(hls_js))
        .route("/demo", get(demo))
        .layer(axum::extract::DefaultBodyLimit::max(http::MAX_STATS_BODY))
        .layer(axum::middleware::from_fn_with_state(app.clone(), http::cors))
        .with_state(app)
}

/// Runs the tracker until `shutdown`: serves every route and, once a second, drops viewers,
/// offers and WebTorrent peers past their time.
pub async fn run(
    config: LiveConfig,
    ready: impl FnOnce(Ready),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    let addr = config.live.live_address;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| RunError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| RunError::Bind { addr, source })?;
    let app = App::new(config.live);
    let sweeper = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                app.expire(Instant::now());
            }
        })
    };
    ready(Ready {
        addr: bound,
        app: app.clone(),
    });
    let counters = Arc::new(ServerCounters::default());
    // An upgraded connection keeps its HTTP connection slot while its WebSocket lives: the
    // server's caps must leave room for the sockets the live caps allow.
    let defaults = ServerLimits::default();
    let limits = ServerLimits {
        max_connections: defaults.max_connections.max(app.config.max_sockets + 1024),
        max_connections_per_ip: defaults
            .max_connections_per_ip
            .max(app.config.max_sockets_per_ip + 256),
        ..defaults
    };
    let served = http_server::serve(
        listener,
        http_server::trace_requests(router(app)),
        limits,
        counters,
        shutdown,
    )
    .await;
    sweeper.abort();
    served.map_err(RunError::Serve)
}
