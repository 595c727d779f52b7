//! Seed 001's tracker over HTTP (`/announce`, `/get_peers`, `/stats`, `/heartbeat`, exactly
//! its names), `/channels`, `/metrics`, and CORS for players on other origins. Every error is
//! a 4xx (or 503 when full) with JSON `{error}` naming what was wrong.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::app::{App, Counters, lock};
use crate::peer::{Device, LivePeerId, channel_id};
use crate::swarm::{Report, SwarmError};

/// Largest `/stats` body.
pub const MAX_STATS_BODY: usize = 4096;
/// Longest `browser` or `os` kept.
const MAX_LABEL: usize = 64;

/// An error answer: status and JSON `{error}`.
#[derive(Debug)]
pub struct Refusal(pub StatusCode, pub String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.0, axum::Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<SwarmError> for Refusal {
    fn from(e: SwarmError) -> Self {
        let status = match e {
            SwarmError::UnknownPeer => StatusCode::NOT_FOUND,
            SwarmError::WrongChannel => StatusCode::CONFLICT,
            SwarmError::Full(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        Self(status, e.to_string())
    }
}

type Params = Result<Query<HashMap<String, String>>, QueryRejection>;

fn params(p: Params) -> Result<HashMap<String, String>, Refusal> {
    p.map(|Query(q)| q)
        .map_err(|e| Refusal(StatusCode::BAD_REQUEST, format!("query string: {e}")))
}

fn required<'a>(q: &'a HashMap<String, String>, name: &str) -> Result<&'a str, Refusal> {
    q.get(name)
        .map(String::as_str)
        .ok_or_else(|| Refusal(StatusCode::BAD_REQUEST, format!("{name} is missing")))
}

fn channel_and_peer(q: &HashMap<String, String>) -> Result<(ids::InfoHash, LivePeerId), Refusal> {
    let channel =
        channel_id(required(q, "info_hash")?).map_err(|e| Refusal(StatusCode::BAD_REQUEST, e.to_string()))?;
    let peer = LivePeerId::parse(required(q, "peer_id")?).ok_or_else(|| {
        Refusal(
            StatusCode::BAD_REQUEST,
            "peer_id is malformed (20 characters of 0-9a-z)".into(),
        )
    })?;
    Ok((channel, peer))
}

fn peers_json(peers: &[LivePeerId]) -> Value {
    Value::Array(peers.iter().map(|p| json!({ "id": p.as_str() })).collect())
}

/// `GET /announce?info_hash&browser&device&os`.
pub async fn announce(
    State(app): State<Arc<App>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    q: Params,
) -> Result<axum::Json<Value>, Refusal> {
    let now = Instant::now();
    if !app.allow_announce(from.ip(), now) {
        return Err(Refusal(
            StatusCode::TOO_MANY_REQUESTS,
            "too many announces from your address".into(),
        ));
    }
    let q = params(q)?;
    let channel = channel_id(required(&q, "info_hash")?)
        .map_err(|e| Refusal(StatusCode::BAD_REQUEST, e.to_string()))?;
    for label in ["browser", "os", "device"] {
        if q.get(label).is_some_and(|v| v.len() > MAX_LABEL) {
            return Err(Refusal(
                StatusCode::BAD_REQUEST,
                format!("{label} is longer than {MAX_LABEL} bytes"),
            ));
        }
    }
    let device = Device::parse(q.get("device").map_or("", String::as_str));
    let (random, pick) = app.random();
    let (peer_id, peers) = lock(&app.swarms).announce(channel, device, from.ip(), now, random, pick)?;
    Counters::bump(&app.counters.announces);
    Ok(axum::Json(json!({
        "peer_id": peer_id.as_str(),
        "report_interval": app.config.report_interval,
        "heartbeat_interval": app.config.heartbeat_interval,
        "peers": peers_json(&peers),
    })))
}

/// `GET /get_peers?info_hash&peer_id`.
pub async fn get_peers(State(app): State<Arc<App>>, q: Params) -> Result<axum::Json<Value>, Refusal> {
    let (channel, peer) = channel_and_peer(&params(q)?)?;
    let (_, pick) = app.random();
    let peers = lock(&app.swarms).get_peers(&channel, &peer, Instant::now(), pick)?;
    Ok(axum::Json(json!({ "peers": peers_json(&peers) })))
}

/// `GET /heartbeat?info_hash&peer_id`.
pub async fn heartbeat(State(app): State<Arc<App>>, q: Params) -> Result<axum::Json<Value>, Refusal> {
    let (channel, peer) = channel_and_peer(&params(q)?)?;
    lock(&app.swarms).heartbeat(&channel, &peer, Instant::now())?;
    Ok(axum::Json(json!({})))
}

/// `POST /stats?info_hash&peer_id` with `{source, p2p, conns, failConns}` (deltas).
pub async fn stats(
    State(app): State<Arc<App>>,
    q: Params,
    body: Bytes,
) -> Result<axum::Json<Value>, Refusal> {
    let (channel, peer) = channel_and_peer(&params(q)?)?;
    let report = parse_report(&body)?;
    lock(&app.swarms).report(&channel, &peer, report, Instant::now())?;
    Ok(axum::Json(json!({})))
}

/// A `/stats` body: `{source, p2p, conns, failConns}`, each a number ≥ 0 (missing ones are 0).
pub fn parse_report(body: &[u8]) -> Result<Report, Refusal> {
    if body.len() > MAX_STATS_BODY {
        return Err(Refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body over {MAX_STATS_BODY} bytes"),
        ));
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| Refusal(StatusCode::BAD_REQUEST, format!("body is not JSON: {e}")))?;
    let field = |name: &str| -> Result<u64, Refusal> {
        match v.get(name) {
            None => Ok(0),
            Some(x) => x
                .as_u64()
                .or_else(|| {
                    x.as_f64()
                        .filter(|f| *f >= 0.0 && f.is_finite())
                        .map(|f| f as u64)
                })
                .ok_or_else(|| {
                    Refusal(
                        StatusCode::BAD_REQUEST,
                        format!("{name} must be a number of at least 0"),
                    )
                }),
        }
    };
    if !v.is_object() {
        return Err(Refusal(
            StatusCode::BAD_REQUEST,
            "body must be a JSON object".into(),
        ));
    }
    Ok(Report {
        source: field("source")?,
        p2p: field("p2p")?,
        conns: field("conns")?,
        fail_conns: field("failConns")?,
    })
}

