//! Sign-up: `POST /signup/code`, `POST /signup` (the seed's JSON API, also posted to by the
//! HTML forms) and the sign-up page; the rules are [`crate::domain::signup`]'s. Logging in
//! and out is in [`super::session`].

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::AppState;
use super::envelope::Envelope;
use super::extract::{ClientIp, Fields, MaybeUser};
use super::metrics::Refusals;
use super::pages::SignupPage;
use super::respond::{Page, Responder};
use crate::db::codes;
use crate::domain::signup::{SignupError, SignupRequest, Signups};
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

/// `GET /signup`.
pub async fn signup_page(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
) -> Response {
    let r = Responder::page_only(&st, &headers, user.as_ref());
    signup_form(
        &r,
        &Fields::default(),
        String::new(),
        String::new(),
        StatusCode::OK,
    )
}

/// The sign-up forms, as the fields `f` filled them, with `error` or `notice` shown.
fn signup_form(r: &Responder<'_>, f: &Fields, error: String, notice: String, status: StatusCode) -> Response {
    r.render(status, "Sign up", |l| SignupPage {
        l,
        error,
        notice,
        email: f.get("email").unwrap_or("").to_owned(),
        nick: f.get("nick").unwrap_or("").to_owned(),
    })
}

/// The sign-up service over the site's state.
fn signups(st: &AppState) -> Signups<'_> {
    Signups {
        db: &st.db,
        mailer: &st.mailer,
        passwords: &st.passwords,
        policy: &st.policy,
        limits: &st.limits,
        open: st.config.signup_open,
        site: &st.config.name,
        base_url: st.config.base(),
        mail_from: &st.config.mail_from,
    }
}

impl From<SignupError> for ApiError {
    fn from(e: SignupError) -> Self {
        let message = e.to_string();
        match e {
            SignupError::Closed => Self::forbidden(message),
            SignupError::Missing { field } => Self::field(field, message),
            SignupError::InvalidEmail => Self::field("email", message),
            SignupError::InvalidNick => Self::field("nick", message),
            SignupError::WeakPassword { .. } => Self::field("pwd", message),
            SignupError::InvalidSex => Self::field("sex", message),
            SignupError::TooManyCodes => Self::too_many(message).with_field("email"),
            SignupError::TooManySignups => Self::too_many(message),
            SignupError::HashingBusy => hashing_busy(),
            SignupError::WrongCode | SignupError::CodeExpired => Self::field("code", message),
            SignupError::NickTaken | SignupError::JustTaken => {
                Self::field("nick", message).status(StatusCode::CONFLICT)
            }
            SignupError::EmailTaken => Self::field("email", message).status(StatusCode::CONFLICT),
            SignupError::Internal(e) => e.into(),
        }
    }
}

/// The refusal of `e`, counted if it is one of the limits' ([`Refusals`]).
fn refusal(st: &AppState, e: SignupError) -> ApiError {
    if matches!(e, SignupError::CodeExpired) {
        Refusals::count(&st.refusals.codes_exhausted);
    }
    e.into()
}

/// `POST /signup/code`: mails a six-digit code to `email`.
pub async fn signup_code(
    State(st): State<Arc<AppState>>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    f: Fields,
) -> Result<Response, ApiError> {
    let r = Responder::for_form(&st, &headers, None, f.get("csrf"))?;
    Ok(match signups(&st).send_code(ip, f.get("email")).await {
        Ok(email) => {
            let notice = format!("We sent a code to {email}; it is valid for ten minutes.");
            let page = Page::shown(|| signup_form(&r, &f, String::new(), notice, StatusCode::OK));
            r.ok(page, || {
                Envelope::ok(json!({ "expiresIn": codes::CODE_TTL_SECS })).message("code sent")
            })
        }
        Err(e) => r.form_error(refusal(&st, e), |e| {
            signup_form(&r, &f, e.message.clone(), String::new(), e.status)
        }),
    })
}

/// `POST /signup`: `nick, email, pwd, sex, code` → `id, nick, email, sex, authKey`.
pub async fn signup(
    State(st): State<Arc<AppState>>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    f: Fields,
) -> Result<Response, ApiError> {
    let r = Responder::for_form(&st, &headers, None, f.get("csrf"))?;
    let request = SignupRequest {
        nick: f.get("nick"),
        email: f.get("email"),
        pwd: f.untrimmed("pwd"),
        sex: f.get("sex"),
        code: f.get("code"),
    };
    Ok(match signups(&st).create_account(ip, request).await {
        Ok(u) => r.ok(Page::redirect("/login?created=1"), || {
            Envelope::ok(json!({
                "id": u.id, "nick": u.nick, "email": u.email, "sex": u.sex, "authKey": u.passkey,
            }))
            .message("account created")
        }),
        Err(e) => r.form_error(refusal(&st, e), |e| {
            signup_form(&r, &f, e.message.clone(), String::new(), e.status)
        }),
    })
}
