//! The HTML pages (askama templates in `templates/`), the layout every page shares, and
//! the CSRF nonce cookie that forms need.

use askama::Template;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::extract::{cookie, set_cookie};
use crate::auth::csrf;
use crate::auth::secret::new_token;
use crate::db::stats::{Activity, Outlier};
use crate::db::users::User;
use crate::error::{ApiError, SiteError};

/// Who is logged in, as the navigation shows it.
#[derive(Debug, Clone)]
pub struct NavUser {
    /// Id.
    pub id: i64,
    /// Nick.
    pub nick: String,
    /// Admin link.
    pub is_admin: bool,
}

/// What every page needs.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Site name.
    pub site: String,
    /// Page title.
    pub title: String,
    /// The logged-in user.
    pub user: Option<NavUser>,
    /// The CSRF token for this page's forms.
    pub csrf: String,
    /// A new nonce cookie to set, when the browser had none.
    new_nonce: Option<String>,
}

impl Layout {
    /// The layout for a page seen by `user`, reusing the browser's CSRF nonce if it has one.
    pub fn new(state: &AppState, headers: &HeaderMap, user: Option<&User>, title: impl Into<String>) -> Self {
        let existing = cookie(headers, csrf::COOKIE)
            .filter(|n| n.len() == 64)
            .map(str::to_owned);
        let (nonce, new_nonce) = match existing {
            Some(n) => (n, None),
            None => {
                let n = new_token().unwrap_or_default();
                (n.clone(), Some(n))
            }
        };
        Self {
            site: state.config.name.clone(),
            title: title.into(),
            user: user.map(|u| NavUser {
                id: u.id,
                nick: u.nick.clone(),
                is_admin: u.is_admin,
            }),
            csrf: state.csrf.token(&nonce),
            new_nonce,
        }
    }
}

/// Renders a page with its status, setting the nonce cookie if needed.
pub fn render<T: Template>(state: &AppState, l: &Layout, status: StatusCode, page: &T) -> Response {
    let html = match page.render() {
        Ok(html) => html,
        Err(e) => return ApiError::from(SiteError::from(e)).into_response(),
    };
    let mut resp = (status, html).into_response();
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(nonce) = &l.new_nonce {
        let c = set_cookie(csrf::COOKIE, nonce, 86_400 * 30, state.config.secure_cookies());
        if let Ok(v) = HeaderValue::from_str(&c) {
            h.append(SET_COOKIE, v);
        }
    }
    resp
}

/// A 303 redirect (after a successful form), with optional cookies.
pub fn redirect(to: &str, cookies: &[String]) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        resp.headers_mut().insert(LOCATION, v);
    }
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            resp.headers_mut().append(SET_COOKIE, v);
        }
    }
    resp
}

/// A page with one message (errors of form posts, confirmations).
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    /// Layout.
    pub l: Layout,
    /// Heading.
    pub heading: String,
    /// Text.
    pub text: String,
    /// Styled as an error.
    pub is_error: bool,
    /// Where to go next.
    pub link: String,
    /// Its text.
    pub link_text: String,
}

/// The login form.
#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    /// Layout.
    pub l: Layout,
    /// What went wrong.
    pub error: String,
    /// What went right.
    pub notice: String,
    /// The address typed.
    pub email: String,
}

/// The logout button (`GET /logout`).
#[derive(Template)]
#[template(path = "logout.html")]
pub struct LogoutPage {
    /// Layout.
    pub l: Layout,
}

/// The sign-up forms.
#[derive(Template)]
#[template(path = "signup.html")]
pub struct SignupPage {
    /// Layout.
    pub l: Layout,
    /// What went wrong.
    pub error: String,
    /// What went right.
    pub notice: String,
    /// The address typed.
    pub email: String,
    /// The nick typed.
    pub nick: String,
}

