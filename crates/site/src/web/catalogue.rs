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
use super::extract::{MaybeUser, check_csrf, from_browser, wants_html};
use super::metrics::Refusals;
use super::pages::{Layout, UploadPage, error_page, redirect, render};
use crate::auth::csrf;
use crate::db::{is_unique_violation, torrents};
use crate::error::{ApiError, SiteError};
use crate::policy::{TorrentEntry, parse_info_hash};
use crate::torrent_file::{content_disposition, download_bytes, prepare_upload};

/// Longest title.
pub const MAX_TITLE: usize = 200;
/// Longest description in bytes.
pub const MAX_DESCRIPTION: usize = 64 << 10;
/// Most labels, and the longest label.
pub const MAX_LABELS: (usize, usize) = (10, 32);
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
    let Some(user) = user else {
        return redirect("/login", &[]);
    };
    let l = Layout::new(&st, &headers, Some(&user), "Upload");
    let page = UploadPage {
        l: l.clone(),
        error: String::new(),
        categories: st.config.categories.clone(),
    };
    render(&st, &l, StatusCode::OK, &page)
}

/// The fields of an upload.
#[derive(Debug, Default)]
struct UploadForm {
    torrent: Option<Vec<u8>>,
    title: String,
    category: String,
    labels: String,
    description: String,
    csrf: Option<String>,
}

async fn read_form(mut mp: Multipart, max_torrent: usize) -> Result<UploadForm, ApiError> {
    let mut form = UploadForm::default();
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
            "csrf" => form.csrf = Some(text()),
            _ => {}
        }
    }
    Ok(form)
}

fn clean_labels(raw: &str) -> Result<String, ApiError> {
    let labels: Vec<String> = raw
        .split(',')
        .map(|l| l.trim().to_lowercase())
        .filter(|l| !l.is_empty())
        .collect();
    if labels.len() > MAX_LABELS.0 || labels.iter().any(|l| l.chars().count() > MAX_LABELS.1) {
        return Err(ApiError::field(
            "labels",
            format!(
                "at most {} labels of at most {} characters",
                MAX_LABELS.0, MAX_LABELS.1
            ),
        ));
    }
    let mut unique = Vec::new();
    for l in labels {
        if !unique.contains(&l) {
            unique.push(l);
        }
    }
    Ok(unique.join(","))
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
/// form; returns whether the reply is a page, the form and the slot (held until the
/// upload is stored).
async fn receive(
    st: &AppState,
    headers: &HeaderMap,
    mut mp: Multipart,
) -> Result<(bool, UploadForm, OwnedSemaphorePermit), ApiError> {
    let mut token = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|t| t.trim().to_owned());
    // A token in the header is a script's: its replies stay JSON.
    let from_header = token.is_some();
    if token.is_none() && from_browser(headers) {
        token = Some(first_field_token(&mut mp).await?);
    }
    let mut html = check_csrf(st, headers, token.as_deref())? && !from_header;
    let Ok(slot) = st.limits.uploads.clone().try_acquire_owned() else {
        Refusals::count(&st.refusals.uploads_busy);
        return Err(ApiError::busy(
            "too many uploads in progress; try again shortly",
            UPLOAD_RETRY_SECS,
        ));
    };
    let form = read_form(mp, st.config.max_torrent_bytes).await?;
    // A script that put the token among its fields asked for the form's replies.
    if token.is_none() && form.csrf.is_some() {
        html = check_csrf(st, headers, form.csrf.as_deref())?;
    }
    Ok((html, form, slot))
}

