//! The site's HTTP side: one axum [`Router`] serving the seed's JSON API and the HTML pages.
//!
//! - [`accounts`] — sign-up codes, sign-up, login, logout.
//! - [`catalogue`] — upload and download of torrents.
//! - [`browse`] — list, search, detail.
//! - [`profile`] — profiles and passkey reset.
//! - [`admin`] — moderation.
//! - [`rss`] — the feed.
//! - [`extract`], [`envelope`], [`pages`], [`format`](mod@format): plumbing shared by the handlers.

pub mod accounts;
pub mod admin;
pub mod browse;
pub mod catalogue;
pub mod envelope;
pub mod extract;
pub mod format;
pub mod pages;
pub mod profile;
pub mod rss;

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tracker::accounting::Accumulator;
use tracker::engine::Tracker;
use tracker::http::TrustedProxies;

use crate::auth::csrf::CsrfKey;
use crate::auth::ratelimit::Limits;
use crate::config::SiteConfig;
use crate::db::Db;
use crate::flush::FlushMetrics;
use crate::mail::Mailer;
use crate::policy::SitePolicy;

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    /// Settings.
    pub config: SiteConfig,
    /// The database.
    pub db: Db,
    /// Passkeys and registered torrents, shared with the tracker.
    pub policy: Arc<SitePolicy>,
    /// The tracker (for live swarm counts).
    pub tracker: Arc<Tracker>,
    /// The tracker's accounting sums (for metrics).
    pub accumulator: Arc<Accumulator>,
    /// Outgoing mail.
    pub mailer: Mailer,
    /// Abuse limits.
    pub limits: Limits,
    /// CSRF tokens.
    pub csrf: CsrfKey,
    /// A hash verified when a login names an unknown account.
    pub decoy_hash: String,
    /// Flush counters.
    pub flush_metrics: Arc<FlushMetrics>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (the tracker's `trusted_proxies`).
    pub trusted_proxies: TrustedProxies,
}

/// The site's routes (the tracker's `/announce` and `/scrape` are merged in by the caller).
pub fn router(state: Arc<AppState>) -> Router {
    let upload_limit = state.config.max_torrent_bytes + (256 << 10);
    Router::new()
        .route("/", get(browse::index))
        .route("/signup/code", post(accounts::signup_code))
        .route("/signup", get(accounts::signup_page).post(accounts::signup))
        .route("/login", get(accounts::login_page).post(accounts::login))
        .route("/logout", get(accounts::logout))
        .route("/upload", get(catalogue::upload_page))
        .route(
            "/upload/torrent",
            post(catalogue::upload).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/download/torrent", get(catalogue::download))
        .route("/torrent/{id}", get(browse::detail_page))
        .route("/user/{id}", get(profile::page))
        .route("/passkey/reset", post(profile::reset_passkey))
        .route("/rss", get(rss::feed))
        .route("/admin", get(admin::page))
        .route("/admin/torrent/{id}/delete", post(admin::delete_torrent))
        .route("/admin/torrent/{id}/flags", post(admin::torrent_flags))
        .route("/admin/user/{id}/{action}", post(admin::set_user_state))
        .route("/api/torrents", get(browse::list_json))
        .route("/api/torrents/{id}", get(browse::detail_json))
        .route("/api/profile", get(profile::me_json))
        .route("/api/users/{id}", get(profile::user_json))
        .route("/site/metrics", get(metrics))
        .fallback(browse::not_found)
        .layer(DefaultBodyLimit::max(64 << 10))
        .with_state(state)
}

/// Prometheus lines for the site's side of accounting.
pub fn metrics_text(st: &AppState) -> String {
    let m = &st.flush_metrics;
    let (users, torrents) = st.policy.sizes();
    let seconds = |c: &AtomicU64| Value::Seconds(c.load(Ordering::Relaxed));
    let count = |c: &AtomicU64| Value::Count(c.load(Ordering::Relaxed));
    let lines = [
        (
            "nexsuj_site_flushes_total",
            "Accounting flushes written.",
            "counter",
            count(&m.flushes),
        ),
        (
            "nexsuj_site_flush_rows_total",
            "(user, torrent) rows written.",
            "counter",
            count(&m.rows),
        ),
        (
            "nexsuj_site_flush_failures_total",
            "Flushes that failed and were kept for a retry.",
            "counter",
            count(&m.failures),
        ),
        (
            "nexsuj_site_flush_orphaned_total",
            "Entries dropped because their torrent was deleted.",
            "counter",
            count(&m.orphaned),
        ),
        (
            "nexsuj_site_flush_last_seconds",
            "Duration of the latest flush.",
            "gauge",
            seconds(&m.last_micros),
        ),
        (
            "nexsuj_site_flush_max_seconds",
            "Duration of the longest flush.",
            "gauge",
            seconds(&m.max_micros),
        ),
        (
            "nexsuj_site_flush_seconds_total",
            "Time spent writing flushes.",
            "counter",
            seconds(&m.total_micros),
        ),
        (
            "nexsuj_site_accounting_waiting",
            "Entries waiting for the next flush.",
            "gauge",
            Value::Count(st.accumulator.len() as u64),
        ),
        (
            "nexsuj_site_users_cached",
            "Passkeys known to the tracker.",
            "gauge",
            Value::Count(users as u64),
        ),
        (
            "nexsuj_site_torrents_registered",
            "Torrents known to the tracker.",
            "gauge",
            Value::Count(torrents as u64),
        ),
    ];
    let mut s = String::new();
    for (name, help, kind, v) in lines {
        let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}");
        let _ = match v {
            Value::Count(n) => writeln!(s, "{name} {n}"),
            Value::Seconds(micros) => writeln!(s, "{name} {}.{:06}", micros / 1_000_000, micros % 1_000_000),
        };
    }
    s
}

/// A metric's value: a plain count, or microseconds shown as seconds.
enum Value {
    Count(u64),
    Seconds(u64),
}

async fn metrics(State(st): State<Arc<AppState>>) -> Response {
    let mut resp = metrics_text(&st).into_response();
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    resp
}