/// The upload form.
#[derive(Template)]
#[template(path = "upload.html")]
pub struct UploadPage {
    /// Layout.
    pub l: Layout,
    /// What went wrong.
    pub error: String,
    /// Offered categories.
    pub categories: Vec<String>,
}

/// One row of a list, formatted.
#[derive(Debug, Clone)]
pub struct TorrentView {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Name in the torrent.
    pub name: String,
    /// Hex info-hash.
    pub info_hash: String,
    /// Category.
    pub category: String,
    /// Labels.
    pub labels: Vec<String>,
    /// Formatted size.
    pub size: String,
    /// Files.
    pub file_count: i64,
    /// Seeders.
    pub seeders: i64,
    /// Leechers.
    pub leechers: i64,
    /// Snatches.
    pub completed: i64,
    /// Uploader's nick.
    pub uploader: String,
    /// Uploader's id.
    pub uploader_id: i64,
    /// Formatted date.
    pub date: String,
    /// Freeleech.
    pub freeleech: bool,
    /// Double upload.
    pub double_upload: bool,
}

/// The browse and search page.
#[derive(Template)]
#[template(path = "index.html")]
pub struct IndexPage {
    /// Layout.
    pub l: Layout,
    /// Search words.
    pub q: String,
    /// Category filter ("" for all).
    pub category: String,
    /// `date`, `size` or `seeders`.
    pub sort: String,
    /// Ascending order.
    pub ascending: bool,
    /// Offered categories.
    pub categories: Vec<String>,
    /// Rows.
    pub rows: Vec<TorrentView>,
    /// Matches, as shown: "1 torrent", "1000+ torrents".
    pub count: String,
    /// Current page.
    pub page: u32,
    /// Pages, when known.
    pub pages: Option<i64>,
    /// Link to the previous page.
    pub prev: Option<String>,
    /// Link to the next page.
    pub next: Option<String>,
    /// Show download links.
    pub logged_in: bool,
}

/// A torrent's page.
#[derive(Template)]
#[template(path = "torrent.html")]
pub struct TorrentPage {
    /// Layout.
    pub l: Layout,
    /// The torrent.
    pub t: TorrentView,
    /// Description.
    pub description: String,
    /// (path, formatted size).
    pub files: Vec<(String, String)>,
    /// Files not listed.
    pub more_files: usize,
    /// Live seeders.
    pub seeders: u32,
    /// Live leechers.
    pub leechers: u32,
    /// Completed count.
    pub completed: i64,
    /// Nicks seeding now.
    pub seeding: Vec<String>,
    /// Show moderation.
    pub is_admin: bool,
}

/// A user's page.
#[derive(Template)]
#[template(path = "profile.html")]
pub struct ProfilePage {
    /// Layout.
    pub l: Layout,
    /// The user shown.
    pub u: User,
    /// Formatted upload.
    pub uploaded: String,
    /// Formatted download.
    pub downloaded: String,
    /// Formatted ratio.
    pub ratio: String,
    /// Activity counts.
    pub activity: Activity,
    /// Formatted sign-up date.
    pub joined: String,
    /// The viewer is this user.
    pub own: bool,
    /// The viewer is an admin.
    pub is_admin: bool,
    /// A confirmation to show.
    pub notice: String,
    /// (torrent id, title, state, uploaded, downloaded, snatched).
    pub history: Vec<(i64, String, String, String, String, bool)>,
}

/// The admin's account list and traffic outliers.
#[derive(Template)]
#[template(path = "admin.html")]
pub struct AdminPage {
    /// Layout.
    pub l: Layout,
    /// Accounts.
    pub users: Vec<User>,
    /// Uploads larger than anyone downloaded.
    pub outliers: Vec<OutlierView>,
}

/// An outlier, formatted.
#[derive(Debug, Clone)]
pub struct OutlierView {
    /// The row.
    pub o: Outlier,
    /// Formatted upload.
    pub uploaded: String,
    /// Formatted download of the others.
    pub others_downloaded: String,
    /// Formatted difference.
    pub excess: String,
}
