//! Upload and download: `POST /upload/torrent` (multipart `torrent, type, labels,
//! description, title`), `GET /download/torrent?id=N` (logged in, or `passkey=` for RSS
//! clients), and the upload page.
//!
//! An upload's body (up to `max_torrent_bytes`) is read only once the session is known, the
//! CSRF token checked and one of `max_concurrent_uploads` slots taken: a browser form sends
//! its token as the first field (only that field is read first), a script in the
//! `X-CSRF-Token` header or not at all (a request that is not from a browser needs none).

use std::sync::Arc;

use axum::extract::{Multipart, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::sync::OwnedSemaphorePermit;

use super::AppState;
use super::envelope::Envelope;
use super::extract::{MaybeUser, check_csrf, from_browser};
use super::metrics::Refusals;
use super::pages::UploadPage;
use super::respond::{Format, Page, Responder};
use crate::auth::csrf;
use crate::db::torrents;
use crate::domain::passkey::{Passkeys, announce_urls};
use crate::domain::upload::{UploadError, UploadRequest, Uploads};
use crate::error::ApiError;
use crate::torrent_file::{content_disposition, download_bytes};

/// The header that may carry an upload's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Seconds a client refused for want of an upload slot is asked to wait.
pub const UPLOAD_RETRY_SECS: u32 = 10;

/// `GET /upload`.
pub async fn upload_page(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
) -> Response {
    let r = Responder::page_only(&st, &headers, user.as_ref());
    match &user {
        Some(_) => upload_form(&st, &r, StatusCode::OK, String::new()),
        None => r.login_first(),
    }
}

/// The upload form, with `error` shown.
fn upload_form(st: &AppState, r: &Responder<'_>, status: StatusCode, error: String) -> Response {
    r.render(status, "Upload", |l| UploadPage {
        l,
        error,
        categories: st.config.categories.clone(),
    })
}

/// Reads the fields of an upload; a file larger than `max_torrent` is refused unread.
async fn read_form(
    mut mp: Multipart,
    max_torrent: usize,
) -> Result<(UploadRequest, Option<String>), ApiError> {
    let mut form = UploadRequest::default();
    let mut csrf = None;
    let unreadable = |_| ApiError::bad_request("the upload could not be read (too large or cut short)");
    while let Some(field) = mp.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or("").to_owned();
        let bytes = field.bytes().await.map_err(unreadable)?;
        let text = || String::from_utf8_lossy(&bytes).trim().to_owned();
        match name.as_str() {
            "torrent" if bytes.len() > max_torrent => {
                return Err(ApiError::field(
                    "torrent",
                    format!("the torrent file is larger than {max_torrent} bytes"),
                )
                .status(StatusCode::PAYLOAD_TOO_LARGE));
            }
            "torrent" => form.torrent = Some(bytes.to_vec()),
            "title" => form.title = text(),
            "type" => form.category = text(),
            "labels" => form.labels = text(),
            "description" => form.description = String::from_utf8_lossy(&bytes).into_owned(),
            "csrf" => csrf = Some(text()),
            _ => {}
        }
    }
    Ok((form, csrf))
}

impl From<UploadError> for ApiError {
    fn from(e: UploadError) -> Self {
        let message = e.to_string();
        match e {
            UploadError::TooMany => Self::too_many(message),
            UploadError::MissingTorrent | UploadError::InvalidTorrent { .. } => {
                Self::field("torrent", message)
            }
            UploadError::UnknownCategory { .. } => Self::field("type", message),
            UploadError::TitleTooLong => Self::field("title", message),
            UploadError::DescriptionTooLong => Self::field("description", message),
            UploadError::BadLabels => Self::field("labels", message),
            UploadError::Duplicate { id } => Self {
                id: Some(id),
                ..Self::field("torrent", message).status(StatusCode::CONFLICT)
            },
            UploadError::Internal(e) => e.into(),
        }
    }
}

/// The CSRF token of a browser's upload form, which must be its first field: read alone, and
/// at most a few hundred bytes of it, so that a forged form is refused before its file is.
async fn first_field_token(mp: &mut Multipart) -> Result<String, ApiError> {
    let missing = || ApiError::forbidden("missing CSRF token");
    let mut field = mp
        .next_field()
        .await
        .map_err(|_| missing())?
        .ok_or_else(missing)?;
    if field.name() != Some(csrf::FIELD) {
        return Err(missing());
    }
    let mut token = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|_| missing())? {
        token.extend_from_slice(&chunk);
        if token.len() > 256 {
            return Err(missing());
        }
    }
    Ok(String::from_utf8_lossy(&token).trim().to_owned())
}

