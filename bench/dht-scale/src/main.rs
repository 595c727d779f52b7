//! `dht-scale`: a DHT of thousands of nexsuj nodes on loopback, in this one process, each on
//! its own UDP socket and joining the way a real node does (it pings a few nodes that already
//! joined, then looks up its own id). Then it measures:
//!
//! - `get_peers` lookups from random nodes towards random targets: queries sent and hops
//!   (median, p95), and whether the 8 closest nodes found are the true 8 closest of the
//!   whole network;
//! - routing-table sizes, and resident memory per node (the process's growth over the nodes);
//! - time to first peer: a fresh node joins through one random node, then looks up a
//!   torrent announced by another; the time from the start of that lookup to the first peer.
//!
//! Prints a JSON report on stdout. With `--hold` it then prints `READY {json}` (addresses of
//! some nodes and the announced info-hash) and keeps the network up until stdin closes, so
//! that `bench/dht-scale.py` can time libtorrent on the same network.
//!
//! Usage: `dht-scale [--nodes N] [--lookups N] [--first-peer N] [--hold]`

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use client::dht::{Dht, DhtConfig};
use ids::{InfoHash, NodeId};
use serde_json::json;
use tokio::io::AsyncBufReadExt as _;

struct Args {
    nodes: usize,
    lookups: usize,
    first_peer: usize,
    hold: bool,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        nodes: 10_000,
        lookups: 500,
        first_peer: 20,
        hold: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut number = |name: &str| -> Result<usize, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} takes a number"))
        };
        match flag.as_str() {
            "--nodes" => a.nodes = number("--nodes")?.max(16),
            "--lookups" => a.lookups = number("--lookups")?,
            "--first-peer" => a.first_peer = number("--first-peer")?,
            "--hold" => a.hold = true,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(a)
}

/// Resident memory of this process, bytes (Linux).
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()))
        })
        .map_or(0, |kb| kb * 1024)
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let i = ((values.len() - 1) as f64 * p).round() as usize;
    values[i]
}

async fn node(bootstrap: Vec<SocketAddr>) -> std::io::Result<Dht> {
    Dht::start(DhtConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        bootstrap,
        ..DhtConfig::default()
    })
    .await
}

/// Starts `n` nodes and has them join in waves, each through 3 nodes that joined before.
async fn build(n: usize, rng: &mut rng::Rng) -> std::io::Result<Vec<Dht>> {
    let mut nodes: Vec<Dht> = Vec::with_capacity(n);
    let wave = 64;
    let started = Instant::now();
    while nodes.len() < n {
        let mut joining = Vec::new();
        for _ in 0..wave.min(n - nodes.len()) {
            let known: Vec<SocketAddr> = if nodes.is_empty() {
                Vec::new()
            } else {
                (0..3)
                    .filter_map(|_| nodes[rng.below(nodes.len())].local_addr().ok())
                    .collect()
            };
            joining.push(node(known).await?);
        }
        let mut set = tokio::task::JoinSet::new();
        for d in &joining {
            let d = d.clone();
            set.spawn(async move { d.bootstrap().await });
        }
        while set.join_next().await.is_some() {}
        nodes.extend(joining);
        if nodes.len() % 1000 < wave {
            eprintln!(
                "{} nodes joined ({:.0} s)",
                nodes.len(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    // A node that has run a while has refreshed its buckets since it joined a smaller
    // network: one more lookup of its own id each, as the 15-minute refresh would do.
    let mut set = tokio::task::JoinSet::new();
    for chunk in nodes.chunks(n.div_ceil(64)) {
        let chunk = chunk.to_vec();
        set.spawn(async move {
            for d in chunk {
                d.find_node(d.id()).await;
            }
        });
    }
    while set.join_next().await.is_some() {}
    eprintln!("network refreshed ({:.0} s)", started.elapsed().as_secs_f64());
    Ok(nodes)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = args()?;
    let mut rng = rng::Rng::from_entropy(9);
    let before = rss();
    let t0 = Instant::now();
    let nodes = build(a.nodes, &mut rng).await?;
    let join_seconds = t0.elapsed().as_secs_f64();
    let after = rss();
    let mut tables: Vec<f64> = nodes.iter().map(|d| d.table_size() as f64).collect();
    let ids: Vec<NodeId> = nodes.iter().map(Dht::id).collect();

    // Lookups towards random targets from random nodes.
    let (mut queries, mut hops, mut exact) = (Vec::new(), Vec::new(), 0usize);
    for _ in 0..a.lookups {
        let mut t = [0u8; 20];
        rng.fill(&mut t);
        let from = &nodes[rng.below(nodes.len())];
        let found = from.get_peers(InfoHash(t)).await;
        let target = NodeId(t);
        let mut truth = ids.clone();
        truth.sort_by_key(|id| id.distance(&target));
        let got: Vec<NodeId> = found.closest.iter().map(|c| c.0).collect();
        exact += usize::from(got == truth[..8]);
        queries.push(found.queries as f64);
        hops.push(f64::from(found.hops));
    }

    // Time to first peer: a torrent announced by one node, looked up by fresh nodes.
    let mut h = [0u8; 20];
    rng.fill(&mut h);
    let torrent = InfoHash(h);
    let (_, took) = nodes[rng.below(nodes.len())].announce(torrent, Some(51413)).await;
    let mut first = Vec::new();
    let mut missed = 0;
    for _ in 0..a.first_peer {
        let entry = nodes[rng.below(nodes.len())].local_addr()?;
        let fresh = node(vec![entry]).await?;
        fresh.bootstrap().await;
        match fresh.get_peers(torrent).await.first_peer {
            Some(d) => first.push(d.as_secs_f64() * 1000.0),
            None => missed += 1,
        }
    }
    let report = json!({
        "nodes": a.nodes,
        "join_seconds": join_seconds,
        "table_nodes": { "median": percentile(&mut tables, 0.5), "p95": percentile(&mut tables, 0.95), "min": percentile(&mut tables, 0.0) },
        "rss_bytes_per_node": (after.saturating_sub(before)) / a.nodes as u64,
        "lookups": a.lookups,
        "queries": { "median": percentile(&mut queries, 0.5), "p95": percentile(&mut queries, 0.95) },
        "hops": { "median": percentile(&mut hops, 0.5), "p95": percentile(&mut hops, 0.95) },
        "exact_closest_8_percent": if a.lookups == 0 { 0.0 } else { 100.0 * exact as f64 / a.lookups as f64 },
        "announce_took": took,
        "first_peer_ms": { "median": percentile(&mut first, 0.5), "p95": percentile(&mut first, 0.95), "missed": missed, "runs": a.first_peer },
    });
    println!("{report}");
    if a.hold {
        let entries: Vec<String> = (0..32)
            .filter_map(|_| nodes[rng.below(nodes.len())].local_addr().ok())
            .map(|x| x.to_string())
            .collect();
        println!(
            "READY {}",
            json!({ "info_hash": torrent.to_hex(), "nodes": entries })
        );
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        while let Ok(Some(_)) = lines.next_line().await {}
    }
    drop(nodes);
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok(())
}
