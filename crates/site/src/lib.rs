//! The nexsuj private-tracker site (seed 000): accounts with e-mailed sign-up codes,
//! sessions, passkeys, a torrent catalogue with upload and download rewriting, ratio
//! accounting fed by the tracker in batches, server-rendered pages and the seed's JSON API
//! (`{code, message, body}`), on SQLite or PostgreSQL.
//!
//! - [`run`]: `nexsuj serve` as a library — the site and its tracker on the addresses of a
//!   [`ServeConfig`] until a shutdown future completes, then a graceful stop that flushes.
//! - [`Site`]: opens the database (migrating it), builds the tracker with the site's
//!   [`policy::SitePolicy`] (passkeys and registered torrents, from memory) and the
//!   accounting accumulator, serves [`Site::router`] and runs the flush in the background.
//! - [`flush`]: the accounting flush (one transaction every few seconds, retried on error).
//! - [`torrent_file`]: upload rewrite (`private=1`, `source`) and download rewrite (personal
//!   announce URL, BEP 12 list, `info` bytes verbatim).
//! - [`admin`]: naming admins (the operator's `nexsuj admin grant EMAIL`).
//! - [`domain`]: the rules of uploads, sign-ups and passkeys, as services the [`web`]
//!   handlers call.
//! - [`db`], [`auth`], [`mail`], [`web`], [`config`], [`error`]: the parts.
//!
//! ```
//! let torrent = b"d4:infod6:lengthi3e4:name5:a.txt12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAAee";
//! let prepared = site::torrent_file::prepare_upload(torrent, "nexsuj").unwrap();
//! let t = metainfo::Torrent::from_bytes(&site::torrent_file::download_bytes(&prepared.info, "http://x/announce", &[]))
//!     .unwrap();
//! assert!(t.info.private);
//! assert_eq!(t.info.source.as_deref(), Some("nexsuj"));
//! ```

pub mod admin;
pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod flush;
pub mod mail;
pub mod policy;
mod serve;
pub mod sync;
pub mod torrent_file;
pub mod web;

pub use serve::{ServeConfig, run};

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::sync::watch;
use tracker::accounting::Accumulator;
use tracker::engine::{CoreConfig, Tracker};
use tracker::http::TrustedProxies;

use crate::auth::csrf::CsrfKey;
use crate::auth::password::Passwords;
use crate::auth::ratelimit::Limits;
use crate::auth::secret::{hex, random_bytes};
use crate::config::SiteConfig;
use crate::db::{Db, codes, sessions, torrents, users};
use crate::error::SiteError;
use crate::flush::Flusher;
use crate::mail::Mailer;
use crate::policy::SitePolicy;
use crate::web::AppState;

/// The site: database, tracker, policy, accounting and web routes, ready to serve.
#[derive(Debug, Clone)]
pub struct Site {
    state: Arc<AppState>,
    config: Arc<SiteConfig>,
    flusher: Flusher,
    /// This instance's cache changes, for [`sync`] to send (PostgreSQL only; taken by the
    /// first `run_background`).
    outbox: Arc<std::sync::Mutex<Option<tokio::sync::mpsc::Receiver<sync::Change>>>>,
}

impl Site {
    /// Opens the site with the database named by the configuration (SQLite under the data
    /// directory by default), creating the data directory if needed. `proxies`: the reverse
    /// proxies whose `X-Forwarded-For` names the client (the tracker's `trusted_proxies`).
    pub async fn open(
        config: SiteConfig,
        core: CoreConfig,
        proxies: TrustedProxies,
    ) -> Result<Self, SiteError> {
        let data_dir = &config.storage.data_dir;
        std::fs::create_dir_all(data_dir).map_err(|source| SiteError::Io {
            path: data_dir.display().to_string(),
            source,
        })?;
        let db = Db::connect(
            &config.effective_database_url(),
            config.storage.database_connections,
            None,
        )
        .await?;
        Self::with_db(config, core, proxies, db).await
    }

