//! A DHT node's figures: JSON for `/stats`, Prometheus text for `/metrics` (here and in the
//! client daemon's).

use client::dht::Dht;
use dht::krpc::METHOD_NAMES;
use http_server::prometheus::{Exposition, Kind};

/// The node's figures as JSON.
pub fn json(dht: &Dht) -> serde_json::Value {
    let s = dht.stats();
    let (peers, torrents) = dht.stored();
    let by = |counts: [u64; 5]| -> serde_json::Map<String, serde_json::Value> {
        METHOD_NAMES
            .iter()
            .zip(counts)
            .map(|(m, n)| ((*m).to_owned(), n.into()))
            .collect()
    };
    serde_json::json!({
        "id": dht.id().to_hex(),
        "listen": dht.local_addr().ok().map(|a| a.to_string()),
        "external_ip": dht.external_ip().map(|a| a.to_string()),
        "table": { "nodes": dht.table_size(), "buckets": dht.buckets() },
        "store": { "peers": peers, "torrents": torrents },
        "queries_in": { "total": s.queries_in, "by_method": by(s.queries_in_by) },
        "queries_out": { "total": s.queries_out, "by_method": by(s.queries_out_by) },
        "replies": s.replies,
        "timeouts": s.timeouts,
        "bad_packets": s.bad_packets,
        "rate_limited": s.rate_limited,
        "lookups": s.lookups,
        "id_changes": s.id_changes,
    })
}

/// The node's figures as Prometheus families named `nexsuj_dht_*`.
pub fn write_metrics(dht: &Dht, out: &mut Exposition) {
    let s = dht.stats();
    let (peers, torrents) = dht.stored();
    out.gauge(
        "nexsuj_dht_table_nodes",
        "Nodes in the routing tables.",
        dht.table_size(),
    );
    out.gauge(
        "nexsuj_dht_table_buckets",
        "Buckets of the IPv4 routing table.",
        dht.buckets(),
    );
    out.gauge(
        "nexsuj_dht_stored_peers",
        "Peers stored from announce_peer.",
        peers,
    );
    out.gauge(
        "nexsuj_dht_stored_torrents",
        "Torrents those peers belong to.",
        torrents,
    );
    for (name, help, counts) in [
        (
            "nexsuj_dht_queries_in_total",
            "Queries answered, by method.",
            s.queries_in_by,
        ),
        (
            "nexsuj_dht_queries_out_total",
            "Queries sent, by method.",
            s.queries_out_by,
        ),
    ] {
        let mut f = out.family(name, help, Kind::Counter);
        for (m, n) in METHOD_NAMES.iter().zip(counts) {
            f.sample(&[("method", m)], n);
        }
    }
    out.counter("nexsuj_dht_replies_total", "Answers to our queries.", s.replies);
    out.counter(
        "nexsuj_dht_timeouts_total",
        "Our queries that timed out.",
        s.timeouts,
    );
    out.counter(
        "nexsuj_dht_bad_packets_total",
        "Packets that were not KRPC, or answers nobody asked for.",
        s.bad_packets,
    );
    out.counter(
        "nexsuj_dht_rate_limited_total",
        "Packets dropped unread: their source sent too many.",
        s.rate_limited,
    );
    out.counter("nexsuj_dht_lookups_total", "Lookups run.", s.lookups);
    out.counter(
        "nexsuj_dht_id_changes_total",
        "Times the node id changed to fit the external address (BEP 42).",
        s.id_changes,
    );
}
