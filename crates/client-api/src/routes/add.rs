//! `/addtorrentfile` and `/addmagnet`.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use serde::Deserialize;

use crate::App;
use crate::auth::Change;
use crate::error::{ApiError, ApiResult};
use crate::params::{Params, parse_rate};

fn added(info_hash: ids::InfoHash) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "infohash": info_hash.to_hex() }))
}

/// `POST /addtorrentfile?path=&start=&maxdown=&maxup=` with the .torrent as the body.
pub async fn torrent_file(
    State(app): State<Arc<App>>,
    _: Change,
    RawQuery(q): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let p = Params::parse(q.as_deref())?;
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge {
            limit: app.config.max_torrent_file,
        },
        _ => ApiError::BadBody(e.body_text()),
    })?;
    if body.is_empty() {
        return Err(ApiError::BadBody(
            "empty: send the .torrent file as the body".into(),
        ));
    }
    let limits = (p.rate("maxdown")?.unwrap_or(0), p.rate("maxup")?.unwrap_or(0));
    let start = p.flag("start", true)?;
    let dir = p.get("path").map(PathBuf::from);
    let daemon = app.daemon.clone();
    let info_hash = tokio::task::spawn_blocking(move || daemon.add_torrent(&body, dir, start, limits))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(added(info_hash))
}

/// `/addmagnet`'s body (seed 004).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddMagnet {
    url: String,
    #[serde(default)]
    targetdir: Option<String>,
    #[serde(default)]
    maxdown: Option<serde_json::Value>,
    #[serde(default)]
    maxup: Option<serde_json::Value>,
}

/// A rate given as a JSON number or a string of digits.
fn json_rate(name: &'static str, v: Option<&serde_json::Value>) -> ApiResult<u64> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(0),
        Some(serde_json::Value::Number(n)) => parse_rate(name, &n.to_string()),
        Some(serde_json::Value::String(s)) if s.is_empty() => Ok(0),
        Some(serde_json::Value::String(s)) => parse_rate(name, s),
        Some(_) => Err(ApiError::param(name, "expected a number of KiB/s")),
    }
}

/// `POST /addmagnet` with `{url, targetdir, maxdown, maxup}`.
pub async fn magnet(
    State(app): State<Arc<App>>,
    _: Change,
    body: Result<Json<AddMagnet>, JsonRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let Json(body) = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge {
            limit: app.config.max_torrent_file,
        },
        _ => ApiError::BadBody(e.body_text()),
    })?;
    let limits = (
        json_rate("maxdown", body.maxdown.as_ref())?,
        json_rate("maxup", body.maxup.as_ref())?,
    );
    let dir = body.targetdir.filter(|d| !d.is_empty()).map(PathBuf::from);
    let daemon = app.daemon.clone();
    let info_hash = tokio::task::spawn_blocking(move || daemon.add_magnet(&body.url, dir, limits))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(added(info_hash))
}
