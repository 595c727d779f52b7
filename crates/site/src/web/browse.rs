//! Browsing: the torrent list with search, category, sorting and pagination (`GET /` as a
//! page, `GET /api/torrents` as JSON), and a torrent's detail (`GET /torrent/{id}`,
//! `GET /api/torrents/{id}`) with its files, live swarm counts and who is seeding.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::AppState;
use super::envelope::Envelope;
use super::extract::{CurrentUser, MaybeUser};
use super::format;
use super::pages::{IndexPage, TorrentPage, TorrentView};
use super::respond::Responder;
use crate::db::stats;
use crate::db::torrents::{self, ListQuery, Sort, TorrentRow};
use crate::error::ApiError;
use crate::policy::parse_info_hash;
use crate::torrent_file::MAX_LISTED_FILES;

/// Query of the list.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ListParams {
    /// Search words.
    q: Option<String>,
    /// Category.
    #[serde(rename = "type")]
    category: Option<String>,
    /// `date`, `size` or `seeders`.
    sort: Option<String>,
    /// `asc` or `desc`.
    order: Option<String>,
    /// 1-based page.
    page: Option<String>,
}

impl ListParams {
    fn to_query(&self, per_page: u32) -> ListQuery {
        let sort = match self.sort.as_deref() {
            Some("size") => Sort::Size,
            Some("seeders") => Sort::Seeders,
            _ => Sort::Date,
        };
        ListQuery {
            q: self.q.clone().unwrap_or_default().chars().take(200).collect(),
            category: self.category.clone().filter(|c| !c.is_empty()),
            sort,
            ascending: self.order.as_deref() == Some("asc"),
            page: self
                .page
                .as_deref()
                .and_then(|p| p.parse().ok())
                .unwrap_or(1)
                .clamp(1, 1_000_000),
            per_page,
        }
    }
}

fn sort_name(s: Sort) -> &'static str {
    match s {
        Sort::Date => "date",
        Sort::Size => "size",
        Sort::Seeders => "seeders",
    }
}

/// A row for the pages.
pub fn view(t: &TorrentRow) -> TorrentView {
    TorrentView {
        id: t.id,
        title: t.title.clone(),
        name: t.name.clone(),
        info_hash: t.info_hash.clone(),
        category: t.category.clone(),
        labels: format::labels(&t.labels),
        size: format::size(t.size),
        file_count: t.file_count,
        seeders: t.seeders,
        leechers: t.leechers,
        completed: t.completed,
        uploader: t.uploader.clone(),
        uploader_id: t.uploader_id,
        date: format::date(t.created_at),
        freeleech: t.freeleech,
        double_upload: t.double_upload,
    }
}

fn page_link(q: &ListQuery, page: u32) -> String {
    let mut pairs = vec![("page", page.to_string()), ("sort", sort_name(q.sort).to_owned())];
    if !q.q.is_empty() {
        pairs.push(("q", q.q.clone()));
    }
    if let Some(c) = &q.category {
        pairs.push(("type", c.clone()));
    }
    if q.ascending {
        pairs.push(("order", "asc".into()));
    }
    format!("/?{}", serde_urlencoded::to_string(&pairs).unwrap_or_default())
}

/// `GET /`: browse and search.
pub async fn index(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
    Query(p): Query<ListParams>,
) -> Response {
    let r = Responder::page_only(&st, &headers, user.as_ref());
    let q = p.to_query(st.config.page_size);
    let found = match torrents::list(&st.db, &q).await {
        Ok(x) => x,
        Err(e) => return r.error(e.into()),
    };
    let per_page = i64::from(q.per_page.max(1));
    r.render(StatusCode::OK, "Torrents", |l| IndexPage {
        l,
        q: q.q.clone(),
        category: q.category.clone().unwrap_or_default(),
        sort: sort_name(q.sort).into(),
        ascending: q.ascending,
        categories: st.config.categories.clone(),
        rows: found.rows.iter().map(view).collect(),
        count: format!(
            "{}{} torrent{}",
            found.total,
            if found.exact { "" } else { "+" },
            if found.total == 1 && found.exact { "" } else { "s" }
        ),
        page: q.page,
        pages: found
            .exact
            .then(|| ((found.total + per_page - 1) / per_page).max(1)),
        prev: (q.page > 1).then(|| page_link(&q, q.page - 1)),
        next: found.has_next.then(|| page_link(&q, q.page + 1)),
        logged_in: user.is_some(),
    })
}

