//! `/metrics`: the daemon in Prometheus text, behind the same token as the rest.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use http_server::prometheus::{CONTENT_TYPE, Exposition, Kind};

use crate::App;

/// `GET /metrics`.
pub async fn metrics(State(app): State<Arc<App>>) -> impl IntoResponse {
    let torrents = app.daemon.torrents();
    let mut out = Exposition::new();
    if let Some(dht) = &app.daemon.dht {
        dht_server::stats::write_metrics(dht, &mut out);
    }
    let mut by_state: BTreeMap<&str, usize> = BTreeMap::new();
    for s in [
        "downloading",
        "seeding",
        "stopped",
        "checking",
        "metadata",
        "starting",
        "error",
    ] {
        by_state.insert(s, 0);
    }
    for t in &torrents {
        *by_state.entry(t.state).or_default() += 1;
    }
    let mut f = out.family("nexsuj_daemon_torrents", "Torrents by state.", Kind::Gauge);
    for (state, n) in by_state {
        f.sample(&[("state", state)], n);
    }
    let sum = |i: usize| torrents.iter().map(|t| t.totals[i]).sum::<u64>();
    let live = || torrents.iter().filter_map(|t| t.live.as_ref());
    out.counter(
        "nexsuj_daemon_downloaded_bytes_total",
        "Payload bytes downloaded, over the torrents' lives.",
        sum(0),
    );
    out.counter(
        "nexsuj_daemon_uploaded_bytes_total",
        "Payload bytes uploaded, over the torrents' lives.",
        sum(1),
    );
    out.counter(
        "nexsuj_daemon_wasted_bytes_total",
        "Bytes received and thrown away (failed hash checks, duplicates).",
        sum(2),
    );
    out.gauge(
        "nexsuj_daemon_download_rate_bytes",
        "Download rate now, bytes per second.",
        live().map(|l| l.down_rate).sum::<u64>(),
    );
    out.gauge(
        "nexsuj_daemon_upload_rate_bytes",
        "Upload rate now, bytes per second.",
        live().map(|l| l.up_rate).sum::<u64>(),
    );
    out.gauge(
        "nexsuj_daemon_peers",
        "Peers connected, over all torrents.",
        live().map(|l| l.peers.len()).sum::<usize>(),
    );
    let (down, up) = app.daemon.global_rates();
    let mut f = out.family(
        "nexsuj_daemon_rate_limit_bytes",
        "Global limits, bytes per second (0 = none).",
        Kind::Gauge,
    );
    f.sample(&[("direction", "down")], down * 1024);
    f.sample(&[("direction", "up")], up * 1024);
    let c = app.daemon.session().snapshot().counters;
    out.gauge(
        "nexsuj_daemon_connections",
        "Peer connections open, half-open ones included.",
        c.connections,
    );
    out.counter(
        "nexsuj_daemon_incoming_refused_total",
        "Incoming peer connections refused at max_connections.",
        c.incoming_refused,
    );
    out.counter(
        "nexsuj_daemon_send_queue_overflows_total",
        "Peers disconnected for not reading what we sent.",
        c.send_queue_overflows,
    );
    let mut f = out.family(
        "nexsuj_daemon_peer_connections_total",
        "Peer connections established, by encryption (plaintext, obfuscated: MSE handshake only, rc4).",
        Kind::Counter,
    );
    f.sample(&[("encryption", "plaintext")], c.peers_plaintext);
    f.sample(&[("encryption", "obfuscated")], c.peers_obfuscated);
    f.sample(&[("encryption", "rc4")], c.peers_rc4);
    let mut f = out.family(
        "nexsuj_daemon_peer_transport_total",
        "Peer connections established, by transport (tcp, utp).",
        Kind::Counter,
    );
    f.sample(&[("transport", "tcp")], c.peers_tcp);
    f.sample(&[("transport", "utp")], c.peers_utp);
    out.counter(
        "nexsuj_daemon_encryption_failures_total",
        "Peer connections dropped for their encryption: a failed MSE handshake or a refused policy.",
        c.encryption_failures,
    );
    app.counters.write_prometheus("nexsuj_daemon_http", &mut out);
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], out.finish())
}
