//! `/starttorrent`, `/stoptorrent` and `/removetorrent`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};

use crate::App;
use crate::auth::Change;
use crate::error::ApiResult;
use crate::params::Params;

fn done() -> Json<serde_json::Value> {
    Json(serde_json::json!({}))
}

/// `/stoptorrent?infohash=`.
pub async fn stop(
    State(app): State<Arc<App>>,
    _: Change,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<serde_json::Value>> {
    let info_hash = Params::parse(q.as_deref())?.info_hash()?;
    app.daemon.stop(info_hash).await?;
    Ok(done())
}

/// `/starttorrent?infohash=`.
pub async fn start(
    State(app): State<Arc<App>>,
    _: Change,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<serde_json::Value>> {
    let info_hash = Params::parse(q.as_deref())?.info_hash()?;
    app.daemon.start(info_hash).await?;
    Ok(done())
}

/// `/removetorrent?infohash=&delete=true|false`.
pub async fn remove(
    State(app): State<Arc<App>>,
    _: Change,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<serde_json::Value>> {
    let p = Params::parse(q.as_deref())?;
    let info_hash = p.info_hash()?;
    let delete = p.flag("delete", false)?;
    app.daemon.remove(info_hash, delete).await?;
    Ok(done())
}
