//! The routes, one file per resource. [`ROUTES`] is the one list of them: the router is
//! built from it and `/openapi.json` is written from it, so neither can name a route the
//! other lacks.

mod add;
mod control;
mod data;
mod metrics;
mod openapi;
mod rates;
pub mod stream;
mod ui;

use std::sync::Arc;

use axum::Router;
use axum::routing::{MethodRouter, get, post};

use crate::App;
use crate::error::ApiError;

/// A query parameter of a route: name, description, required.
pub type Param = (&'static str, &'static str, bool);

/// One route: what `/openapi.json` says of it and how to serve it.
pub struct Route {
    /// The path (axum's `{name}` for path parameters).
    pub path: &'static str,
    /// Its methods, lower case.
    pub methods: &'static [&'static str],
    /// What it does.
    pub summary: &'static str,
    /// Its query parameters.
    pub params: &'static [Param],
    /// The media type of its request body, if it takes one.
    pub body: Option<&'static str>,
    /// The media type of its answer.
    pub answer: &'static str,
    /// Whether it needs credentials (the UI's files and its log-in do not).
    pub secured: bool,
    handler: fn() -> MethodRouter<Arc<App>>,
}

const INFOHASH: Param = ("infohash", "The torrent's v1 info-hash, 40 hex digits.", true);
const RATE: Param = ("rate", "KiB/s, 0 = unlimited.", true);
const JSON: &str = "application/json";

macro_rules! route {
    ($path:literal, [$($m:literal),*], $summary:literal, [$($p:expr),*], $body:expr, $answer:expr, $secured:literal, $h:expr) => {
        Route {
            path: $path,
            methods: &[$($m),*],
            summary: $summary,
            params: &[$($p),*],
            body: $body,
            answer: $answer,
            secured: $secured,
            handler: || $h,
        }
    };
}

/// Every route of the daemon.
pub static ROUTES: &[Route] = &[
    route!(
        "/",
        ["get"],
        "The web UI.",
        [],
        None,
        "text/html",
        false,
        get(ui::index)
    ),
    route!(
        "/ui/app.js",
        ["get"],
        "The web UI's script.",
        [],
        None,
        "text/javascript",
        false,
        get(ui::script)
    ),
    route!(
        "/ui/style.css",
        ["get"],
        "The web UI's style sheet.",
        [],
        None,
        "text/css",
        false,
        get(ui::style)
    ),
    route!(
        "/login",
        ["post"],
        "Log the web UI in with the API token ({\"token\"}); sets an HttpOnly SameSite=Strict session cookie and answers {\"csrf\"}, the token to send as X-CSRF-Token with every POST.",
        [],
        Some(JSON),
        JSON,
        false,
        post(crate::auth::login)
    ),
    route!(
        "/csrf",
        ["get"],
        "The web UI session's CSRF token.",
        [],
        None,
        JSON,
        true,
        get(crate::auth::csrf)
    ),
    route!(
        "/logout",
        ["post"],
        "End the web UI session.",
        [],
        None,
        JSON,
        true,
        post(crate::auth::logout)
    ),
    route!(
        "/alldata",
        ["get"],
        "Every torrent (seed 004's sessions). brief=true leaves out bitfields, trackers, peers and files.",
        [("brief", "true: the short form, for lists.", false)],
        None,
        JSON,
        true,
        get(data::all)
    ),
    route!(
        "/torrentdata",
        ["get"],
        "One torrent.",
        [INFOHASH],
        None,
        JSON,
        true,
        get(data::one)
    ),
    route!(
        "/addtorrentfile",
        ["post"],
        "Add a torrent; the body is the .torrent file. Answers {\"infohash\"}.",
        [
            (
                "path",
                "Folder for the data (default: the daemon's download folder).",
                false
            ),
            ("start", "true (default) or false.", false),
            ("maxdown", "Download limit, KiB/s.", false),
            ("maxup", "Upload limit, KiB/s.", false)
        ],
        Some("application/x-bittorrent"),
        JSON,
        true,
        post(add::torrent_file)
    ),
    route!(
        "/addmagnet",
        ["post"],
        "Add a magnet link: {\"url\", \"targetdir\", \"maxdown\", \"maxup\"}. The metadata is fetched in the background. Answers {\"infohash\"}.",
        [],
        Some(JSON),
        JSON,
        true,
        post(add::magnet)
    ),
    route!(
        "/stoptorrent",
        ["get", "post"],
        "Stop a torrent (GET only with the Authorization header).",
        [INFOHASH],
        None,
        JSON,
        true,
        get(control::stop).post(control::stop)
    ),
    route!(
        "/starttorrent",
        ["get", "post"],
        "Start a torrent.",
        [INFOHASH],
        None,
        JSON,
        true,
        get(control::start).post(control::start)
    ),
    route!(
        "/removetorrent",
        ["get", "post"],
        "Remove a torrent, and with delete=true its data.",
        [INFOHASH, ("delete", "true or false (default).", false)],
        None,
        JSON,
        true,
        get(control::remove).post(control::remove)
    ),
    route!(
        "/setdownrate",
        ["get", "post"],
        "A torrent's download limit.",
        [INFOHASH, RATE],
        None,
        JSON,
        true,
        get(rates::down).post(rates::down)
    ),
    route!(
        "/setuprate",
        ["get", "post"],
        "A torrent's upload limit.",
        [INFOHASH, RATE],
        None,
        JSON,
        true,
        get(rates::up).post(rates::up)
    ),
    route!(
        "/setglobaldownrate",
        ["get", "post"],
        "The daemon-wide download limit.",
        [RATE],
        None,
        JSON,
        true,
        get(rates::global_down).post(rates::global_down)
    ),
    route!(
        "/setglobaluprate",
        ["get", "post"],
        "The daemon-wide upload limit.",
        [RATE],
        None,
        JSON,
        true,
        get(rates::global_up).post(rates::global_up)
    ),
    route!(
        "/stream/{infohash}/{index}",
        ["get"],
        "A file of a torrent, while it downloads: HTTP Range requests; the pieces under the range are fetched first and a read waits for them.",
        [],
        None,
        "application/octet-stream",
        true,
        get(stream::file)
    ),
    route!(
        "/metrics",
        ["get"],
        "Prometheus metrics.",
        [],
        None,
        http_server::prometheus::CONTENT_TYPE,
        true,
        get(metrics::metrics)
    ),
    route!(
        "/openapi.json",
        ["get"],
        "This description.",
        [],
        None,
        JSON,
        true,
        get(openapi::document)
    ),
];

/// The router of [`ROUTES`], answering anything else with a JSON 404.
pub fn router() -> Router<Arc<App>> {
    ROUTES
        .iter()
        .fold(Router::new(), |r, route| r.route(route.path, (route.handler)()))
        .fallback(|uri: axum::http::Uri| async move {
            ApiError::NotFound(format!("no such endpoint: {}", uri.path()))
        })
        .method_not_allowed_fallback(|m: axum::http::Method| async move {
            ApiError::MethodNotAllowed(m.to_string())
        })
}
