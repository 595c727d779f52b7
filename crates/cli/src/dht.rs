//! `nexsuj dht`: a DHT node on its own — `serve` (answer queries and stay in the network),
//! `get-peers` (find a torrent's peers), `ping` (is a node there). The node is the client's
//! [`client::dht::Dht`]; this module parses flags and prints.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

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
    Serve,
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
        let config = DhtConfig {
            listen: args.listen,
            bootstrap,
            ..DhtConfig::default()
        };
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
            DhtCommand::Serve => {
                let addr = dht.local_addr()?;
                let size = dht.bootstrap().await;
                output::stderr_line(&format!("nexsuj dht node {} on {addr}; {size} nodes in the table", dht.id()));
                let stop = Signals::new()?.wait_for_stop(|| async {});
                tokio::pin!(stop);
                let mut every = tokio::time::interval(Duration::from_secs(60));
                loop {
                    tokio::select! {
                        () = &mut stop => break,
                        _ = every.tick() => {
                            let (peers, torrents) = dht.stored();
                            tracing::info!(table = dht.table_size(), peers, torrents, stats = ?dht.stats(), "dht");
                        }
                    }
                }
            }
        }
        Ok(Outcome::Ok)
    })
}
