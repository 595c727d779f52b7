//! Accounts: `POST /signup/code`, `POST /signup`, `POST /login`, `GET /logout` (the seed's
//! JSON API, also posted to by the HTML forms), and the sign-up and login pages.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::envelope::Envelope;
use super::extract::{
    ClientIp, Fields, MaybeUser, SESSION_COOKIE, check_csrf, cookie, set_cookie, wants_html,
};
use super::pages::{Layout, LoginPage, SignupPage, redirect, render};
use crate::auth::password;
use crate::auth::secret::{ct_eq, new_code, new_passkey, new_token, sha256_hex};
use crate::db::codes::{self, CodeCheck};
use crate::db::{is_unique_violation, sessions, users};
use crate::error::ApiError;

/// Checks an e-mail address (shape only) and returns it lowercased.
pub fn valid_email(email: &str) -> Result<String, ApiError> {
    let bad = || ApiError::field("email", "enter a valid e-mail address");
    let e = email.trim().to_lowercase();
    let (local, domain) = e.split_once('@').ok_or_else(bad)?;
    let ok = !local.is_empty()
        && e.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && e.chars()
            .all(|c| c.is_ascii_graphic() && !"<>()[],;:\\\"".contains(c));
    if ok { Ok(e) } else { Err(bad()) }
}

/// Checks a nick: 3 to 20 letters and digits.
pub fn valid_nick(nick: &str) -> Result<(), ApiError> {
    let ok = (3..=20).contains(&nick.len()) && nick.bytes().all(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(ApiError::field("nick", "nick must be 3 to 20 letters and digits"))
    }
}

/// `GET /signup`.
pub async fn signup_page(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
) -> Response {
    let l = Layout::new(&st, &headers, user.as_ref(), "Sign up");
    let page = SignupPage {
        l: l.clone(),
        error: String::new(),
        notice: String::new(),
        email: String::new(),
        nick: String::new(),
    };
    render(&st, &l, StatusCode::OK, &page)
}

fn signup_form(
    st: &AppState,
    headers: &HeaderMap,
    f: &Fields,
    error: String,
    notice: String,
    status: StatusCode,
) -> Response {
    let l = Layout::new(st, headers, None, "Sign up");
    let page = SignupPage {
        l: l.clone(),
        error,
        notice,
        email: f.get("email").unwrap_or("").to_owned(),
        nick: f.get("nick").unwrap_or("").to_owned(),
    };
    render(st, &l, status, &page)
}

/// `POST /signup/code`: mails a six-digit code to `email`.
pub async fn signup_code(
    State(st): State<Arc<AppState>>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    f: Fields,
) -> Response {
    let html = match check_csrf(&st, &headers, f.get("csrf")) {
        Ok(html) => html,
        Err(e) => return e.into_response(),
    };
    match send_code(&st, &ip.to_string(), &f).await {
        Ok(email) if html => {
            let notice = format!("We sent a code to {email}; it is valid for ten minutes.");
            signup_form(&st, &headers, &f, String::new(), notice, StatusCode::OK)
        }
        Ok(_) => Envelope::ok(json!({ "expiresIn": codes::CODE_TTL_SECS }))
            .message("code sent")
            .into_response(),
        Err(e) if html => signup_form(&st, &headers, &f, e.message.clone(), String::new(), e.status),
        Err(e) => e.into_response(),
    }
}

async fn send_code(st: &AppState, ip: &str, f: &Fields) -> Result<String, ApiError> {
    if !st.config.signup_open {
        return Err(ApiError::forbidden("sign-up is closed"));
    }
    let email = valid_email(f.require("email")?)?;
    if !st.limits.code_ip.hit(ip) || !st.limits.code_address.hit(&email) {
        return Err(ApiError::too_many("too many codes requested; wait a few minutes").with_field("email"));
    }
    if users::email_taken(&st.db, &email).await? {
        return Err(
            ApiError::field("email", "this e-mail address is already registered")
                .status(StatusCode::CONFLICT),
        );
    }
    let code = new_code()?;
    codes::put(&st.db, &email, &code).await?;
    let body = format!(
        "Your {} sign-up code is {code}\n\nIt is valid for ten minutes. If you did not ask for it, ignore this mail.\n",
        st.config.name
    );
    st.mailer
        .send(
            &st.config.mail_from,
            &email,
            &format!("{} sign-up code: {code}", st.config.name),
            body,
        )
        .await?;
    Ok(email)
}

