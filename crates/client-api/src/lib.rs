//! The nexsuj client daemon: seed 004's HTTP API (GoTorrentServer's endpoints and JSON, with
//! `Authorization` and `/addmagnet`, which it left unimplemented), global limits, a web UI,
//! streaming with HTTP Range, Prometheus metrics and an OpenAPI description.
//!
//! - [`daemon::Daemon`]: the one facade the handlers use — the engine plus stopped torrents,
//!   magnets still resolving, limits in KiB/s, lifetime totals, and the state folder
//!   (`./nexsuj-daemon/` by default) that makes them survive a restart or `kill -9`.
//! - [`routes`]: one file per resource; [`routes::ROUTES`] builds both the router and
//!   `/openapi.json`.
//! - [`auth`]: Host check against DNS rebinding, bearer token, the UI's cookie + CSRF token.
//! - [`run`]: the server, until `shutdown`; the `nexsuj daemon` command only parses flags.

pub mod auth;
pub mod config;
pub mod daemon;
pub mod error;
pub mod params;
pub mod routes;
pub mod view;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use http_server::{ServerCounters, ServerLimits};

pub use config::DaemonConfig;
pub use daemon::Daemon;

/// What the handlers share.
#[derive(Debug)]
pub struct App {
    /// The torrents and the engine.
    pub daemon: Arc<Daemon>,
    /// Credentials.
    pub auth: auth::Auth,
    /// The `[api]` settings.
    pub config: config::ApiSection,
    /// The HTTP server's counters, for `/metrics`.
    pub counters: Arc<ServerCounters>,
}

impl App {
    /// The handlers' state for `daemon`, checking credentials against `token` and Host
    /// headers against `api.api_hosts` and `extra_hosts`.
    pub fn new(daemon: Arc<Daemon>, api: &config::ApiSection, token: String, extra_hosts: &[String]) -> Self {
        let hosts: Vec<String> = api.api_hosts.iter().chain(extra_hosts).cloned().collect();
        Self {
            daemon,
            auth: auth::Auth::new(token, &hosts, api.max_ui_sessions, api.login_attempts_per_minute),
            config: api.clone(),
            counters: Arc::new(ServerCounters::default()),
        }
    }
}

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The state folder cannot be used.
    #[error("state folder {}", path.display())]
    State {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The engine could not start (no port to listen on for peers).
    #[error("starting the engine")]
    Engine(#[from] client::ClientError),
    /// The API's address cannot be bound.
    #[error("listening on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP server failed.
    #[error("serving the API")]
    Serve(#[source] std::io::Error),
    /// A setting has a value it cannot take.
    #[error("setting {key}: {why}")]
    Setting {
        /// The key.
        key: &'static str,
        /// What is wrong.
        why: String,
    },
}

/// What a caller of [`run`] learns once the daemon listens.
#[derive(Debug)]
pub struct Ready {
    /// Where the API listens.
    pub api: SocketAddr,
    /// Where peers reach us.
    pub peers: Vec<SocketAddr>,
    /// The API token, when it was just created (show it once; it is also in `token_file`).
    pub new_token: Option<String>,
    /// Where the token is kept (unless it is configured).
    pub token_file: PathBuf,
}

/// The router with its middleware, over `app`.
pub fn app_router(app: Arc<App>, max_body: usize) -> axum::Router {
    routes::router()
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(app.clone(), auth::guard))
        .with_state(app)
}

/// Runs the daemon until `shutdown`: opens the state, resumes the torrents, serves the API;
/// at the end stops every torrent (resume state saved) and saves the daemon's state.
pub async fn run(
    config: DaemonConfig,
    ready: impl FnOnce(Ready),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    let daemon = Daemon::open(&config).await?;
    let (token, created) = daemon
        .token(config.api.api_token.as_ref().map(|t| t.0.as_str()))
        .map_err(|e| RunError::State {
            path: daemon.state_dir().to_path_buf(),
            source: e,
        })?;
    let new_token = created.then(|| token.clone());
    let addr = config.api.api_address;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| RunError::Bind { addr, source })?;
    // The address we listen on is a name the API answers to.
    let bound: Vec<String> = listener
        .local_addr()
        .ok()
        .filter(|a| !a.ip().is_unspecified())
        .map(|a| a.ip().to_string())
        .into_iter()
        .collect();
    let app = Arc::new(App::new(daemon.clone(), &config.api, token, &bound));
    let counters = app.counters.clone();
    let router = http_server::trace_requests(app_router(app, config.api.max_torrent_file));
    ready(Ready {
        api: listener.local_addr().unwrap_or(addr),
        peers: daemon.session().listen_addrs().to_vec(),
        new_token: created.then_some(new_token).flatten(),
        token_file: daemon::store::token_path(daemon.state_dir()),
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let saver = tokio::spawn(daemon.clone().keep_saved(
        Duration::from_secs(config.storage.save_interval.max(1).into()),
        wait(stop_rx.clone()),
    ));
    let limits = ServerLimits {
        max_connections: 256,
        max_connections_per_ip: 64,
        // A video player pauses reading a stream while its buffer is full.
        idle_timeout: Duration::from_secs(300),
        ..ServerLimits::default()
    };
    let served = http_server::serve(listener, router, limits, counters, async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    })
    .await;
    let _ = saver.await;
    served.map_err(RunError::Serve)
}

async fn wait(mut rx: tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await;
}
