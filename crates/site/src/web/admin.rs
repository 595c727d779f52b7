//! The admin role (granted by the operator: `nexsuj admin grant EMAIL`): delete torrents,
//! set freeleech / double upload, disable and enable accounts, and see the traffic outliers.
//! Each action is a POST (form with CSRF token, or API call).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::envelope::Envelope;
use super::extract::{Fields, MaybeUser};
use super::format;
use super::pages::{AdminPage, OutlierView};
use super::respond::{Page, Responder};
use crate::db::users::User;
use crate::db::{stats, torrents, unix_now, users};
use crate::error::ApiError;
use crate::policy::{TorrentEntry, parse_info_hash};

fn require_admin(user: Option<User>) -> Result<User, ApiError> {
    match user {
        None => Err(ApiError::unauthorized()),
        Some(u) if u.is_admin => Ok(u),
        Some(_) => Err(ApiError::forbidden("only admins may do this")),
    }
}

/// `GET /admin`: the account list.
pub async fn page(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
) -> Response {
    let r = Responder::page_only(&st, &headers, user.as_ref());
    if let Err(e) = require_admin(user.clone()) {
        return r.error(e);
    }
    let since = unix_now().saturating_sub(i64::try_from(st.config.outlier_window_secs).unwrap_or(i64::MAX));
    let slack = i64::try_from(st.config.outlier_slack_bytes).unwrap_or(i64::MAX);
    let loaded = async {
        let list = users::list(&st.db, 1000, 0).await?;
        let outliers = stats::outliers(&st.db, since, slack, 100).await?;
        Ok::<_, crate::error::SiteError>((list, outliers))
    };
    let (list, outliers) = match loaded.await {
        Ok(x) => x,
        Err(e) => return r.error(e.into()),
    };
    let outliers = outliers
        .into_iter()
        .map(|o| OutlierView {
            excess: format::size(o.uploaded.saturating_sub(o.others_downloaded)),
            uploaded: format::size(o.uploaded),
            others_downloaded: format::size(o.others_downloaded),
            o,
        })
        .collect();
    r.render(StatusCode::OK, "Accounts", |l| AdminPage {
        l,
        users: list,
        outliers,
    })
}

/// Runs an admin action: CSRF rule, admin check, then `action`; answers with a redirect to
/// `back` (forms) or the JSON envelope (API).
async fn act<F, Fut>(
    st: &AppState,
    headers: &HeaderMap,
    user: Option<User>,
    f: &Fields,
    back: String,
    action: F,
) -> Response
where
    F: FnOnce(User) -> Fut,
    Fut: std::future::Future<Output = Result<serde_json::Value, ApiError>>,
{
    let r = match Responder::for_form(st, headers, user.as_ref(), f.get("csrf")) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let result = match require_admin(user.clone()) {
        Ok(admin) => action(admin).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(body) => r.ok(Page::redirect(back), || Envelope::ok(body)),
        Err(e) => r.error(e),
    }
}

/// `POST /admin/torrent/{id}/delete`.
pub async fn delete_torrent(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
    Path(id): Path<i64>,
    f: Fields,
) -> Response {
    let s = st.clone();
    act(&st, &headers, user, &f, "/".into(), move |admin| async move {
        let st = s;
        let hash = torrents::delete(&st.db, id)
            .await?
            .ok_or_else(|| ApiError::not_found("torrent"))?;
        if let Some(h) = parse_info_hash(&hash) {
            st.policy.remove_torrent(&h);
        }
        tracing::info!(torrent = id, admin = admin.id, "torrent deleted");
        Ok(json!({ "id": id }))
    })
    .await
}

/// `POST /admin/torrent/{id}/flags` (`freeleech`, `double_upload`: present and not `0`/`false`).
pub async fn torrent_flags(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
    Path(id): Path<i64>,
    f: Fields,
) -> Response {
    let on = |name| f.get(name).is_some_and(|v| v != "0" && v != "false");
    let (free, double) = (on("freeleech"), on("double_upload"));
    let s = st.clone();
    act(
        &st,
        &headers,
        user,
        &f,
        format!("/torrent/{id}"),
        move |_| async move {
            let st = s;
            if !torrents::set_flags(&st.db, id, free, double).await? {
                return Err(ApiError::not_found("torrent"));
            }
            let row = torrents::by_id(&st.db, id)
                .await?
                .ok_or_else(|| ApiError::not_found("torrent"))?;
            if let Some(h) = parse_info_hash(&row.info_hash) {
                st.policy.set_torrent(
                    h,
                    TorrentEntry {
                        id,
                        freeleech: free,
                        double_upload: double,
                    },
                );
            }
            Ok(json!({ "id": id, "freeleech": free, "doubleUpload": double }))
        },
    )
    .await
}

/// `POST /admin/user/{id}/disable` and `…/enable`.
pub async fn set_user_state(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
    Path((id, action)): Path<(i64, String)>,
    f: Fields,
) -> Response {
    let disable = match action.as_str() {
        "disable" => true,
        "enable" => false,
        _ => return ApiError::not_found("action").into_response(),
    };
    let s = st.clone();
    act(
        &st,
        &headers,
        user,
        &f,
        format!("/user/{id}"),
        move |admin| async move {
            let st = s;
            if admin.id == id {
                return Err(ApiError::bad_request("admins cannot disable themselves"));
            }
            let target = users::by_id(&st.db, id)
                .await?
                .ok_or_else(|| ApiError::not_found("user"))?;
            users::set_disabled(&st.db, id, disable).await?;
            st.policy.set_user(id, &target.passkey, disable, None);
            tracing::info!(user = id, admin = admin.id, disable, "account state changed");
            Ok(json!({ "id": id, "disabled": disable }))
        },
    )
    .await
}
