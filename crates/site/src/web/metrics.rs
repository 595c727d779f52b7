//! `GET /site/metrics`: Prometheus lines for the site — accounting flushes, caches, password
//! hashing, and the requests its limits refused.
//!
//! Open to clients on loopback and to holders of `metrics_token`; anyone else gets the 404
//! of an unknown page. "On loopback" is the client as resolved through the trusted proxies,
//! as for the rate limits, not the socket: behind a proxy on this host every socket is.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use http_server::prometheus::{CONTENT_TYPE as PROMETHEUS_TEXT, Exposition, Kind, Seconds};

use super::AppState;
use super::extract::ClientIp;
use crate::auth::secret::ct_eq;
use crate::error::ApiError;

/// Requests refused by the site's limits, by limit.
#[derive(Debug, Default)]
pub struct Refusals {
    /// Uploads refused because `max_concurrent_uploads` were being read.
    pub uploads_busy: AtomicU64,
    /// Logins refused by the per-account or per-address attempt limits.
    pub logins_limited: AtomicU64,
    /// Sign-ups whose code had expired, was used up (its tries spent) or was never sent.
    pub codes_exhausted: AtomicU64,
    /// Reads of `/site/metrics` from outside loopback without the token.
    pub metrics_denied: AtomicU64,
}

impl Refusals {
    /// Counts one refusal.
    pub fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// A metric's value: a plain count, or microseconds shown as seconds.
enum Value {
    Count(u64),
    Seconds(u64),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Self::Count(n) => n.fmt(f),
            Self::Seconds(micros) => Seconds(micros).fmt(f),
        }
    }
}

/// Prometheus lines for the site.
pub fn metrics_text(st: &AppState) -> String {
    let m = &st.flush_metrics;
    let (users, torrents) = st.policy.sizes();
    let hashing = st.passwords.counters();
    let r = &st.refusals;
    let seconds = |c: &AtomicU64| Value::Seconds(c.load(Ordering::Relaxed));
    let count = |c: &AtomicU64| Value::Count(c.load(Ordering::Relaxed));
    let lines = [
        (
            "nexsuj_site_flushes_total",
            "Accounting flushes written.",
            Kind::Counter,
            count(&m.flushes),
        ),
        (
            "nexsuj_site_flush_rows_total",
            "(user, torrent) rows written.",
            Kind::Counter,
            count(&m.rows),
        ),
        (
            "nexsuj_site_flush_failures_total",
            "Flushes that failed and were kept for a retry.",
            Kind::Counter,
            count(&m.failures),
        ),
        (
            "nexsuj_site_flush_orphaned_total",
            "Entries dropped because their torrent was deleted.",
            Kind::Counter,
            count(&m.orphaned),
        ),
        (
            "nexsuj_site_flush_last_seconds",
            "Duration of the latest flush.",
            Kind::Gauge,
            seconds(&m.last_micros),
        ),
        (
            "nexsuj_site_flush_max_seconds",
            "Duration of the longest flush.",
            Kind::Gauge,
            seconds(&m.max_micros),
        ),
        (
            "nexsuj_site_flush_seconds_total",
            "Time spent writing flushes.",
            Kind::Counter,
            seconds(&m.total_micros),
        ),
        (
            "nexsuj_site_accounting_waiting",
            "Entries waiting for the next flush.",
            Kind::Gauge,
            Value::Count(st.accumulator.len() as u64),
        ),
        (
            "nexsuj_site_users_cached",
            "Passkeys known to the tracker.",
            Kind::Gauge,
            Value::Count(users as u64),
        ),
        (
            "nexsuj_site_torrents_registered",
            "Torrents known to the tracker.",
            Kind::Gauge,
            Value::Count(torrents as u64),
        ),
        (
            "nexsuj_site_password_hashes_total",
            "Password hashes and verifications run.",
            Kind::Counter,
            count(&hashing.done),
        ),
        (
            "nexsuj_site_password_hashing_running",
            "Password hashes and verifications running now.",
            Kind::Gauge,
            count(&hashing.running),
        ),
        (
            "nexsuj_site_password_hashing_peak",
            "Most password hashes and verifications that ran at once.",
            Kind::Gauge,
            count(&hashing.peak),
        ),
        (
            "nexsuj_site_password_hashing_busy_total",
            "Logins and sign-ups refused (503) because max_concurrent_hashes were running.",
            Kind::Counter,
            count(&hashing.busy),
        ),
        (
            "nexsuj_site_uploads_busy_total",
            "Uploads refused (503) because max_concurrent_uploads were being read.",
            Kind::Counter,
            count(&r.uploads_busy),
        ),
        (
            "nexsuj_site_logins_limited_total",
            "Logins refused (429) by the per-account or per-address attempt limits.",
            Kind::Counter,
            count(&r.logins_limited),
        ),
        (
            "nexsuj_site_signup_codes_exhausted_total",
            "Sign-ups refused because the code expired, was used up or was never sent.",
            Kind::Counter,
            count(&r.codes_exhausted),
        ),
        (
            "nexsuj_site_metrics_denied_total",
            "Reads of /site/metrics refused (not loopback, no token).",
            Kind::Counter,
            count(&r.metrics_denied),
        ),
    ];
    let mut page = Exposition::new();
    for (name, help, kind, v) in lines {
        page.family(name, help, kind).sample(&[], v);
    }
    page.finish()
}

/// Whether a client may read the metrics: on loopback, or with the configured token.
fn allowed(st: &AppState, client: IpAddr, headers: &HeaderMap) -> bool {
    if client.to_canonical().is_loopback() {
        return true;
    }
    let token = st.config.metrics_token.0.as_bytes();
    !token.is_empty()
        && headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| ct_eq(given.trim().as_bytes(), token))
}

/// `GET /site/metrics`.
pub async fn metrics(
    State(st): State<Arc<AppState>>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
) -> Response {
    if !allowed(&st, client, &headers) {
        Refusals::count(&st.refusals.metrics_denied);
        return ApiError::not_found("page").into_response();
    }
    let mut resp = metrics_text(&st).into_response();
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(PROMETHEUS_TEXT));
    resp
}
