//! The HTTP tracker's handlers: thin wrappers that parse with `tracker-proto`, ask the
//! engine and write the reply into a per-thread buffer that is reused from one request to
//! the next.

use std::cell::RefCell;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use ids::InfoHash;
use tracker_proto::common::{AnnounceResponse, ScrapeStats};
use tracker_proto::http::{self as proto, HttpAnnounce};

use super::HttpState;
use crate::engine::AnnounceInput;
use crate::stats::ProtocolCounters;

/// What a handler reuses between requests on one thread.
#[derive(Default)]
struct Buffers {
    response: AnnounceResponse,
    scraped: Vec<(InfoHash, ScrapeStats)>,
    out: Vec<u8>,
}

thread_local! {
    static BUFFERS: RefCell<Buffers> = RefCell::new(Buffers::default());
}

type Shared = State<Arc<HttpState>>;

pub(super) async fn announce(
    State(s): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    answer_announce(&s, peer, None, query.as_deref(), &headers).await
}

pub(super) async fn announce_with_passkey(
    State(s): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(passkey): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    answer_announce(&s, peer, Some(&passkey), query.as_deref(), &headers).await
}

pub(super) async fn scrape(State(s): Shared, RawQuery(query): RawQuery) -> Response {
    // Clients derive the scrape URL from the announce URL, so `?auth_key=` comes along.
    let passkey = query
        .as_deref()
        .and_then(|q| crate::passkey::from_query(q.as_bytes()));
    answer_scrape(&s, passkey.as_deref(), query.as_deref()).await
}

pub(super) async fn scrape_with_passkey(
    State(s): Shared,
    Path(passkey): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    answer_scrape(&s, Some(&passkey), query.as_deref()).await
}

pub(super) async fn stats(
    State(s): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    for_operators(&s, peer, &headers, |s| {
        s.stats.sample();
        axum::Json(s.stats.report(&s.tracker)).into_response()
    })
}

pub(super) async fn metrics(
    State(s): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    for_operators(&s, peer, &headers, |s| {
        let text = s.stats.prometheus(&s.tracker);
        let content_type = HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
        ([(header::CONTENT_TYPE, content_type)], text).into_response()
    })
}

/// `answer` for loopback clients or those with the metrics token; for others a 404 (nothing
/// to see here), counted.
fn for_operators(
    s: &HttpState,
    peer: SocketAddr,
    headers: &HeaderMap,
    answer: impl FnOnce(&HttpState) -> Response,
) -> Response {
    let client = s.options.trusted_proxies.client_ip(peer.ip(), headers);
    if super::may_read_metrics(client, headers, s.options.metrics_token.as_ref()) {
        return answer(s);
    }
    ProtocolCounters::bump(&s.stats.metrics_denied);
    axum::http::StatusCode::NOT_FOUND.into_response()
}

async fn answer_announce(
    s: &HttpState,
    peer: SocketAddr,
    path_passkey: Option<&str>,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Response {
    let counters = &s.stats.http;
    ProtocolCounters::bump(&counters.requests);
    let parsed = match proto::parse_announce(query.unwrap_or("").as_bytes()) {
        Ok(p) => p,
        Err(e) => {
            ProtocolCounters::bump(&counters.malformed);
            return failure(&e.to_string());
        }
    };
    let source = s.options.trusted_proxies.client_ip(peer.ip(), headers);
    let input = AnnounceInput {
        request: &parsed.request,
        passkey: path_passkey.or(parsed.auth_key.as_deref()),
        source,
        other_family: other_family(&parsed, source),
    };
    let reply = |response: &mut AnnounceResponse, out: &mut Vec<u8>| {
        ProtocolCounters::bump(&counters.announces);
        response.warning.clone_from(&s.options.warning_message);
        response.tracker_id = s.options.tracker_id.as_ref().map(|t| t.as_bytes().to_vec());
        out.clear();
        proto::write_announce(out, response, parsed.compact, parsed.no_peer_id);
        bencoded(Bytes::copy_from_slice(out))
    };
    let refused = |refusal: crate::access::Refusal| {
        ProtocolCounters::bump(&counters.refused);
        failure(&refusal.to_string())
    };
    if s.tracker.is_shared() {
        // A round trip to Redis: the thread's buffers can't be held across it.
        let mut response = AnnounceResponse::default();
        return match s.tracker.announce_async(&input, &mut response).await {
            Ok(()) => reply(&mut response, &mut Vec::with_capacity(256)),
            Err(refusal) => refused(refusal),
        };
    }
    let now = s.tracker.now();
    BUFFERS.with_borrow_mut(|b| match s.tracker.announce(&input, now, &mut b.response) {
        Ok(()) => reply(&mut b.response, &mut b.out),
        Err(refusal) => refused(refusal),
    })
}

/// BEP 7: the address of the other family a dual-stack client tells us about.
fn other_family(a: &HttpAnnounce, source: IpAddr) -> Option<IpAddr> {
    match source {
        IpAddr::V4(_) => a.ipv6.map(IpAddr::V6),
        IpAddr::V6(_) => a.ipv4.map(IpAddr::V4),
    }
}

async fn answer_scrape(s: &HttpState, passkey: Option<&str>, query: Option<&str>) -> Response {
    let counters = &s.stats.http;
    ProtocolCounters::bump(&counters.requests);
    let hashes = match proto::parse_scrape(query.unwrap_or("").as_bytes(), s.options.max_scrape) {
        Ok(h) if h.is_empty() => {
            ProtocolCounters::bump(&counters.malformed);
            return failure("scrape needs at least one info_hash (full scrapes are not served)");
        }
        Ok(h) => h,
        Err(e) => {
            ProtocolCounters::bump(&counters.malformed);
            return failure(&e.to_string());
        }
    };
    if s.tracker.is_shared() {
        let mut scraped = Vec::with_capacity(hashes.len());
        return match s.tracker.scrape_async(&hashes, passkey, &mut scraped).await {
            Ok(()) => {
                ProtocolCounters::bump(&counters.scrapes);
                let mut out = Vec::with_capacity(64 * scraped.len() + 16);
                proto::write_scrape(&mut out, &mut scraped);
                bencoded(Bytes::from(out))
            }
            Err(refusal) => {
                ProtocolCounters::bump(&counters.refused);
                failure(&refusal.to_string())
            }
        };
    }
    BUFFERS.with_borrow_mut(|b| {
        b.scraped.clear();
        match s.tracker.scrape(&hashes, passkey, &mut b.scraped) {
            Ok(()) => {
                ProtocolCounters::bump(&counters.scrapes);
                b.out.clear();
                proto::write_scrape(&mut b.out, &mut b.scraped);
                bencoded(Bytes::copy_from_slice(&b.out))
            }
            Err(refusal) => {
                ProtocolCounters::bump(&counters.refused);
                failure(&refusal.to_string())
            }
        }
    })
}

fn failure(reason: &str) -> Response {
    let mut out = Vec::with_capacity(reason.len() + 24);
    proto::write_failure(&mut out, reason);
    bencoded(Bytes::from(out))
}

fn bencoded(body: Bytes) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))],
        body,
    )
        .into_response()
}