    /// Opens the site on an already connected database (migrating it).
    pub async fn with_db(
        config: SiteConfig,
        core: CoreConfig,
        proxies: TrustedProxies,
        db: Db,
    ) -> Result<Self, SiteError> {
        db.migrate().await?;
        let fresh = hex(&random_bytes::<32>()?);
        let key = db.setting_or_insert("csrf_key", &fresh).await?;
        let key = ids::hex::decode::<32>(&key)
            .ok_or_else(|| SiteError::Config("stored csrf_key is not 64 hex digits".into()))?;
        let policy = Arc::new(SitePolicy::new());
        let accumulator = Arc::new(Accumulator::new(config.accounting.accounting_queue.max(1)));
        let shared = core.shared.clone();
        let mut tracker = Tracker::new(core, policy.clone(), Some(accumulator.clone()));
        if let Some(shared) = &shared {
            tracker = tracker
                .with_shared_store(shared)
                .map_err(|e| SiteError::Config(e.to_string()))?;
        }
        let tracker = Arc::new(tracker);
        let flusher = Flusher::new(db.clone(), accumulator.clone(), policy.clone(), tracker.clone());
        let state = Arc::new(AppState {
            mailer: Mailer::from_config(&config)?,
            passwords: Passwords::new(config.limits.max_concurrent_hashes).await?,
            limits: Limits::new(&config.limits),
            refusals: web::metrics::Refusals::default(),
            csrf: CsrfKey::new(key),
            flush_metrics: flusher.metrics().clone(),
            trusted_proxies: proxies,
            config: config.web.clone(),
            db,
            policy,
            tracker,
            accumulator,
        });
        let outbox = state.db.listen_url().map(|_| {
            let (tx, rx) = tokio::sync::mpsc::channel(sync::OUTBOX);
            state.policy.set_outbox(tx);
            rx
        });
        let site = Self {
            state,
            config: Arc::new(config),
            flusher,
            outbox: Arc::new(std::sync::Mutex::new(outbox)),
        };
        site.reload().await?;
        Ok(site)
    }

    /// The site's routes (pages and JSON API). Merge the tracker's routes into it to serve
    /// both on one port.
    pub fn router(&self) -> Router {
        web::router(self.state.clone())
    }

    /// The tracker the site feeds (give it to the HTTP and UDP tracker servers).
    pub fn tracker(&self) -> &Arc<Tracker> {
        &self.state.tracker
    }

    /// The tracker's view of users and torrents.
    pub fn policy(&self) -> &Arc<SitePolicy> {
        &self.state.policy
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// The settings in force.
    pub fn config(&self) -> &SiteConfig {
        &self.config
    }

    /// The password hashing pool (its counters; at most `max_concurrent_hashes` slots).
    pub fn passwords(&self) -> &Passwords {
        &self.state.passwords
    }

    /// The accounting flusher (for a flush on demand, in tests and at shutdown).
    pub fn flusher(&self) -> &Flusher {
        &self.flusher
    }

    /// Prometheus lines for the site's accounting (to append to the tracker's `/metrics`).
    pub fn metrics_text(&self) -> String {
        web::metrics_text(&self.state)
    }

    /// Reloads the passkey and torrent caches from the database; false if a concurrent
    /// change made the snapshot stale (the next reload catches up).
    pub async fn reload(&self) -> Result<bool, SiteError> {
        let generation = self.state.policy.generation();
        let users = users::all_passkeys(&self.state.db).await?;
        let torrents = torrents::all_registered(&self.state.db).await?;
        Ok(self.state.policy.load(generation, users, torrents))
    }

    /// Runs the background work until `shutdown` turns true: the accounting flush every
    /// `flush_interval_secs` (and a last one at the end), cache reloads and the purge of
    /// expired codes and sessions. Peer expiry is the tracker service's sweep, not this.
    pub async fn run_background(&self, mut shutdown: watch::Receiver<bool>) {
        let accounting = &self.config.accounting;
        let interval = Duration::from_secs(accounting.flush_interval_secs.max(1));
        let mut stop = shutdown.clone();
        let shutdown_sync = shutdown.clone();
        let flush = self.flusher.clone().run(interval, async move {
            let _ = stop.wait_for(|s| *s).await;
        });
        let maintenance = async {
            let every = Duration::from_secs(accounting.cache_reload_secs.clamp(5, 3600));
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => self.maintain().await,
                    () = async { let _ = shutdown.wait_for(|s| *s).await; } => break,
                }
            }
        };
        let outbox = self.outbox.lock().unwrap_or_else(|e| e.into_inner()).take();
        let sync = async {
            if let Some(outbox) = outbox {
                self.sync_caches(outbox, shutdown_sync).await;
            }
        };
        tokio::join!(flush, maintenance, sync);
    }

    async fn maintain(&self) {
        if let Err(e) = self.reload().await {
            tracing::warn!(error = %e, "cache reload failed; keeping the old caches");
        }
        let purged = async {
            let c = codes::purge_expired(&self.state.db).await?;
            let s = sessions::purge_expired(&self.state.db).await?;
            Ok::<_, SiteError>(c + s)
        };
        if let Err(e) = purged.await {
            tracing::warn!(error = %e, "purging expired codes and sessions failed");
        }
    }
}
