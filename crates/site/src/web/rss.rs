//! `GET /rss?passkey=…`: the newest torrents as RSS 2.0, each with a download link that
//! carries the passkey (for clients that fetch torrents on their own). Without a valid
//! passkey the feed lists the torrents but has no download links.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use axum::extract::{Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::format;
use crate::db::torrents::{self, ListQuery};
use crate::error::ApiError;

/// Query of the feed.
#[derive(Debug, serde::Deserialize)]
pub struct RssQuery {
    /// The reader's passkey.
    passkey: Option<String>,
    /// Only this category.
    #[serde(rename = "type")]
    category: Option<String>,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The feed.
pub async fn feed(State(st): State<Arc<AppState>>, Query(q): Query<RssQuery>) -> Response {
    let passkey = q
        .passkey
        .filter(|pk| matches!(st.policy.user(pk), Some((_, false))));
    let list = ListQuery {
        category: q.category.filter(|c| !c.is_empty()),
        page: 1,
        per_page: 50,
        ..ListQuery::default()
    };
    let rows = match torrents::list(&st.db, &list).await {
        Ok(found) => found.rows,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let base = st.config.base();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>{}</title>\
         <link>{}/</link><description>New torrents on {}</description>\n",
        esc(&st.config.name),
        esc(base),
        esc(&st.config.name)
    );
    for t in rows {
        let page = format!("{base}/torrent/{}", t.id);
        let date = httpdate::fmt_http_date(
            UNIX_EPOCH + Duration::from_secs(u64::try_from(t.created_at).unwrap_or(0)),
        );
        xml.push_str(&format!(
            "<item><title>{}</title><link>{}</link><guid isPermaLink=\"true\">{}</guid><pubDate>{}</pubDate>\
             <category>{}</category><description>{} · {}</description>",
            esc(&t.title),
            esc(&page),
            esc(&page),
            date,
            esc(&t.category),
            esc(&format::size(t.size)),
            esc(&t.labels)
        ));
        if let Some(pk) = &passkey {
            let url = format!("{base}/download/torrent?id={}&passkey={pk}", t.id);
            xml.push_str(&format!(
                "<enclosure url=\"{}\" length=\"{}\" type=\"application/x-bittorrent\"/>",
                esc(&url),
                t.size
            ));
        }
        xml.push_str("</item>\n");
    }
    xml.push_str("</channel></rss>\n");
    let mut resp = (StatusCode::OK, xml).into_response();
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/rss+xml; charset=utf-8"),
    );
    resp
}