/// `POST /signup`: `nick, email, pwd, sex, code` → `id, nick, email, sex, authKey`.
pub async fn signup(
    State(st): State<Arc<AppState>>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    f: Fields,
) -> Response {
    let html = match check_csrf(&st, &headers, f.get("csrf")) {
        Ok(html) => html,
        Err(e) => return e.into_response(),
    };
    match create_account(&st, &ip.to_string(), &f).await {
        Ok(_) if html => redirect("/login?created=1", &[]),
        Ok(u) => Envelope::ok(json!({
            "id": u.id, "nick": u.nick, "email": u.email, "sex": u.sex, "authKey": u.passkey,
        }))
        .message("account created")
        .into_response(),
        Err(e) if html => signup_form(&st, &headers, &f, e.message.clone(), String::new(), e.status),
        Err(e) => e.into_response(),
    }
}

async fn create_account(st: &AppState, ip: &str, f: &Fields) -> Result<users::User, ApiError> {
    if !st.config.signup_open {
        return Err(ApiError::forbidden("sign-up is closed"));
    }
    let nick = f.require("nick")?;
    valid_nick(nick)?;
    let email = valid_email(f.require("email")?)?;
    let pwd = f.raw("pwd")?;
    if let Some(why) = password::weakness(pwd, nick, &email) {
        return Err(ApiError::field("pwd", why));
    }
    let sex = match f.get("sex").unwrap_or("0").parse::<i64>() {
        Ok(s @ 0..=2) => s,
        _ => {
            return Err(ApiError::field(
                "sex",
                "sex must be 0 (unsaid), 1 (male) or 2 (female)",
            ));
        }
    };
    let code = f.require("code")?;
    if !st.limits.signup_ip.hit(ip) {
        return Err(ApiError::too_many(
            "too many sign-up attempts; wait a few minutes",
        ));
    }
    if users::nick_taken(&st.db, nick).await? {
        return Err(ApiError::field("nick", "this nick is taken").status(StatusCode::CONFLICT));
    }
    if users::email_taken(&st.db, &email).await? {
        return Err(
            ApiError::field("email", "this e-mail address is already registered")
                .status(StatusCode::CONFLICT),
        );
    }
    match codes::check(&st.db, &email, code, |a, b| ct_eq(a.as_bytes(), b.as_bytes())).await? {
        CodeCheck::Ok => {}
        CodeCheck::Wrong => return Err(ApiError::field("code", "wrong code")),
        CodeCheck::Expired => {
            return Err(ApiError::field(
                "code",
                "the code has expired or was used up; ask for a new one",
            ));
        }
    }
    let hash = password::hash(pwd.to_owned()).await?;
    let passkey = new_passkey()?;
    let new = users::NewUser {
        nick,
        email: &email,
        pwd_hash: &hash,
        sex,
        passkey: &passkey,
    };
    let user = match users::insert(&st.db, &new).await {
        Ok(u) => u,
        Err(crate::error::SiteError::Database(e)) if is_unique_violation(&e) => {
            return Err(
                ApiError::field("nick", "this nick or e-mail was just taken").status(StatusCode::CONFLICT)
            );
        }
        Err(e) => return Err(e.into()),
    };
    codes::consume(&st.db, &email).await?;
    st.policy.set_user(user.id, &user.passkey, false, None);
    tracing::info!(user = user.id, admin = user.is_admin, "account created");
    Ok(user)
}

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
    match authenticate(&st, &ip.to_string(), &f).await {
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
            render(&st, &l, e.status, &page)
        }
        Err(e) => e.into_response(),
    }
}

async fn authenticate(st: &AppState, ip: &str, f: &Fields) -> Result<String, ApiError> {
    let email = f.require("email")?.to_lowercase();
    let pwd = f.raw("pwd")?;
    if !st.limits.login_ip.allowed(ip) || !st.limits.login_account.allowed(&email) {
        return Err(ApiError::too_many("too many failed logins; wait a few minutes"));
    }
    let found = users::credentials(&st.db, &email).await?;
    // Verify against a decoy when the account does not exist, so both cases take as long.
    let phc = found
        .as_ref()
        .map_or_else(|| st.decoy_hash.clone(), |(_, h)| h.clone());
    let ok = password::verify(pwd.to_owned(), phc).await? && found.is_some();
    let user = match found {
        Some((u, _)) if ok => u,
        _ => {
            st.limits.login_ip.hit(ip);
            st.limits.login_account.hit(&email);
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "wrong e-mail or password",
            ));
        }
    };
    if user.disabled {
        return Err(ApiError::forbidden("this account is disabled"));
    }
    st.limits.login_account.reset(&email);
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

/// `GET /logout`: ends the session.
pub async fn logout(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        if let Err(e) = sessions::delete(&st.db, &sha256_hex(token)).await {
            return ApiError::from(e).into_response();
        }
    }
    let clear = set_cookie(SESSION_COOKIE, "", 0, st.config.secure_cookies());
    if wants_html(&headers) {
        return redirect("/", &[clear]);
    }
    let mut resp = Envelope::empty().message("logged out").into_response();
    if let Ok(v) = clear.parse() {
        resp.headers_mut().append(SET_COOKIE, v);
    }
    resp
}
