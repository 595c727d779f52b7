//! Profiles (`GET /user/{id}`, `GET /api/profile`, `GET /api/users/{id}`): traffic, ratio,
//! seeding and leeching now, snatches; and the passkey reset (`POST /passkey/reset`).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::envelope::Envelope;
use super::extract::{CurrentUser, Fields, MaybeUser, check_csrf};
use super::format;
use super::pages::{Layout, ProfilePage, error_page, redirect, render};
use crate::auth::secret::new_passkey;
use crate::db::stats::{self, Activity, UserTorrent};
use crate::db::users::{self, User};
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
    let Some(viewer) = viewer else {
        return redirect("/login", &[]);
    };
    let (u, activity, history) = match load(&st, id).await {
        Ok(x) => x,
        Err(e) => return error_page(&st, &headers, Some(&viewer), &e),
    };
    let l = Layout::new(&st, &headers, Some(&viewer), u.nick.clone());
    let own = viewer.id == u.id;
    let page = ProfilePage {
        l: l.clone(),
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
    };
    render(&st, &l, StatusCode::OK, &page)
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
) -> Response {
    let html = match check_csrf(&st, &headers, f.get("csrf")) {
        Ok(html) => html,
        Err(e) => return e.into_response(),
    };
    let Some(user) = user else {
        return ApiError::unauthorized().into_response();
    };
    let result = async {
        let passkey = new_passkey()?;
        users::set_passkey(&st.db, user.id, &passkey).await?;
        st.policy
            .set_user(user.id, &passkey, user.disabled, Some(&user.passkey));
        Ok::<_, ApiError>(passkey)
    }
    .await;
    match result {
        Ok(_) if html => redirect(&format!("/user/{}?reset=1", user.id), &[]),
        Ok(pk) => Envelope::ok(json!({ "authKey": pk }))
            .message("passkey reset")
            .into_response(),
        Err(e) if html => error_page(&st, &headers, Some(&user), &e),
        Err(e) => e.into_response(),
    }
}
