//! Sign-up: `POST /signup/code`, `POST /signup` (the seed's JSON API, also posted to by the
//! HTML forms) and the sign-up page. Logging in and out is in [`super::session`].
//!
//! Neither step tells a stranger whether an address or a nick has an account: a code request
//! for a registered address is answered as any other (its owner is told by mail instead), and
//! a sign-up names a taken nick or address only after a valid code, which proves the caller
//! reads that mailbox.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::envelope::{Envelope, with_retry_after};
use super::extract::{ClientIp, Fields, MaybeUser, check_csrf};
use super::metrics::Refusals;
use super::pages::{Layout, SignupPage, redirect, render};
use crate::auth::password;
use crate::auth::secret::{ct_eq, new_code, new_passkey};
use crate::db::codes::{self, CodeCheck};
use crate::db::{is_unique_violation, users};
use crate::error::ApiError;

/// Seconds a client refused for want of a hashing slot is asked to wait.
pub const HASHING_RETRY_SECS: u32 = 2;

/// The refusal when every password hashing slot is taken.
pub fn hashing_busy() -> ApiError {
    ApiError::busy(
        "the server is busy; try again in a few seconds",
        HASHING_RETRY_SECS,
    )
}

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

/// The form again with the error of `e` (and its `Retry-After`).
fn signup_error(st: &AppState, headers: &HeaderMap, f: &Fields, e: &ApiError) -> Response {
    let page = signup_form(st, headers, f, e.message.clone(), String::new(), e.status);
    with_retry_after(page, e.retry_after)
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
    match send_code(&st, ip, &f).await {
        Ok(email) if html => {
            let notice = format!("We sent a code to {email}; it is valid for ten minutes.");
            signup_form(&st, &headers, &f, String::new(), notice, StatusCode::OK)
        }
        Ok(_) => Envelope::ok(json!({ "expiresIn": codes::CODE_TTL_SECS }))
            .message("code sent")
            .into_response(),
        Err(e) if html => signup_error(&st, &headers, &f, &e),
        Err(e) => e.into_response(),
    }
}

async fn send_code(st: &AppState, ip: IpAddr, f: &Fields) -> Result<String, ApiError> {
    if !st.config.signup_open {
        return Err(ApiError::forbidden("sign-up is closed"));
    }
    let email = valid_email(f.require("email")?)?;
    if !st.limits.code_ip.hit(ip) || !st.limits.code_address.hit(&email) {
        return Err(ApiError::too_many("too many codes requested; wait a few minutes").with_field("email"));
    }
    // A registered address gets a code too (never mailed): a guess at it is then answered
    // "wrong code" exactly as for a new address, and the reply here is the same.
    let code = new_code()?;
    codes::put(&st.db, &email, &code).await?;
    let name = &st.config.name;
    let (subject, body) = if users::email_taken(&st.db, &email).await? {
        (
            format!("{name}: someone tried to sign up with your address"),
            format!(
                "Someone, maybe you, asked for a sign-up code for this address,\n\
                 but you already have an account at {name}. Log in at\n{}/login\n\n\
                 If it was not you, ignore this mail: nothing was changed.\n",
                st.config.base()
            ),
        )
    } else {
        // The code stays out of the subject (subjects are logged and shown in mail lists),
        // on a short line of its own (a long line would be quoted-printable, maybe split).
        (
            format!("Your {name} sign-up code"),
            format!(
                "Your sign-up code: {code}\n\nEnter it on the {name} sign-up page within ten minutes.\n\
                 If you did not ask for it, ignore this mail.\n"
            ),
        )
    };
    st.mailer
        .send(&st.config.mail_from, &email, &subject, body)
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
    match create_account(&st, ip, &f).await {
        Ok(_) if html => redirect("/login?created=1", &[]),
        Ok(u) => Envelope::ok(json!({
            "id": u.id, "nick": u.nick, "email": u.email, "sex": u.sex, "authKey": u.passkey,
        }))
        .message("account created")
        .into_response(),
        Err(e) if html => signup_error(&st, &headers, &f, &e),
        Err(e) => e.into_response(),
    }
}

/// The fields of a sign-up, checked.
struct SignupForm<'a> {
    nick: &'a str,
    email: String,
    pwd: &'a str,
    sex: i64,
    code: &'a str,
}

impl<'a> SignupForm<'a> {
    fn parse(f: &'a Fields) -> Result<Self, ApiError> {
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
        Ok(Self {
            nick,
            email,
            pwd,
            sex,
            code,
        })
    }
}

async fn create_account(st: &AppState, ip: IpAddr, f: &Fields) -> Result<users::User, ApiError> {
    if !st.config.signup_open {
        return Err(ApiError::forbidden("sign-up is closed"));
    }
    let SignupForm {
        nick,
        email,
        pwd,
        sex,
        code,
    } = SignupForm::parse(f)?;
    if !st.limits.signup_ip.hit(ip) {
        return Err(ApiError::too_many(
            "too many sign-up attempts; wait a few minutes",
        ));
    }
    // Before the code is tried: a busy server must not use up one of its tries.
    let permit = st.passwords.try_permit().ok_or_else(hashing_busy)?;
    check_code(st, &email, code).await?;
    // The code proves the caller reads this mailbox: a clash may now be named.
    if users::nick_taken(&st.db, nick).await? {
        return Err(ApiError::field("nick", "this nick is taken").status(StatusCode::CONFLICT));
    }
    if users::email_taken(&st.db, &email).await? {
        return Err(
            ApiError::field("email", "this e-mail address is already registered")
                .status(StatusCode::CONFLICT),
        );
    }
    let hash = st.passwords.hash(permit, pwd.to_owned()).await?;
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
    tracing::info!(user = user.id, "account created");
    Ok(user)
}

/// Tries the code mailed to `email` (one of its tries, whatever the outcome).
async fn check_code(st: &AppState, email: &str, code: &str) -> Result<(), ApiError> {
    match codes::check(&st.db, email, code, |a, b| ct_eq(a.as_bytes(), b.as_bytes())).await? {
        CodeCheck::Ok => Ok(()),
        CodeCheck::Wrong => Err(ApiError::field("code", "wrong code")),
        CodeCheck::Expired => {
            Refusals::count(&st.refusals.codes_exhausted);
            Err(ApiError::field(
                "code",
                "the code has expired or was used up; ask for a new one",
            ))
        }
    }
}
