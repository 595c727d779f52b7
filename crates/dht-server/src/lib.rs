//! `nexsuj dht serve`: a DHT node on its own. It joins the network, answers queries, keeps
//! its table fresh and saves it between runs; with an HTTP address it also serves `/stats`
//! (JSON) and `/metrics` (Prometheus). The node is the client's [`client::dht::Dht`]; the
//! command only parses flags and calls [`run`].
//!
//! [`stats`] writes the counters for this server and for the client daemon's `/metrics`.

pub mod stats;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use client::dht::{Dht, DhtConfig};
use http_server::{ServerCounters, ServerLimits};

/// How the node runs.
#[derive(Debug, Clone, Default)]
pub struct DhtServerConfig {
    /// The node.
    pub dht: DhtConfig,
    /// Where `/stats` and `/metrics` are served (none by default; loopback unless configured
    /// otherwise by whoever passes it).
    pub http: Option<SocketAddr>,
}

/// What a caller of [`run`] learns once the node listens.
#[derive(Debug, Clone)]
pub struct Ready {
    /// The UDP address of the node.
    pub udp: SocketAddr,
    /// Where `/stats` and `/metrics` are, if served.
    pub http: Option<SocketAddr>,
    /// The node.
    pub dht: Dht,
}

/// Why the node could not run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The UDP socket cannot be bound.
    #[error("binding the DHT socket {addr}")]
    Udp {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP address cannot be bound.
    #[error("listening on {addr}")]
    Http {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP server failed.
    #[error("serving /stats")]
    Serve(#[source] std::io::Error),
}

/// The `/stats` and `/metrics` routes over `dht`.
pub fn router(dht: Dht, counters: Arc<ServerCounters>) -> Router {
    Router::new()
        .route("/stats", get(stats_handler))
        .route("/metrics", get(metrics_handler))
        .with_state((dht, counters))
}

async fn stats_handler(State((dht, _)): State<(Dht, Arc<ServerCounters>)>) -> impl IntoResponse {
    axum::Json(stats::json(&dht))
}

async fn metrics_handler(State((dht, counters)): State<(Dht, Arc<ServerCounters>)>) -> impl IntoResponse {
    let mut out = http_server::prometheus::Exposition::new();
    stats::write_metrics(&dht, &mut out);
    counters.write_prometheus("nexsuj_dht_http", &mut out);
    (
        [(header::CONTENT_TYPE, http_server::prometheus::CONTENT_TYPE)],
        out.finish(),
    )
}

/// Runs the node until `shutdown`: bootstraps in the background, serves HTTP if asked, logs
/// its table and counters every minute, and saves its state at the end.
pub async fn run(
    config: DhtServerConfig,
    ready: impl FnOnce(Ready),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    let addr = config.dht.listen;
    let dht = Dht::start(config.dht)
        .await
        .map_err(|source| RunError::Udp { addr, source })?;
    let udp = dht
        .local_addr()
        .map_err(|source| RunError::Udp { addr, source })?;
    let http = match config.http {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| RunError::Http { addr, source })?,
        ),
        None => None,
    };
    let http_addr = match &http {
        Some(l) => Some(
            l.local_addr()
                .map_err(|source| RunError::Http { addr: udp, source })?,
        ),
        None => None,
    };
    let joining = dht.clone();
    let bootstrap = tokio::spawn(async move {
        let size = joining.bootstrap().await;
        tracing::info!(table = size, "DHT node joined");
    });
    ready(Ready {
        udp,
        http: http_addr,
        dht: dht.clone(),
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let server = http.map(|listener| {
        let counters = Arc::new(ServerCounters::default());
        let app = http_server::trace_requests(router(dht.clone(), counters.clone()));
        let mut stop = stop_rx.clone();
        tokio::spawn(http_server::serve(
            listener,
            app,
            ServerLimits::default(),
            counters,
            async move {
                let _ = stop.wait_for(|s| *s).await;
            },
        ))
    });
    let mut every = tokio::time::interval(Duration::from_secs(60));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            _ = every.tick() => {
                let (peers, torrents) = dht.stored();
                tracing::info!(table = dht.table_size(), peers, torrents, stats = ?dht.stats(), "dht");
            }
        }
    }
    bootstrap.abort();
    let _ = stop_tx.send(true);
    if let Err(e) = dht.save().await {
        tracing::warn!(error = %e, "cannot save the DHT state");
    }
    if let Some(s) = server {
        match s.await {
            Ok(r) => r.map_err(RunError::Serve)?,
            Err(e) => tracing::warn!(error = %e, "the HTTP task ended badly"),
        }
    }
    Ok(())
}
