//! Sessions: `POST /login` (`email, pwd`; sets the session cookie), `POST /logout` (a form
//! with its CSRF token, or an API call), and the login and logout pages.
//!
//! A login attempt is counted against its account and its client before the password is
//! checked (a success gives it back), so parallel guesses get no more tries than sequential
//! ones; and it needs a slot on the bounded password hashing pool, or it is answered 503.
//! Logging out is a POST: a GET could be fired by any other site's `<img>`.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::accounts::hashing_busy;
use super::envelope::{Envelope, with_retry_after};
use super::extract::{ClientIp, Fields, MaybeUser, SESSION_COOKIE, check_csrf, cookie, set_cookie};
use super::metrics::Refusals;
use super::pages::{Layout, LoginPage, LogoutPage, redirect, render};
use crate::auth::secret::{new_token, sha256_hex};
use crate::db::{sessions, users};
use crate::error::ApiError;

/// Query of `GET /login`.
#[derive(Debug, serde::Deserialize)]
pub struct LoginQuery {
    /// Set after a sign-up.
    created: Option<String>,
}

/// `GET /login`.
pub async fn login_page(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
    Query(q): Query<LoginQuery>,
) -> Response {
    let l = Layout::new(&st, &headers, user.as_ref(), "Log in");
    let notice = if q.created.is_some() {
        "Your account is ready: log in."
    } else {
        ""
    };
    let page = LoginPage {
        l: l.clone(),
        error: String::new(),
        notice: notice.into(),
        email: String::new(),
    };
    render(&st, &l, StatusCode::OK, &page)
}

/// `POST /login`: `email, pwd`; sets the session cookie.
pub async fn login(
    State(st): State<Arc<AppState>>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    f: Fields,
) -> Response {
    let html = match check_csrf(&st, &headers, f.get("csrf")) {
        Ok(html) => html,
        Err(e) => return e.into_response(),
    };
    match authenticate(&st, ip, &f).await {
        Ok(c) if html => redirect("/", &[c]),
        Ok(c) => {
            let mut resp = Envelope::empty().message("logged in").into_response();
            if let Ok(v) = c.parse() {
                resp.headers_mut().append(SET_COOKIE, v);
            }
            resp
        }
        Err(e) if html => {
            let l = Layout::new(&st, &headers, None, "Log in");
            let email = f.get("email").unwrap_or("").to_owned();
            let page = LoginPage {
                l: l.clone(),
                error: e.message.clone(),
                notice: String::new(),
                email,
            };
            with_retry_after(render(&st, &l, e.status, &page), e.retry_after)
        }
        Err(e) => e.into_response(),
    }
}

/// Counts a login attempt against the client and the account; false (nothing counted) if
/// either has none left.
fn take_attempt(st: &AppState, ip: IpAddr, email: &str) -> bool {
    if !st.limits.login_ip.take(ip) {
        return false;
    }
    if !st.limits.login_account.take(email) {
        st.limits.login_ip.refund(ip);
        return false;
    }
    true
}

async fn authenticate(st: &AppState, ip: IpAddr, f: &Fields) -> Result<String, ApiError> {
    let email = f.require("email")?.to_lowercase();
    let pwd = f.raw("pwd")?;
    if !take_attempt(st, ip, &email) {
        Refusals::count(&st.refusals.logins_limited);
        return Err(ApiError::too_many("too many failed logins; wait a few minutes"));
    }
    let Some(permit) = st.passwords.try_permit() else {
        // Not the client's fault: the attempt does not count.
        st.limits.login_ip.refund(ip);
        st.limits.login_account.refund(&email);
        return Err(hashing_busy());
    };
    // An unknown account is verified against a decoy, so both cases take as long.
    let (user, phc) = match users::credentials(&st.db, &email).await? {
        Some((u, h)) => (Some(u), Some(h)),
        None => (None, None),
    };
    let ok = st.passwords.verify(permit, pwd.to_owned(), phc).await?;
    let user = match user {
        Some(u) if ok => u,
        _ => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "wrong e-mail or password",
            ));
        }
    };
    // The right password: the attempt was not a failure.
    st.limits.login_account.reset(&email);
    st.limits.login_ip.refund(ip);
    if user.disabled {
        return Err(ApiError::forbidden("this account is disabled"));
    }
    let token = new_token()?;
    let ttl = i64::from(st.config.session_days.max(1)) * 86_400;
    sessions::create(&st.db, &sha256_hex(&token), user.id, ttl).await?;
    tracing::debug!(user = user.id, "logged in");
    Ok(set_cookie(
        SESSION_COOKIE,
        &token,
        ttl,
        st.config.secure_cookies(),
    ))
}

/// `GET /logout`: a page with the button that logs out (it changes nothing itself).
pub async fn logout_page(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
) -> Response {
    let l = Layout::new(&st, &headers, user.as_ref(), "Log out");
    render(&st, &l, StatusCode::OK, &LogoutPage { l: l.clone() })
}

/// `POST /logout`: ends the session (a form needs its CSRF token).
pub async fn logout(State(st): State<Arc<AppState>>, headers: HeaderMap, f: Fields) -> Response {
    let html = match check_csrf(&st, &headers, f.get("csrf")) {
        Ok(html) => html,
        Err(e) => return e.into_response(),
    };
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        if let Err(e) = sessions::delete(&st.db, &sha256_hex(token)).await {
            return ApiError::from(e).into_response();
        }
    }
    let clear = set_cookie(SESSION_COOKIE, "", 0, st.config.secure_cookies());
    if html {
        return redirect("/", &[clear]);
    }
    let mut resp = Envelope::empty().message("logged out").into_response();
    if let Ok(v) = clear.parse() {
        resp.headers_mut().append(SET_COOKIE, v);
    }
    resp
}
