//! Profiles (`GET /user/{id}`, `GET /api/profile`, `GET /api/users/{id}`): traffic, ratio,
//! seeding and leeching now, snatches; and the passkey reset (`POST /passkey/reset`, the
//! rules of [`crate::domain::passkey`]).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::AppState;
use super::envelope::Envelope;
use super::extract::{CurrentUser, Fields, MaybeUser};
use super::format;
use super::pages::ProfilePage;
use super::respond::{Page, Responder};
use crate::db::stats::{self, Activity, UserTorrent};
use crate::db::users::{self, User};
use crate::domain::passkey::{PasskeyError, Passkeys};
use crate::error::ApiError;

async fn load(st: &AppState, id: i64) -> Result<(User, Activity, Vec<UserTorrent>), ApiError> {
    let user = users::by_id(&st.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    let active = i64::try_from(st.config.active_peer_secs).unwrap_or(i64::MAX);
    let activity = stats::activity(&st.db, id, active).await?;
    let history = stats::user_torrents(&st.db, id, active, 100).await?;
    Ok((user, activity, history))
}

/// Query of the profile page.
#[derive(Debug, serde::Deserialize)]
pub struct ProfileQuery {
    /// Set after a passkey reset.
    reset: Option<String>,
}

/// `GET /user/{id}`.
pub async fn page(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    MaybeUser(viewer): MaybeUser,
    Path(id): Path<i64>,
    Query(q): Query<ProfileQuery>,
) -> Response {
    let r = Responder::page_only(&st, &headers, viewer.as_ref());
    let Some(viewer) = &viewer else {
        return r.login_first();
    };
    let (u, activity, history) = match load(&st, id).await {
        Ok(x) => x,
        Err(e) => return r.error(e),
    };
    let own = viewer.id == u.id;
    r.render(StatusCode::OK, u.nick.clone(), |l| ProfilePage {
        l,
        uploaded: format::size(u.uploaded),
        downloaded: format::size(u.downloaded),
        ratio: format::ratio(u.uploaded, u.downloaded),
        activity,
        joined: format::date(u.created_at),
        own,
        is_admin: viewer.is_admin,
        notice: if own && q.reset.is_some() {
            "Passkey reset: download your torrents again.".into()
        } else {
            String::new()
        },
        history: history
            .into_iter()
            .map(|h| {
                (
                    h.torrent_id,
                    h.title,
                    h.state.to_owned(),
                    format::size(h.uploaded),
                    format::size(h.downloaded),
                    h.snatched,
                )
            })
            .collect(),
        u,
    })
}

fn profile_json(u: &User, activity: Activity, history: &[UserTorrent], own: bool) -> serde_json::Value {
    let mut v = json!({
        "id": u.id,
        "nick": u.nick,
        "sex": u.sex,
        "isAdmin": u.is_admin,
        "disabled": u.disabled,
        "uploaded": u.uploaded,
        "downloaded": u.downloaded,
        "ratio": format::ratio_value(u.uploaded, u.downloaded),
        "seeding": activity.seeding,
        "leeching": activity.leeching,
        "snatched": activity.snatched,
        "createdAt": u.created_at,
        "torrents": history,
    });
    if own {
        v["email"] = json!(u.email);
        v["authKey"] = json!(u.passkey);
    }
    v
}

/// `GET /api/profile`: the logged-in user's own profile (with e-mail and passkey).
pub async fn me_json(
    State(st): State<Arc<AppState>>,
    CurrentUser(me): CurrentUser,
) -> Result<Envelope, ApiError> {
    let (u, activity, history) = load(&st, me.id).await?;
    Ok(Envelope::ok(profile_json(&u, activity, &history, true)))
}

/// `GET /api/users/{id}` (logged in).
pub async fn user_json(
    State(st): State<Arc<AppState>>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Envelope, ApiError> {
    let (u, activity, history) = load(&st, id).await?;
    Ok(Envelope::ok(profile_json(&u, activity, &history, me.id == id)))
}

/// `POST /passkey/reset`: a new passkey; the old one stops working at once.
pub async fn reset_passkey(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
    f: Fields,
) -> Result<Response, ApiError> {
    let r = Responder::for_form(&st, &headers, user.as_ref(), f.get("csrf"))?;
    let user = user.as_ref().ok_or_else(ApiError::unauthorized)?;
    let passkeys = Passkeys {
        db: &st.db,
        policy: &st.policy,
    };
    Ok(match passkeys.reset(user).await {
        Ok(pk) => r.ok(Page::redirect(format!("/user/{}?reset=1", user.id)), || {
            Envelope::ok(json!({ "authKey": pk })).message("passkey reset")
        }),
        Err(e) => r.error(e.into()),
    })
}

impl From<PasskeyError> for ApiError {
    fn from(e: PasskeyError) -> Self {
        match e {
            PasskeyError::Refused => Self::forbidden(e.to_string()),
            PasskeyError::Internal(e) => e.into(),
        }
    }
}