/// `GET /api/torrents`: the same list as JSON (logged in). `total` is exact when
/// `totalExact` is true; a search stops counting at [`torrents::COUNT_CAP`] matches
/// (then `total` is a lower bound), and `hasNext` says whether the next page has rows.
pub async fn list_json(
    State(st): State<Arc<AppState>>,
    CurrentUser(_): CurrentUser,
    Query(p): Query<ListParams>,
) -> Result<Envelope, ApiError> {
    let q = p.to_query(st.config.page_size);
    let found = torrents::list(&st.db, &q).await?;
    Ok(Envelope::ok(json!({
        "total": found.total,
        "totalExact": found.exact,
        "hasNext": found.has_next,
        "page": q.page,
        "perPage": q.per_page,
        "torrents": found.rows,
    })))
}

/// Everything a detail view shows.
struct Detail {
    row: TorrentRow,
    description: String,
    files: Vec<(String, u64)>,
    live: tracker_proto::common::ScrapeStats,
    seeding: Vec<String>,
}

/// A torrent's detail; `seeding` (who seeds it now) only for a logged-in viewer: nicks tied
/// to torrents are not for visitors.
async fn detail(st: &AppState, id: i64, logged_in: bool) -> Result<Detail, ApiError> {
    let row = torrents::by_id(&st.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("torrent"))?;
    let (description, files_json) = torrents::details(&st.db, id).await?.unwrap_or_default();
    let files: Vec<(String, u64)> = serde_json::from_str(&files_json).unwrap_or_default();
    let live = match parse_info_hash(&row.info_hash) {
        Some(h) => st.tracker.counts(&h).await,
        None => Default::default(),
    };
    let active = i64::try_from(st.config.active_peer_secs).unwrap_or(i64::MAX);
    let seeding = if logged_in {
        stats::seeders_of(&st.db, id, active, 100).await?
    } else {
        Vec::new()
    };
    Ok(Detail {
        row,
        description,
        files,
        live,
        seeding,
    })
}

/// `GET /torrent/{id}`.
pub async fn detail_page(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
    Path(id): Path<i64>,
) -> Response {
    let r = Responder::page_only(&st, &headers, user.as_ref());
    let d = match detail(&st, id, user.is_some()).await {
        Ok(d) => d,
        Err(e) => return r.error(e),
    };
    let listed: Vec<(String, String)> = d
        .files
        .iter()
        .take(MAX_LISTED_FILES)
        .map(|(p, n)| (p.clone(), format::size(i64::try_from(*n).unwrap_or(i64::MAX))))
        .collect();
    r.render(StatusCode::OK, d.row.title.clone(), |l| TorrentPage {
        l,
        t: view(&d.row),
        description: d.description,
        more_files: d.files.len().saturating_sub(listed.len()),
        files: listed,
        seeders: d.live.complete,
        leechers: d.live.incomplete,
        // Snatches as the flush counted them: once per user. The tracker's own count (the
        // `downloaded` of a scrape) counts each peer that completed, which a user can repeat.
        completed: d.row.completed,
        seeding: d.seeding,
        is_admin: user.as_ref().is_some_and(|u| u.is_admin),
    })
}

/// `GET /api/torrents/{id}` (logged in).
pub async fn detail_json(
    State(st): State<Arc<AppState>>,
    CurrentUser(_): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Envelope, ApiError> {
    let d = detail(&st, id, true).await?;
    Ok(Envelope::ok(json!({
        "torrent": d.row,
        "description": d.description,
        "files": d.files.iter().map(|(p, n)| json!({ "path": p, "length": n })).collect::<Vec<_>>(),
        "seeders": d.live.complete,
        "leechers": d.live.incomplete,
        "completed": d.row.completed,
        "seeding": d.seeding,
    })))
}

/// A 404 page or JSON for unknown paths.
pub async fn not_found(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
) -> Response {
    Responder::for_get(&st, &headers, user.as_ref()).error(ApiError::not_found("page"))
}
