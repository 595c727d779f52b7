//! `/setdownrate`, `/setuprate`, `/setglobaldownrate`, `/setglobaluprate` (KiB/s, 0 = none).

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};

use crate::App;
use crate::auth::Change;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;

type Answer = ApiResult<Json<serde_json::Value>>;

fn rate(p: &Params) -> ApiResult<u64> {
    p.rate("rate")?.ok_or_else(|| ApiError::param("rate", "missing"))
}

fn torrent(app: &App, q: Option<&str>, down: bool) -> Answer {
    let p = Params::parse(q)?;
    let (info_hash, rate) = (p.info_hash()?, rate(&p)?);
    match down {
        true => app.daemon.set_rates(info_hash, Some(rate), None)?,
        false => app.daemon.set_rates(info_hash, None, Some(rate))?,
    }
    Ok(Json(serde_json::json!({})))
}

fn global(app: &App, q: Option<&str>, down: bool) -> Answer {
    let rate = rate(&Params::parse(q)?)?;
    match down {
        true => app.daemon.set_global_rates(Some(rate), None),
        false => app.daemon.set_global_rates(None, Some(rate)),
    }
    Ok(Json(serde_json::json!({})))
}

/// `/setdownrate?infohash=&rate=`.
pub async fn down(State(app): State<Arc<App>>, _: Change, RawQuery(q): RawQuery) -> Answer {
    torrent(&app, q.as_deref(), true)
}

/// `/setuprate?infohash=&rate=`.
pub async fn up(State(app): State<Arc<App>>, _: Change, RawQuery(q): RawQuery) -> Answer {
    torrent(&app, q.as_deref(), false)
}

/// `/setglobaldownrate?rate=`.
pub async fn global_down(State(app): State<Arc<App>>, _: Change, RawQuery(q): RawQuery) -> Answer {
    global(&app, q.as_deref(), true)
}

/// `/setglobaluprate?rate=`.
pub async fn global_up(State(app): State<Arc<App>>, _: Change, RawQuery(q): RawQuery) -> Answer {
    global(&app, q.as_deref(), false)
}