/// Checks the CSRF token (before the body is read), takes an upload slot, then reads the
/// form; returns the reply's format, the form and the slot (held until the upload is
/// stored).
async fn receive(
    st: &AppState,
    headers: &HeaderMap,
    mut mp: Multipart,
) -> Result<(Format, UploadRequest, OwnedSemaphorePermit), ApiError> {
    let mut token = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|t| t.trim().to_owned());
    // A token in the header is a script's: its replies stay JSON.
    let from_header = token.is_some();
    if token.is_none() && from_browser(headers) {
        token = Some(first_field_token(&mut mp).await?);
    }
    let mut format = check_csrf(st, headers, token.as_deref())?;
    if from_header {
        format = Format::Json;
    }
    let Ok(slot) = st.limits.uploads.clone().try_acquire_owned() else {
        Refusals::count(&st.refusals.uploads_busy);
        return Err(ApiError::busy(
            "too many uploads in progress; try again shortly",
            UPLOAD_RETRY_SECS,
        ));
    };
    let (form, form_token) = read_form(mp, st.config.max_torrent_bytes).await?;
    // A script that put the token among its fields asked for the form's replies.
    if token.is_none() && form_token.is_some() {
        format = check_csrf(st, headers, form_token.as_deref())?;
    }
    Ok((format, form, slot))
}

/// `POST /upload/torrent`.
pub async fn upload(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
    mp: Multipart,
) -> Response {
    let Some(user) = user else {
        return Responder::new(&st, &headers, None, Format::of_post(&headers)).login_first();
    };
    let (format, form, _slot) = match receive(&st, &headers, mp).await {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let uploads = Uploads {
        db: &st.db,
        policy: &st.policy,
        per_user: &st.limits.upload_user,
        categories: &st.config.categories,
        source: &st.config.name,
    };
    let r = Responder::new(&st, &headers, Some(&user), format);
    match uploads.upload(user.id, form).await {
        Ok(up) => r.ok(Page::redirect(format!("/torrent/{}", up.id)), || {
            Envelope::ok(json!({ "id": up.id, "infoHash": up.info_hash })).message("uploaded")
        }),
        Err(e) => r.form_error(e.into(), |e| upload_form(&st, &r, e.status, e.message.clone())),
    }
}

/// Query of `GET /download/torrent`.
#[derive(Debug, serde::Deserialize)]
pub struct DownloadQuery {
    /// The torrent.
    id: Option<String>,
    /// For clients without a session (RSS readers).
    passkey: Option<String>,
}

/// `GET /download/torrent?id=N`.
pub async fn download(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
    Query(q): Query<DownloadQuery>,
) -> Response {
    let r = Responder::for_get(&st, &headers, user.as_ref());
    let passkeys = Passkeys {
        db: &st.db,
        policy: &st.policy,
    };
    let passkey = match passkeys.of_download(user.as_ref(), q.passkey.as_deref()) {
        Ok(Some(pk)) => pk,
        Ok(None) => return r.login_first(),
        // A feed reader's refusal: never a page.
        Err(e) => return ApiError::from(e).into_response(),
    };
    let (info, name) = match stored_info(&st, q.id.as_deref()).await {
        Ok(x) => x,
        Err(e) => return r.error(e),
    };
    let (announce, list) = announce_urls(
        st.config.base(),
        &st.config.udp_announce_url,
        &st.config.extra_announce_urls,
        &passkey,
    );
    let body = download_bytes(&info, &announce, &list);
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-bittorrent"));
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&name)) {
        h.insert(CONTENT_DISPOSITION, v);
    }
    resp
}

/// The stored `info` bytes and name of the torrent with id `id`.
async fn stored_info(st: &AppState, id: Option<&str>) -> Result<(Vec<u8>, String), ApiError> {
    let id: i64 = id
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| ApiError::field("id", "id must be a torrent id"))?;
    torrents::info_bytes(&st.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("torrent"))
}
