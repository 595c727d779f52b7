//! The HTTP tracker: announce (BEP 3, 7, 23, 24; passkeys in the query or the path) and
//! scrape (BEP 48), plus `GET /stats` (JSON) and `GET /metrics` (Prometheus).
//!
//! [`router`] gives an axum `Router` that a private site merges into its own, so one port
//! serves pages and tracker; [`serve`] runs a router with the client address available to
//! handlers (`ConnectInfo<SocketAddr>`), a connection limit and graceful shutdown. Requests
//! are answered with status 200 and a bencoded body, a `failure reason` when refused:
//! BitTorrent clients read the body, not the status.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use std::sync::Arc;
//! use tracker::access::{ListMode, PublicPolicy};
//! use tracker::engine::{CoreConfig, Tracker};
//! use tracker::http::{self, HttpOptions};
//!
//! let policy = Arc::new(PublicPolicy::new(ListMode::Open, None, vec![])?);
//! let tracker = Arc::new(Tracker::new(CoreConfig::default(), policy, None));
//! let app = http::router(tracker, Default::default(), HttpOptions::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:6969").await?;
//! http::serve(listener, app, 10_000, std::future::pending()).await
//! # }
//! ```

mod client_ip;
mod handlers;
mod listener;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use axum::serve::ListenerExt;

pub use client_ip::{Cidr, TrustedProxies};
pub use listener::{LimitedListener, LimitedStream};

use crate::engine::Tracker;
use crate::stats::ServerStats;

/// What the HTTP server needs besides the tracker.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
    /// Most info-hashes in one scrape.
    pub max_scrape: usize,
    /// A `warning message` sent with every successful announce (maintenance notices).
    pub warning_message: Option<String>,
    /// A `tracker id` sent with every successful announce.
    pub tracker_id: Option<String>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            trusted_proxies: TrustedProxies::default(),
            max_scrape: 70,
            warning_message: None,
            tracker_id: None,
        }
    }
}

/// Shared by the handlers.
#[derive(Debug)]
pub(crate) struct HttpState {
    pub(crate) tracker: Arc<Tracker>,
    pub(crate) stats: Arc<ServerStats>,
    pub(crate) options: HttpOptions,
}

/// The tracker's routes: `/announce`, `/announce/{passkey}`, `/scrape`, `/scrape/{passkey}`,
/// `/stats` and `/metrics`. Serve it with [`serve`] (handlers need the peer address).
pub fn router(tracker: Arc<Tracker>, stats: Arc<ServerStats>, options: HttpOptions) -> Router {
    let state = Arc::new(HttpState {
        tracker,
        stats,
        options,
    });
    Router::new()
        .route("/announce", get(handlers::announce))
        .route("/announce/{passkey}", get(handlers::announce_with_passkey))
        .route("/scrape", get(handlers::scrape))
        .route("/scrape/{passkey}", get(handlers::scrape_with_passkey))
        .route("/stats", get(handlers::stats))
        .route("/metrics", get(handlers::metrics))
        .with_state(state)
}

/// Serves `app` on `listener` with at most `max_connections` open at once until `shutdown`
/// completes, then lets requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    max_connections: usize,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // `tap_io` makes the listener's `SocketAddr` available as `ConnectInfo<SocketAddr>`.
    let listener = LimitedListener::new(listener, max_connections).tap_io(|_| ());
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
