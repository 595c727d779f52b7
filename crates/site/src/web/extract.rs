//! Request plumbing: cookies, the client's address, the logged-in user, form or JSON fields,
//! and the CSRF rule.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header::{CONTENT_TYPE, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};

use super::AppState;
use super::respond::Format;
use crate::auth::csrf;
use crate::auth::secret::sha256_hex;
use crate::db::{sessions, users};
use crate::error::ApiError;

/// The session cookie.
pub const SESSION_COOKIE: &str = "nx_session";

/// The value of cookie `name`.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Secure when the site runs on TLS.
pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
}

/// The client's address: the socket peer, or, on a connection from a trusted reverse proxy,
/// the rightmost `X-Forwarded-For` hop that is not itself a trusted proxy (the same rule as
/// the tracker's: anyone can prepend hops, only those the proxies appended are facts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<Arc<AppState>> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        Ok(Self(state.trusted_proxies.client_ip(peer, &parts.headers)))
    }
}

/// The logged-in user, if any (a disabled account counts as logged out).
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<users::User>);

/// The logged-in user; 401 otherwise.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub users::User);

async fn session_user(parts: &Parts, state: &AppState) -> Result<Option<users::User>, ApiError> {
    let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    if token.len() != 64 {
        return Ok(None);
    }
    let Some(id) = sessions::user_of(&state.db, &sha256_hex(token)).await? else {
        return Ok(None);
    };
    Ok(users::by_id(&state.db, id).await?.filter(|u| !u.disabled))
}

impl FromRequestParts<Arc<AppState>> for MaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        Ok(Self(session_user(parts, state).await?))
    }
}

impl FromRequestParts<Arc<AppState>> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        session_user(parts, state)
            .await?
            .map(Self)
            .ok_or_else(ApiError::unauthorized)
    }
}

/// Named text fields from a JSON object or a URL-encoded form (JSON numbers become text).
#[derive(Debug, Clone, Default)]
pub struct Fields(pub HashMap<String, String>);

impl Fields {
    /// A field, trimmed; empty counts as missing.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    /// A required field.
    pub fn require(&self, name: &'static str) -> Result<&str, ApiError> {
        self.get(name)
            .ok_or_else(|| ApiError::field(name, format!("{name} is required")))
    }

    /// A field as it was sent (passwords are not trimmed); empty counts as missing.
    pub fn untrimmed(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|s| !s.is_empty())
    }

    /// A required field as it was sent.
    pub fn raw(&self, name: &'static str) -> Result<&str, ApiError> {
        self.untrimmed(name)
            .ok_or_else(|| ApiError::field(name, format!("{name} is required")))
    }
}

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"))?;
        if body.is_empty() {
            return Ok(Self::default());
        }
        if json {
            let map: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&body)
                .map_err(|_| ApiError::bad_request("the body is not a JSON object"))?;
            let fields = map
                .into_iter()
                .filter_map(|(k, v)| match v {
                    serde_json::Value::String(s) => Some((k, s)),
                    serde_json::Value::Number(n) => Some((k, n.to_string())),
                    serde_json::Value::Bool(b) => Some((k, b.to_string())),
                    _ => None,
                })
                .collect();
            return Ok(Self(fields));
        }
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
            .map_err(|_| ApiError::bad_request("the form cannot be read"))?;
        Ok(Self(pairs.into_iter().collect()))
    }
}

/// Whether a request comes from a browser (browsers send `Origin` or `Sec-Fetch-Site` with
/// every POST; scripts using the JSON API send neither).
pub fn from_browser(headers: &HeaderMap) -> bool {
    headers.contains_key("origin") || headers.contains_key("sec-fetch-site")
}

/// The CSRF rule for a state-changing request. A form carries a token, which must match the
/// nonce cookie: then the reply is HTML. A browser request without a token is refused. A
/// non-browser request without a token is an API call, answered in JSON.
pub fn check_csrf(state: &AppState, headers: &HeaderMap, token: Option<&str>) -> Result<Format, ApiError> {
    match token {
        Some(t) => {
            let nonce = cookie(headers, csrf::COOKIE).unwrap_or("");
            if state.csrf.verify(nonce, t) {
                Ok(Format::Html)
            } else {
                Err(ApiError::forbidden(
                    "the form has expired; reload the page and try again",
                ))
            }
        }
        None if from_browser(headers) => Err(ApiError::forbidden("missing CSRF token")),
        None => Ok(Format::Json),
    }
}

/// Whether a GET prefers an HTML page (a browser navigating) to JSON.
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}
