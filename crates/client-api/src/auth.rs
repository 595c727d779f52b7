//! Who may use the API.
//!
//! - Every request's `Host` must be a loopback address, `localhost` or a configured name:
//!   a page on another site that rebinds its DNS name to 127.0.0.1 (CVE-2018-5702, against
//!   Transmission's RPC) sends its own name and is refused.
//! - API clients send `Authorization: Bearer <token>`; the token is compared in constant time.
//! - The web UI logs in once with the token and then holds a session cookie (HttpOnly,
//!   SameSite=Strict) and a CSRF token it sends as `X-CSRF-Token` with every POST. A cookie
//!   alone never changes state: state-changing GETs (kept for seed 004's clients) need the
//!   Authorization header, so a link or an image on another site cannot trigger them.
//! - Failed log-ins are counted per client address before the token is compared.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use crate::App;
use crate::error::ApiError;

/// The cookie that holds a web UI session.
pub const COOKIE: &str = "nexsuj_session";
/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a web UI session lasts.
const SESSION_LIFE: Duration = Duration::from_secs(7 * 24 * 3600);

/// Who is calling (put in the request's extensions by [`guard`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// An API client with the bearer token.
    Token,
    /// The web UI with its session cookie; `csrf` says whether the request carried the
    /// session's CSRF token.
    Ui {
        /// The CSRF header matched.
        csrf: bool,
    },
}

#[derive(Debug)]
struct UiSession {
    csrf: String,
    expires: Instant,
}

/// The token, the allowed host names, the web UI sessions and the log-in counters.
#[derive(Debug)]
pub struct Auth {
    token: String,
    hosts: Vec<String>,
    sessions: Mutex<HashMap<String, UiSession>>,
    max_sessions: usize,
    failures: Mutex<HashMap<IpAddr, (Instant, u32)>>,
    failures_per_minute: u32,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn digest(s: &str) -> String {
    ids::hex::encode(&Sha256::digest(s.as_bytes()))
}

impl Auth {
    /// Checks against `token`; `hosts` are the names allowed besides loopback.
    pub fn new(token: String, hosts: &[String], max_sessions: usize, failures_per_minute: u32) -> Self {
        Self {
            token,
            hosts: hosts.iter().map(|h| h.to_ascii_lowercase()).collect(),
            sessions: Mutex::default(),
            max_sessions: max_sessions.max(1),
            failures: Mutex::default(),
            failures_per_minute,
        }
    }

    /// Whether a request with this `Host` header may be answered.
    pub fn host_allowed(&self, host: Option<&str>) -> bool {
        let Some(host) = host else { return false };
        let name = match host.strip_prefix('[') {
            Some(rest) => rest.split(']').next().unwrap_or(""),
            None => host.rsplit_once(':').map_or(host, |(h, port)| {
                if port.bytes().all(|b| b.is_ascii_digit()) {
                    h
                } else {
                    host
                }
            }),
        };
        let name = name.to_ascii_lowercase();
        if name == "localhost" || self.hosts.contains(&name) {
            return true;
        }
        name.parse::<IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
    }

    /// Whether `shown` is the token.
    pub fn token_ok(&self, shown: &[u8]) -> bool {
        http_server::auth::ct_eq(shown, self.token.as_bytes())
    }

    /// Counts a log-in attempt from `ip`; false when it is over the limit.
    fn attempt(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        let mut f = lock(&self.failures);
        if f.len() > 10_000 {
            f.retain(|_, (since, _)| now.duration_since(*since) < Duration::from_secs(60));
        }
        let (since, n) = f.entry(ip).or_insert((now, 0));
        if now.duration_since(*since) >= Duration::from_secs(60) {
            *since = now;
            *n = 0;
        }
        *n += 1;
        *n <= self.failures_per_minute
    }

    fn forgive(&self, ip: IpAddr) {
        lock(&self.failures).remove(&ip);
    }

    /// Opens a web UI session: (cookie value, CSRF token).
    fn open(&self) -> Result<(String, String), ApiError> {
        let random = |what| rng::os_bytes::<32>().map_err(|e| ApiError::Internal(format!("{what}: {e}")));
        let id = ids::hex::encode(&random("session id")?);
        let csrf = ids::hex::encode(&random("CSRF token")?);
        let now = Instant::now();
        let mut s = lock(&self.sessions);
        s.retain(|_, v| v.expires > now);
        while s.len() >= self.max_sessions {
            let Some(oldest) = s.iter().min_by_key(|(_, v)| v.expires).map(|(k, _)| k.clone()) else {
                break;
            };
            s.remove(&oldest);
        }
        s.insert(
            digest(&id),
            UiSession {
                csrf: csrf.clone(),
                expires: now + SESSION_LIFE,
            },
        );
        Ok((id, csrf))
    }

    /// The CSRF token of the session named by the request's cookie.
    fn session_csrf(&self, headers: &HeaderMap) -> Option<String> {
        let id = cookie(headers, COOKIE)?;
        let s = lock(&self.sessions);
        s.get(&digest(id))
            .filter(|v| v.expires > Instant::now())
            .map(|v| v.csrf.clone())
    }

    fn close(&self, headers: &HeaderMap) {
        if let Some(id) = cookie(headers, COOKIE) {
            lock(&self.sessions).remove(&digest(id));
        }
    }

