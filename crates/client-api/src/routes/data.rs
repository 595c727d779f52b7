//! `/alldata` and `/torrentdata`: seed 004's views of the torrents.

use std::sync::Arc;
use std::time::SystemTime;

use axum::Json;
use axum::extract::{RawQuery, State};
use serde::Serialize;

use crate::App;
use crate::error::ApiResult;
use crate::params::Params;
use crate::view::{SessionJson, utc};

/// `/alldata`'s answer.
#[derive(Serialize)]
pub struct AllData {
    time: String,
    /// Ours: the daemon's download rate, KiB/s.
    downrate: f64,
    /// Ours: the daemon's upload rate, KiB/s.
    uprate: f64,
    /// Ours: the global download limit, KiB/s (0 = none).
    maxdown: u64,
    /// Ours: the global upload limit, KiB/s (0 = none).
    maxup: u64,
    sessions: Vec<SessionJson>,
}

/// `GET /alldata[?brief=true]`.
pub async fn all(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> ApiResult<Json<AllData>> {
    let brief = Params::parse(q.as_deref())?.flag("brief", false)?;
    let sessions: Vec<SessionJson> = app
        .daemon
        .torrents()
        .iter()
        .map(|v| SessionJson::of(v, brief))
        .collect();
    let (maxdown, maxup) = app.daemon.global_rates();
    Ok(Json(AllData {
        time: utc(SystemTime::now()),
        downrate: sessions.iter().fold(0.0, |a, s| a + s.downrate),
        uprate: sessions.iter().fold(0.0, |a, s| a + s.uprate),
        maxdown,
        maxup,
        sessions,
    }))
}

/// `GET /torrentdata?infohash=`.
pub async fn one(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> ApiResult<Json<SessionJson>> {
    let info_hash = Params::parse(q.as_deref())?.info_hash()?;
    Ok(Json(SessionJson::of(&app.daemon.torrent(info_hash)?, false)))
}
