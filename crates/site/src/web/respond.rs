//! The one place where a reply's form is chosen. A request is answered with pages when it
//! comes from a browser (a form carrying its CSRF token, or a navigation that accepts HTML)
//! and with the seed's JSON envelope otherwise; [`Responder`] holds that choice and turns a
//! handler's success or failure into the matching reply, so a handler says what happened
//! once, not once per form.

use askama::Template;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::envelope::{Envelope, with_retry_after};
use super::extract::{check_csrf, from_browser, wants_html};
use super::pages::{Layout, MessagePage, redirect, render};
use crate::db::users::User;
use crate::error::ApiError;

/// The form a client is answered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// HTML pages and redirects (a browser).
    Html,
    /// The JSON envelope (a script using the API).
    Json,
}

impl Format {
    /// A GET: pages when the client accepts HTML (a browser navigating).
    pub fn of_get(headers: &HeaderMap) -> Self {
        Self::html_if(wants_html(headers))
    }

    /// A POST before its CSRF token is known: pages when it comes from a browser.
    pub fn of_post(headers: &HeaderMap) -> Self {
        Self::html_if(from_browser(headers))
    }

    /// Pages when `html`.
    pub fn html_if(html: bool) -> Self {
        if html { Self::Html } else { Self::Json }
    }
}

/// What a browser is shown after a success.
pub enum Page<'a> {
    /// A 303 redirect (after a form), setting cookies.
    Redirect {
        /// Where to.
        to: String,
        /// `Set-Cookie` values.
        cookies: Vec<String>,
    },
    /// A page, rendered only when a browser asked.
    Shown(Box<dyn FnOnce() -> Response + Send + 'a>),
}

impl<'a> Page<'a> {
    /// A redirect to `to`.
    pub fn redirect(to: impl Into<String>) -> Self {
        Self::Redirect {
            to: to.into(),
            cookies: Vec::new(),
        }
    }

    /// A redirect to `to` setting `cookie`.
    pub fn redirect_setting(to: impl Into<String>, cookie: String) -> Self {
        Self::Redirect {
            to: to.into(),
            cookies: vec![cookie],
        }
    }

    /// A page built by `show` (when a browser asked for it).
    pub fn shown(show: impl FnOnce() -> Response + Send + 'a) -> Self {
        Self::Shown(Box::new(show))
    }
}

/// Answers one request in its negotiated [`Format`].
#[derive(Debug, Clone, Copy)]
pub struct Responder<'a> {
    st: &'a AppState,
    headers: &'a HeaderMap,
    user: Option<&'a User>,
    format: Format,
}

impl<'a> Responder<'a> {
    /// A responder for `user` (shown in the pages' navigation) answering in `format`.
    pub fn new(st: &'a AppState, headers: &'a HeaderMap, user: Option<&'a User>, format: Format) -> Self {
        Self {
            st,
            headers,
            user,
            format,
        }
    }

    /// A responder for a state-changing request under the CSRF rule ([`check_csrf`]): a
    /// valid form token means pages, no token from a script means JSON. A refusal is
    /// returned as is (the JSON error: the form it came from is not trusted).
    pub fn for_form(
        st: &'a AppState,
        headers: &'a HeaderMap,
        user: Option<&'a User>,
        token: Option<&str>,
    ) -> Result<Self, ApiError> {
        Ok(Self::new(st, headers, user, check_csrf(st, headers, token)?))
    }

    /// A responder for a GET ([`Format::of_get`]).
    pub fn for_get(st: &'a AppState, headers: &'a HeaderMap, user: Option<&'a User>) -> Self {
        Self::new(st, headers, user, Format::of_get(headers))
    }

    /// A responder for a page that exists only as HTML.
    pub fn page_only(st: &'a AppState, headers: &'a HeaderMap, user: Option<&'a User>) -> Self {
        Self::new(st, headers, user, Format::Html)
    }

    /// The negotiated format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Renders the page `build` makes from the layout (titled `title`) with `status`.
    pub fn render<T: Template>(
        &self,
        status: StatusCode,
        title: impl Into<String>,
        build: impl FnOnce(Layout) -> T,
    ) -> Response {
        let l = Layout::new(self.st, self.headers, self.user, title);
        render(self.st, &l, status, &build(l.clone()))
    }

    /// A success: `page` for a browser, the envelope `json` makes for a script.
    pub fn ok(&self, page: Page<'_>, json: impl FnOnce() -> Envelope) -> Response {
        match (self.format, page) {
            (Format::Json, _) => json().into_response(),
            (Format::Html, Page::Redirect { to, cookies }) => redirect(&to, &cookies),
            (Format::Html, Page::Shown(show)) => show(),
        }
    }

    /// A failure: the error page for a browser, the JSON error for a script.
    pub fn error(&self, e: ApiError) -> Response {
        self.form_error(e, |e| self.error_page(e))
    }

    /// A failure shown on the form it came from (`form` renders it with the error) for a
    /// browser, the JSON error for a script. Either carries the error's `Retry-After`.
    pub fn form_error(&self, e: ApiError, form: impl FnOnce(&ApiError) -> Response) -> Response {
        match self.format {
            Format::Json => e.into_response(),
            Format::Html => with_retry_after(form(&e), e.retry_after),
        }
    }

    /// Not logged in: the login page for a browser, 401 for a script.
    pub fn login_first(&self) -> Response {
        match self.format {
            Format::Html => redirect("/login", &[]),
            Format::Json => ApiError::unauthorized().into_response(),
        }
    }

    fn error_page(&self, e: &ApiError) -> Response {
        self.render(e.status, "Error", |l| MessagePage {
            heading: e.status.canonical_reason().unwrap_or("Error").to_owned(),
            text: e.message.clone(),
            is_error: true,
            link: "/".into(),
            link_text: "Back to the torrents".into(),
            l,
        })
    }
}
