//! `nexsuj dht`: a DHT node on its own — `serve` (answer queries and stay in the network),
//! `get-peers` (find a torrent's peers), `sample` (walk the network for info-hashes, BEP 51),
//! `ping` (is a node there). The node is the client's [`client::dht::Dht`], and `serve` is
//! [`dht_server::run`]; this module parses flags and prints.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use client::dht::{Dht, DhtConfig};

use crate::signals::Signals;
use crate::{Outcome, logging, output};

/// Options of `nexsuj dht`.
#[derive(Args)]
pub struct DhtArgs {
    #[command(subcommand)]
    command: DhtCommand,
    /// UDP address of our node.
    #[arg(long, global = true, default_value = "0.0.0.0:0", value_name = "ADDR")]
    listen: SocketAddr,
    /// A second, IPv6 UDP address (BEP 32), when --listen is IPv4.
    #[arg(long, global = true, value_name = "ADDR")]
    listen6: Option<SocketAddr>,
    /// Only ask, never answer (BEP 43): for a node that cannot take queries (behind a NAT,
    /// short-lived).
    #[arg(long, global = true)]
    read_only: bool,
    /// A node to start from (repeatable), HOST:PORT.
    #[arg(long, global = true, value_name = "HOST:PORT")]
    bootstrap: Vec<String>,
    /// Log level: error, warn, info, debug or trace.
    #[arg(long, env = "NEXSUJ_LOG", default_value = "warn", global = true)]
    log: String,
}

#[derive(Subcommand)]
enum DhtCommand {
    /// Run a node until SIGINT or SIGTERM, logging its table and counters every minute.
    Serve {
        /// Serve /stats (JSON) and /metrics (Prometheus) at this address.
        #[arg(long, value_name = "ADDR")]
        http: Option<SocketAddr>,
        /// Keep the node id and the known nodes in this file between runs.
        #[arg(long, value_name = "FILE")]
        state: Option<PathBuf>,
    },
    /// Walk the network asking nodes for samples of the info-hashes they store (BEP 51): one
    /// info-hash a line, as found.
    Sample {
        /// Most nodes to ask.
        #[arg(long, default_value_t = 1000)]
        max_nodes: usize,
        /// Print a JSON summary at the end instead of the lines.
        #[arg(long)]
        json: bool,
    },
    /// Find the peers of a torrent: one IP:PORT a line (or JSON).
    GetPeers {
        /// The info-hash, 40 hex digits.
        info_hash: String,
        /// Print JSON: peers, the closest nodes, queries sent.
        #[arg(long)]
        json: bool,
    },
    /// Ping a node: its id.
    Ping {
        /// The node, HOST:PORT.
        node: String,
    },
}

fn resolve(s: &str) -> anyhow::Result<SocketAddr> {
    s.to_socket_addrs()
        .with_context(|| format!("cannot resolve {s}"))?
        .next()
        .with_context(|| format!("{s} resolves to nothing"))
}

/// Runs `nexsuj dht`.
pub fn run(args: DhtArgs) -> anyhow::Result<Outcome> {
    logging::init(&args.log)?;
    let bootstrap = args
        .bootstrap
        .iter()
        .map(|b| resolve(b))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let mut config = DhtConfig {
            listen: args.listen,
            listen6: args.listen6,
            read_only: args.read_only,
            bootstrap,
            ..DhtConfig::default()
        };
        if let DhtCommand::Serve { http, state } = args.command {
            config.state_file = state;
            return serve(config, http).await;
        }
        let dht = Dht::start(config).await.context("cannot bind the DHT socket")?;
        match args.command {
            DhtCommand::Ping { node } => {
                let addr = resolve(&node)?;
                let id = dht.ping(addr).await.with_context(|| format!("ping {addr}"))?;
                output::stdout(&format!("{addr} {id}\n"))?;
            }
            DhtCommand::GetPeers { info_hash, json } => {
                let h = ids::InfoHash::from_hex(&info_hash).context("the info-hash must be 40 hex digits")?;
                dht.bootstrap().await;
                let found = dht.get_peers(h).await;
                if json {
                    let v = serde_json::json!({
                        "peers": found.peers.iter().map(ToString::to_string).collect::<Vec<_>>(),
                        "closest": found.closest.iter().map(|(id, a, _)| serde_json::json!({"id": id.to_hex(), "addr": a.to_string()})).collect::<Vec<_>>(),
                        "queries": found.queries,
                        "table": dht.table_size(),
                    });
                    output::stdout(&format!("{v}\n"))?;
                } else {
                    let lines: String = found.peers.iter().map(|p| format!("{p}\n")).collect();
                    output::stdout(&lines)?;
                }
                if found.peers.is_empty() {
                    return Ok(Outcome::Problems);
                }
            }
            DhtCommand::Sample { max_nodes, json } => {
                dht.bootstrap().await;
                let walk = dht
                    .sample(max_nodes, |h| {
                        if !json {
                            let _ = output::stdout(&format!("{}\n", h.to_hex()));
                        }
                    })
                    .await;
                if json {
                    let v = serde_json::json!({
                        "info_hashes": walk.info_hashes.iter().map(|h| h.to_hex()).collect::<Vec<_>>(),
                        "asked": walk.asked,
                        "sampled": walk.sampled,
                        "unsupported": walk.unsupported,
                    });
                    output::stdout(&format!("{v}\n"))?;
                }
                if walk.info_hashes.is_empty() {
                    return Ok(Outcome::Problems);
                }
            }
            DhtCommand::Serve { .. } => unreachable!("served above"),
        }
        Ok(Outcome::Ok)
    })
}

/// `nexsuj dht serve`.
async fn serve(config: DhtConfig, http: Option<SocketAddr>) -> anyhow::Result<Outcome> {
    let stop = Signals::new()?.wait_for_stop(|| async {});
    let server = dht_server::DhtServerConfig { dht: config, http };
    dht_server::run(
        server,
        |ready| {
            let http = ready
                .http
                .map(|a| format!("; /stats and /metrics on http://{a}"))
                .unwrap_or_default();
            output::stderr_line(&format!(
                "nexsuj dht node {} on {}{http}",
                ready.dht.id(),
                ready.udp
            ));
        },
        stop,
    )
    .await
    .context("the DHT node stopped")?;
    Ok(Outcome::Ok)
}
