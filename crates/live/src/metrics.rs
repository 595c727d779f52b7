//! `/metrics` (Prometheus): per channel viewers, P2P ratio, bytes, connections; the sockets
//! and counters. Loopback clients only, unless `metrics_token` is set and given.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_server::prometheus::{CONTENT_TYPE, Exposition, Kind};

use crate::app::{App, lock};

/// `GET /metrics`.
pub async fn metrics(
    State(app): State<Arc<App>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let allowed = match &app.config.metrics_token {
        Some(token) => {
            http_server::auth::bearer(&headers).is_some_and(|t| http_server::auth::ct_eq(t, token.as_bytes()))
        }
        None => from.ip().is_loopback(),
    };
    if !allowed {
        // As if there were nothing here.
        return StatusCode::NOT_FOUND.into_response();
    }
    let channels = lock(&app.swarms).channels();
    let mut out = Exposition::new();
    let families: [(&str, &str, Kind); 6] = [
        ("nexsuj_live_viewers", "Viewers of a channel now.", Kind::Gauge),
        (
            "nexsuj_live_p2p_ratio",
            "Share of a channel's bytes that came from peers: p2p / (p2p + source).",
            Kind::Gauge,
        ),
        (
            "nexsuj_live_source_bytes_total",
            "Bytes viewers fetched from the origin.",
            Kind::Counter,
        ),
        (
            "nexsuj_live_p2p_bytes_total",
            "Bytes viewers received from peers.",
            Kind::Counter,
        ),
        (
            "nexsuj_live_connections_total",
            "Peer connections viewers made.",
            Kind::Counter,
        ),
        (
            "nexsuj_live_failed_connections_total",
            "Peer connections that failed.",
            Kind::Counter,
        ),
    ];
    for (i, (name, help, kind)) in families.into_iter().enumerate() {
        let mut f = out.family(name, help, kind);
        for c in &channels {
            let id = c.id.to_hex();
            let labels = [("channel", id.as_str())];
            match i {
                0 => f.sample(&labels, c.viewers),
                1 => f.sample(&labels, c.totals.p2p_ratio()),
                2 => f.sample(&labels, c.totals.source),
                3 => f.sample(&labels, c.totals.p2p),
                4 => f.sample(&labels, c.totals.conns),
                _ => f.sample(&labels, c.totals.fail_conns),
            }
        }
    }
    out.gauge("nexsuj_live_channels", "Channels with viewers.", channels.len());
    out.gauge(
        "nexsuj_live_sockets",
        "Open WebSockets (signaling and WebTorrent).",
        app.open_sockets(),
    );
    let (swarms, peers) = lock(&app.webtorrent).size();
    out.gauge("nexsuj_live_webtorrent_swarms", "WebTorrent swarms.", swarms);
    out.gauge("nexsuj_live_webtorrent_peers", "WebTorrent peers.", peers);
    let c = &app.counters;
    for (name, help, v) in [
        ("nexsuj_live_announces_total", "Announces answered.", &c.announces),
        (
            "nexsuj_live_rate_limited_total",
            "Requests and messages refused for a rate limit.",
            &c.rate_limited,
        ),
        ("nexsuj_live_signals_total", "Signals relayed.", &c.signals),
        (
            "nexsuj_live_signals_gone_total",
            "Signals whose target was not connected.",
            &c.signals_gone,
        ),
        (
            "nexsuj_live_signals_refused_total",
            "Signals refused or dropped.",
            &c.signals_refused,
        ),
        (
            "nexsuj_live_webtorrent_messages_total",
            "WebTorrent tracker messages.",
            &c.webtorrent_messages,
        ),
        (
            "nexsuj_live_sockets_refused_total",
            "WebSockets refused for a cap.",
            &c.sockets_refused,
        ),
    ] {
        out.counter(name, help, v.load(Ordering::Relaxed));
    }
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], out.finish()).into_response()
}