/// `GET /channels`: every channel's viewers and P2P ratio.
pub async fn channels(State(app): State<Arc<App>>) -> axum::Json<Value> {
    let list = lock(&app.swarms).channels();
    axum::Json(Value::Array(
        list.iter()
            .map(|c| {
                json!({
                    "info_hash": c.id.to_hex(),
                    "viewers": c.viewers,
                    "mobile": c.mobile,
                    "p2p_ratio": c.totals.p2p_ratio(),
                    "source_bytes": c.totals.source,
                    "p2p_bytes": c.totals.p2p,
                    "conns": c.totals.conns,
                    "fail_conns": c.totals.fail_conns,
                })
            })
            .collect(),
    ))
}

/// CORS on every answer (and the preflight of `POST /stats`): any origin unless
/// `cors_origins` names some.
pub async fn cors(State(app): State<Arc<App>>, req: axum::extract::Request, next: Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let preflight = req.method() == Method::OPTIONS;
    let mut res = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(req).await
    };
    let allowed = match (&origin, app.config.cors_origins.is_empty()) {
        (_, true) => Some(HeaderValue::from_static("*")),
        (Some(o), false) => app
            .config
            .cors_origins
            .iter()
            .any(|a| a.as_bytes() == o.as_bytes())
            .then(|| o.clone()),
        (None, false) => None,
    };
    if let Some(a) = allowed {
        let h: &mut HeaderMap = res.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, a);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Content-Type"),
        );
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        if !app.config.cors_origins.is_empty() {
            h.insert(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
    res
}
