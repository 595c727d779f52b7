//! `nexsuj tracker`: a public BitTorrent tracker, HTTP and UDP, until SIGINT or SIGTERM.
//! SIGHUP re-reads the allow/deny list. The tracker itself is the library's
//! [`tracker::run`]; this module reads flags and configuration, and handles the signals.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use tracker::access::PublicPolicy;
use tracker::config::{Mode, TrackerConfig};

use crate::signals::Signals;
use crate::{Outcome, layered, logging, output};

/// Options of `nexsuj tracker`; every config key can also be set as `NEXSUJ_<KEY>`.
#[derive(Args)]
pub struct TrackerArgs {
    /// TOML configuration file (see --print-default-config).
    #[arg(long, short, env = "NEXSUJ_CONFIG")]
    config: Option<PathBuf>,
    /// HTTP address (announce, scrape, /stats, /metrics).
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
    /// UDP address (BEP 15).
    #[arg(long, value_name = "ADDR")]
    udp: Option<SocketAddr>,
    /// Which torrents are served.
    #[arg(long, value_parser = ["open", "allow", "deny"])]
    mode: Option<String>,
    /// One hex info-hash per line, for --mode allow or deny (re-read on SIGHUP).
    #[arg(long, value_name = "FILE")]
    list_file: Option<PathBuf>,
    /// Keep the swarms in Redis, shared with other instances: redis://HOST:PORT[/DB], or
    /// redis+cluster://HOST:PORT,HOST:PORT for a Redis Cluster (default: in memory).
    #[arg(long, value_name = "URL", env = "NEXSUJ_REDIS_URL")]
    redis_url: Option<String>,
    /// Print the documented default configuration and exit.
    #[arg(long)]
    print_default_config: bool,
    /// Log level: error, warn, info, debug or trace.
    #[arg(long, env = "NEXSUJ_LOG", default_value = "info")]
    log: String,
}

/// Runs the tracker until a termination signal.
pub fn run(args: TrackerArgs) -> anyhow::Result<Outcome> {
    if args.print_default_config {
        output::stdout(&TrackerConfig::default().to_documented_toml())?;
        return Ok(Outcome::Ok);
    }
    logging::init(&args.log)?;
    let config = load(&args)?;
    let policy = Arc::new(PublicPolicy::from_config(&config.access)?);
    let runtime = layered::runtime(config.http.http_workers, "nexsuj-http")?;
    runtime.block_on(async {
        let stop = Signals::new()?.wait_for_stop(|| {
            let policy = policy.clone();
            async move {
                match policy.reload() {
                    Ok(n) => tracing::info!(torrents = n, "list reloaded"),
                    Err(e) => tracing::error!(error = %e, "list not reloaded; the old one stays"),
                }
            }
        });
        tracker::run(config, policy.clone(), Default::default(), stop)
            .await
            .context("running the tracker")
    })?;
    Ok(Outcome::Ok)
}

/// The settings from defaults, file and environment, then the flags on top.
fn load(args: &TrackerArgs) -> anyhow::Result<TrackerConfig> {
    let mut config: TrackerConfig = layered::load(
        &TrackerConfig::default(),
        args.config.as_deref(),
        &[("", "NEXSUJ_")],
    )?;
    if let Some(address) = args.http {
        config.http.http_address = address;
    }
    if let Some(address) = args.udp {
        config.udp.udp_address = address;
    }
    if let Some(mode) = &args.mode {
        config.access.mode = match mode.as_str() {
            "allow" => Mode::Allow,
            "deny" => Mode::Deny,
            _ => Mode::Open,
        };
    }
    if let Some(url) = &args.redis_url {
        config.store.redis_url = Some(url.clone());
    }
    if let Some(path) = &args.list_file {
        config.access.list_file = Some(path.clone());
    }
    Ok(config)
}
