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
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::AppState;
use super::accounts::hashing_busy;
use super::envelope::Envelope;
use super::extract::{ClientIp, Fields, MaybeUser, SESSION_COOKIE, cookie, set_cookie};
use super::metrics::Refusals;
use super::pages::{LoginPage, LogoutPage};
use super::respond::{Page, Responder};
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
    let notice = if q.created.is_some() {
        "Your account is ready: log in."
    } else {
        ""
    };
    let r = Responder::page_only(&st, &headers, user.as_ref());
    login_form(&r, String::new(), notice.into(), String::new(), StatusCode::OK)
}

/// The login form with `error` or `notice` shown and `email` filled in.
fn login_form(
    r: &Responder<'_>,
    error: String,
    notice: String,
    email: String,
    status: StatusCode,
) -> Response {
    r.render(status, "Log in", |l| LoginPage {
        l,
        error,
        notice,
        email,
    })
}

/// `POST /login`: `email, pwd`; sets the session cookie.
pub async fn login(
    State(st): State<Arc<AppState>>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    f: Fields,
) -> Result<Response, ApiError> {
    let r = Responder::for_form(&st, &headers, None, f.get("csrf"))?;
    Ok(match authenticate(&st, ip, &f).await {
        Ok(c) => r.ok(Page::redirect_setting("/", c.clone()), || {
            Envelope::empty().message("logged in").cookie(c)
        }),
        Err(e) => r.form_error(e, |e| {
            let email = f.get("email").unwrap_or("").to_owned();
            login_form(&r, e.message.clone(), String::new(), email, e.status)
        }),
    })
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
    let r = Responder::page_only(&st, &headers, user.as_ref());
    r.render(StatusCode::OK, "Log out", |l| LogoutPage { l })
}

/// `POST /logout`: ends the session (a form needs its CSRF token).
pub async fn logout(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    f: Fields,
) -> Result<Response, ApiError> {
    let r = Responder::for_form(&st, &headers, None, f.get("csrf"))?;
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        sessions::delete(&st.db, &sha256_hex(token)).await?;
    }
    let clear = set_cookie(SESSION_COOKIE, "", 0, st.config.secure_cookies());
    Ok(r.ok(Page::redirect_setting("/", clear.clone()), || {
        Envelope::empty().message("logged out").cookie(clear)
    }))
}