    /// Who sent a request with these headers, if anyone valid.
    pub fn caller(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        if let Some(shown) = http_server::auth::bearer(headers) {
            return match self.token_ok(shown) {
                true => Ok(Caller::Token),
                false => Err(ApiError::Unauthorized("wrong API token")),
            };
        }
        let csrf = self.session_csrf(headers).ok_or(ApiError::Unauthorized(
            "send Authorization: Bearer <token>, or log in at /",
        ))?;
        let shown = headers.get(CSRF_HEADER).map(|v| v.as_bytes()).unwrap_or_default();
        Ok(Caller::Ui {
            csrf: http_server::auth::ct_eq(shown, csrf.as_bytes()),
        })
    }
}

/// A cookie's value.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Paths anyone may fetch (the UI's files and its log-in): the Host check still applies.
fn public(path: &str) -> bool {
    path == "/" || path == "/login" || path.starts_with("/ui/")
}

/// The middleware in front of every route: Host check, then credentials.
pub async fn guard(State(app): State<Arc<App>>, mut req: Request, next: Next) -> Response {
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok());
    if !app.auth.host_allowed(host) {
        return ApiError::Forbidden("this Host is not allowed (configure api_hosts to use a name)")
            .into_response();
    }
    if !public(req.uri().path()) {
        match app.auth.caller(req.headers()) {
            Ok(caller) => {
                req.extensions_mut().insert(caller);
            }
            Err(e) => return e.into_response(),
        }
    }
    next.run(req).await
}

/// A handler argument that allows the request to change state: the bearer token, or the web
/// UI's cookie with its CSRF token on a POST.
#[derive(Debug)]
pub struct Change;

impl<S: Send + Sync> FromRequestParts<S> for Change {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        match parts.extensions.get::<Caller>() {
            Some(Caller::Token) => Ok(Change),
            Some(Caller::Ui { .. }) if parts.method != Method::POST => Err(ApiError::Forbidden(
                "state changes from the web UI must be POSTs (GET needs the Authorization header)",
            )),
            Some(Caller::Ui { csrf: true }) => Ok(Change),
            Some(Caller::Ui { csrf: false }) => Err(ApiError::Forbidden("missing or wrong X-CSRF-Token")),
            None => Err(ApiError::Unauthorized("no credentials")),
        }
    }
}

/// `POST /login` with `{"token": "…"}`: opens a web UI session.
pub async fn login(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Result<axum::Json<serde_json::Value>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    // Counted before anything else is looked at.
    if !app.auth.attempt(peer.ip()) {
        return Err(ApiError::TooMany("too many log-in attempts; wait a minute"));
    }
    let axum::Json(body) = body.map_err(|e| ApiError::BadBody(e.body_text()))?;
    let token = body
        .get("token")
        .and_then(|t| t.as_str())
        .ok_or_else(|| ApiError::param("token", "missing"))?;
    if !app.auth.token_ok(token.as_bytes()) {
        return Err(ApiError::Unauthorized("wrong API token"));
    }
    app.auth.forgive(peer.ip());
    let (id, csrf) = app.auth.open()?;
    let cookie = format!(
        "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        SESSION_LIFE.as_secs()
    );
    Ok((
        [(header::SET_COOKIE, cookie)],
        axum::Json(serde_json::json!({ "csrf": csrf })),
    )
        .into_response())
}

/// `GET /csrf`: the web UI session's CSRF token (after a page reload).
pub async fn csrf(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, ApiError> {
    let csrf = app
        .auth
        .session_csrf(&headers)
        .ok_or(ApiError::Unauthorized("not logged in"))?;
    Ok(axum::Json(serde_json::json!({ "csrf": csrf })).into_response())
}

/// `POST /logout`: ends the web UI session.
pub async fn logout(State(app): State<Arc<App>>, _: Change, headers: HeaderMap) -> Response {
    app.auth.close(&headers);
    let cookie = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    ([(header::SET_COOKIE, cookie)], axum::Json(serde_json::json!({}))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let a = Auth::new("t".into(), &["box.lan".into()], 4, 10);
        for ok in [
            "127.0.0.1:8090",
            "localhost",
            "LOCALHOST:1",
            "[::1]:8090",
            "box.lan:8090",
            "127.9.9.9",
        ] {
            assert!(a.host_allowed(Some(ok)), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8090",
            "192.168.1.2:8090",
            "[2001:db8::1]:80",
            "",
        ] {
            assert!(!a.host_allowed(Some(bad)), "{bad}");
        }
        assert!(!a.host_allowed(None));
    }

    #[test]
    fn sessions_are_capped_and_csrf_checked() {
        let a = Auth::new("tok".into(), &[], 2, 10);
        let (id1, _) = a.open().unwrap();
        let (id2, csrf2) = a.open().unwrap();
        let (id3, _) = a.open().unwrap();
        let with = |id: &str, csrf: Option<&str>| {
            let mut h = HeaderMap::new();
            h.insert(header::COOKIE, format!("a=b; {COOKIE}={id}").parse().unwrap());
            if let Some(c) = csrf {
                h.insert(CSRF_HEADER, c.parse().unwrap());
            }
            h
        };
        assert!(a.caller(&with(&id1, None)).is_err(), "the oldest was dropped");
        assert_eq!(
            a.caller(&with(&id2, Some(&csrf2))).unwrap(),
            Caller::Ui { csrf: true }
        );
        assert_eq!(
            a.caller(&with(&id2, Some("nope"))).unwrap(),
            Caller::Ui { csrf: false }
        );
        assert_eq!(a.caller(&with(&id3, None)).unwrap(), Caller::Ui { csrf: false });
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer tok".parse().unwrap());
        assert_eq!(a.caller(&h).unwrap(), Caller::Token);
        h.insert(header::AUTHORIZATION, "Bearer tok2".parse().unwrap());
        assert!(a.caller(&h).is_err());
    }

    #[test]
    fn login_attempts_are_limited() {
        let a = Auth::new("t".into(), &[], 2, 3);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert!((0..3).all(|_| a.attempt(ip)));
        assert!(!a.attempt(ip));
        a.forgive(ip);
        assert!(a.attempt(ip));
    }
}
