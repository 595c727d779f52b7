//! The HTTP tracker: announce (BEP 3, 7, 23, 24; passkeys in the query or the path) and
//! scrape (BEP 48), plus `GET /stats` (JSON) and `GET /metrics` (Prometheus).
//!
//! [`router`] gives an axum `Router` that a private site merges into its own, so one port
//! serves pages and tracker; `http_server::serve` runs it with the client address available
//! to handlers (`ConnectInfo<SocketAddr>`) and the limits of [`http_server::ServerLimits`].
//! Requests are answered with status 200 and a bencoded body, a `failure reason` when
//! refused: BitTorrent clients read the body, not the status. `/stats` and `/metrics` answer
//! loopback clients, and others that show the configured bearer token.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use tracker::access::{ListMode, PublicPolicy};
//! use tracker::engine::{CoreConfig, Tracker};
//! use tracker::http::{self, HttpOptions};
//!
//! let policy = Arc::new(PublicPolicy::new(ListMode::Open, None, vec![])?);
//! let tracker = Arc::new(Tracker::new(CoreConfig::default(), policy, None));
//! let stats = Arc::new(tracker::stats::ServerStats::default());
//! let app = http::router(tracker, stats.clone(), HttpOptions::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:6969").await?;
//! let limits = http_server::ServerLimits::default();
//! http_server::serve(listener, app, limits, stats.connections.clone(), std::future::pending()).await?;
//! # Ok(())
//! # }
//! ```

mod client_ip;
mod handlers;
mod metrics_access;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;

pub use client_ip::{Cidr, TrustedProxies};
pub use metrics_access::{MetricsToken, may_read_metrics};

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
    /// Opens `/stats` and `/metrics` to non-loopback clients that show it.
    pub metrics_token: Option<MetricsToken>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            trusted_proxies: TrustedProxies::default(),
            max_scrape: 70,
            warning_message: None,
            tracker_id: None,
            metrics_token: None,
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
/// `/stats` and `/metrics`. Serve it with `http_server::serve` (handlers need the peer
/// address).
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
