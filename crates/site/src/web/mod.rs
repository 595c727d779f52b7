//! The site's HTTP side: one axum [`Router`] serving the seed's JSON API and the HTML pages.
//!
//! - [`accounts`] — sign-up codes and sign-up.
//! - [`session`] — login and logout.
//! - [`catalogue`] — upload and download of torrents.
//! - [`browse`] — list, search, detail.
//! - [`profile`] — profiles and passkey reset.
//! - [`admin`] — moderation.
//! - [`rss`] — the feed.
//! - [`metrics`] — `/site/metrics` and the refusal counters.
//! - [`respond`] — the one place where a reply's form (page or JSON) is chosen.
//! - [`extract`], [`envelope`], [`pages`], [`format`](mod@format): plumbing shared by the handlers.
//!
//! The rules of uploads, sign-ups and passkeys are in [`crate::domain`]; the handlers here
//! read a request, call a service and answer through a [`respond::Responder`].

pub mod accounts;
pub mod admin;
pub mod browse;
pub mod catalogue;
pub mod envelope;
pub mod extract;
pub mod format;
pub mod metrics;
pub mod pages;
pub mod profile;
pub mod respond;
pub mod rss;
pub mod session;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderValue;
use axum::http::header::CACHE_CONTROL;
use axum::middleware::map_response;
use axum::response::Response;
use axum::routing::{get, post};
use tracker::accounting::Accumulator;
use tracker::engine::Tracker;
use tracker::http::TrustedProxies;

use crate::auth::csrf::CsrfKey;
use crate::auth::password::Passwords;
use crate::auth::ratelimit::Limits;
use crate::config::WebSection;
use crate::db::Db;
use crate::flush::FlushMetrics;
use crate::mail::Mailer;
use crate::policy::SitePolicy;

pub use metrics::metrics_text;

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    /// Settings.
    pub config: WebSection,
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
    /// What the limits refused.
    pub refusals: metrics::Refusals,
    /// CSRF tokens.
    pub csrf: CsrfKey,
    /// Password hashing, bounded.
    pub passwords: Passwords,
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
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", get(session::logout_page).post(session::logout))
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
        .route("/site/metrics", get(metrics::metrics))
        .fallback(browse::not_found)
        .layer(DefaultBodyLimit::max(64 << 10))
        .layer(map_response(no_store_by_default))
        .with_state(state)
}

/// Every answer of the site is personal or may be (passkeys in downloads, profiles and
/// feeds; session and CSRF cookies), so none may be kept by a browser or a shared cache
/// unless its handler says otherwise.
async fn no_store_by_default(mut resp: Response) -> Response {
    resp.headers_mut()
        .entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    resp
}
