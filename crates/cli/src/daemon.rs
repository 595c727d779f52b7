//! `nexsuj daemon`: the long-running client with seed 004's HTTP API and a web UI, until
//! SIGINT or SIGTERM. The daemon itself is the library's [`client_api::run`]; this module
//! reads flags and configuration and prints where it listens.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use client_api::DaemonConfig;

use crate::signals::Signals;
use crate::{Outcome, layered, logging, output};

/// Options of `nexsuj daemon`; every config key can also be set as `NEXSUJ_<KEY>`
/// (`NEXSUJ_API_TOKEN`, …).
#[derive(Args)]
pub struct DaemonArgs {
    /// TOML configuration file (see --print-default-config).
    #[arg(long, short, env = "NEXSUJ_CONFIG")]
    config: Option<PathBuf>,
    /// Where the API and the web UI listen (default 127.0.0.1:8090).
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// The daemon's state folder (default ./nexsuj-daemon).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Where downloads go when a request names no folder (default STATE_DIR/downloads).
    #[arg(long, value_name = "DIR")]
    download_dir: Option<PathBuf>,
    /// Port for peers (default: 6881, else the next free one up to 6889; 0: any free port).
    #[arg(long)]
    peer_port: Option<u16>,
    /// Print the documented default configuration and exit.
    #[arg(long)]
    print_default_config: bool,
    /// Log level: error, warn, info, debug or trace.
    #[arg(long, env = "NEXSUJ_LOG", default_value = "info")]
    log: String,
}

/// Runs the daemon until a termination signal.
pub fn run(args: DaemonArgs) -> anyhow::Result<Outcome> {
    if args.print_default_config {
        output::stdout(&DaemonConfig::default().to_documented_toml())?;
        return Ok(Outcome::Ok);
    }
    logging::init(&args.log)?;
    let config = load(&args)?;
    let runtime = layered::runtime(0, "nexsuj-daemon")?;
    runtime.block_on(async {
        let stop = Signals::new()?.wait_for_stop(|| async {});
        client_api::run(
            config,
            |ready| {
                if let Some(token) = &ready.new_token {
                    // Shown once, on stdout; it stays in the token file (owner-only).
                    let _ = output::stdout(&format!(
                        "API token (also in {}): {token}\n",
                        ready.token_file.display()
                    ));
                }
                let peers: Vec<String> = ready.peers.iter().map(ToString::to_string).collect();
                tracing::info!(api = %ready.api, peers = %peers.join(", "), "nexsuj daemon ready");
                output::stderr_line(&format!(
                    "nexsuj daemon ready: web UI and API on http://{}/, peers on {}",
                    ready.api,
                    peers.join(", ")
                ));
            },
            stop,
        )
        .await
        .context("running the daemon")
    })?;
    Ok(Outcome::Ok)
}

/// The settings from defaults, file and environment, then the flags on top.
fn load(args: &DaemonArgs) -> anyhow::Result<DaemonConfig> {
    let mut config: DaemonConfig = layered::load(
        &DaemonConfig::default(),
        args.config.as_deref(),
        &[("", "NEXSUJ_")],
    )?;
    if let Some(a) = args.listen {
        config.api.api_address = a;
    }
    if let Some(d) = &args.state_dir {
        config.storage.state_dir = d.clone();
    }
    if let Some(d) = &args.download_dir {
        config.storage.download_dir = Some(d.clone());
    }
    if let Some(p) = args.peer_port {
        config.peers.peer_port = p;
        config.peers.peer_port_last = p;
    }
    Ok(config)
}