/// `POST /upload/torrent`.
pub async fn upload(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
    mp: Multipart,
) -> Response {
    let Some(user) = user else {
        return if from_browser(&headers) {
            redirect("/login", &[])
        } else {
            ApiError::unauthorized().into_response()
        };
    };
    let (html, form, _slot) = match receive(&st, &headers, mp).await {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    match store(&st, user.id, form).await {
        Ok((id, _)) if html => redirect(&format!("/torrent/{id}"), &[]),
        Ok((id, hash)) => Envelope::ok(json!({ "id": id, "infoHash": hash }))
            .message("uploaded")
            .into_response(),
        Err(e) if html => {
            let l = Layout::new(&st, &headers, Some(&user), "Upload");
            let page = UploadPage {
                l: l.clone(),
                error: e.message.clone(),
                categories: st.config.categories.clone(),
            };
            render(&st, &l, e.status, &page)
        }
        Err(e) => e.into_response(),
    }
}

async fn store(st: &AppState, uploader: i64, form: UploadForm) -> Result<(i64, String), ApiError> {
    if !st.limits.upload_user.hit(&uploader.to_string()) {
        return Err(ApiError::too_many("too many uploads; wait a while"));
    }
    let bytes = form
        .torrent
        .ok_or_else(|| ApiError::field("torrent", "torrent is required"))?;
    let category = if form.category.is_empty() {
        "other".to_owned()
    } else {
        form.category.to_lowercase()
    };
    if !st
        .config
        .categories
        .iter()
        .any(|c| c.eq_ignore_ascii_case(&category))
    {
        return Err(ApiError::field(
            "type",
            format!("type must be one of: {}", st.config.categories.join(", ")),
        ));
    }
    if form.title.chars().count() > MAX_TITLE {
        return Err(ApiError::field(
            "title",
            format!("title must have at most {MAX_TITLE} characters"),
        ));
    }
    if form.description.len() > MAX_DESCRIPTION {
        return Err(ApiError::field(
            "description",
            "description is longer than 64 KiB",
        ));
    }
    let labels = clean_labels(&form.labels)?;
    let site = st.config.name.clone();
    let prepared = tokio::task::spawn_blocking(move || prepare_upload(&bytes, &site))
        .await
        .map_err(|e| SiteError::Task(e.to_string()))??;
    let duplicate = |id: i64| {
        let mut e = ApiError::field("torrent", "this torrent is already here").status(StatusCode::CONFLICT);
        e.id = Some(id);
        e
    };
    if let Some(id) = torrents::id_by_hash(&st.db, &prepared.info_hash).await? {
        return Err(duplicate(id));
    }
    let title = if form.title.is_empty() {
        prepared.name.clone()
    } else {
        form.title
    };
    let files_json = serde_json::to_string(&prepared.files).unwrap_or_else(|_| "[]".into());
    let new = torrents::NewTorrent {
        info_hash: &prepared.info_hash,
        info: &prepared.info,
        name: &prepared.name,
        title: &title,
        category: &category,
        labels: &labels,
        description: &form.description,
        size: prepared.size,
        files_json: &files_json,
        file_count: prepared.files.len(),
        uploader_id: uploader,
    };
    let id = match torrents::insert(&st.db, &new).await {
        Ok(id) => id,
        Err(SiteError::Database(e)) if is_unique_violation(&e) => {
            let id = torrents::id_by_hash(&st.db, &prepared.info_hash)
                .await?
                .unwrap_or(0);
            return Err(duplicate(id));
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(h) = parse_info_hash(&prepared.info_hash) {
        st.policy.set_torrent(
            h,
            TorrentEntry {
                id,
                freeleech: false,
                double_upload: false,
            },
        );
    }
    tracing::info!(torrent = id, uploader, size = prepared.size, "torrent uploaded");
    Ok((id, prepared.info_hash))
}

/// Query of `GET /download/torrent`.
#[derive(Debug, serde::Deserialize)]
pub struct DownloadQuery {
    /// The torrent.
    id: Option<String>,
    /// For clients without a session (RSS readers).
    passkey: Option<String>,
}

/// The user's personal announce URLs: `announce` and the BEP 12 list.
pub fn announce_urls(st: &AppState, passkey: &str) -> (String, Vec<String>) {
    let http = format!("{}/announce?auth_key={passkey}", st.config.base());
    let mut list = vec![http.clone()];
    let udp = st.config.udp_announce_url.trim();
    if !udp.is_empty() {
        let sep = if udp.contains('?') { '&' } else { '?' };
        list.push(format!("{udp}{sep}auth_key={passkey}"));
    }
    (http, list)
}

/// `GET /download/torrent?id=N`.
pub async fn download(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
    Query(q): Query<DownloadQuery>,
) -> Response {
    let html = wants_html(&headers);
    let passkey = match (&user, q.passkey.as_deref()) {
        (Some(u), _) => Some(u.passkey.clone()),
        (None, Some(pk)) => match st.policy.user(pk) {
            Some((_, false)) => Some(pk.to_owned()),
            _ => return ApiError::forbidden("unknown or disabled passkey").into_response(),
        },
        (None, None) => None,
    };
    let Some(passkey) = passkey else {
        return if html {
            redirect("/login", &[])
        } else {
            ApiError::unauthorized().into_response()
        };
    };
    let result = async {
        let id: i64 =
            q.id.as_deref()
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| ApiError::field("id", "id must be a torrent id"))?;
        let (info, name) = torrents::info_bytes(&st.db, id)
            .await?
            .ok_or_else(|| ApiError::not_found("torrent"))?;
        Ok::<_, ApiError>((info, name))
    }
    .await;
    let (info, name) = match result {
        Ok(x) => x,
        Err(e) if html => return error_page(&st, &headers, user.as_ref(), &e),
        Err(e) => return e.into_response(),
    };
    let (announce, list) = announce_urls(&st, &passkey);
    let body = download_bytes(&info, &announce, &list);
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-bittorrent"));
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&name)) {
        h.insert(CONTENT_DISPOSITION, v);
    }
    resp
}
