//! `nexsuj tracker`: a public BitTorrent tracker, HTTP and UDP, until SIGINT or SIGTERM.
//! SIGHUP re-reads the allow/deny list.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::Args;
use tracker::access::PublicPolicy;
use tracker::config::{DEFAULT_CONFIG_TOML, Mode, TrackerConfig};
use tracker::engine::Tracker;
use tracker::service::Service;

use crate::{Outcome, layered, logging, output, signals};

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
        output::stdout(DEFAULT_CONFIG_TOML)?;
        return Ok(Outcome::Ok);
    }
    logging::init(&args.log)?;
    let config: TrackerConfig = layered::load(args.config.as_deref(), "NEXSUJ_", flags(&args))?;
    if config.mode != Mode::Open && config.list_file.is_none() {
        bail!("mode {:?} needs a list_file of info-hashes", config.mode);
    }
    let policy = Arc::new(
        PublicPolicy::new(
            config.mode.into(),
            config.list_file.clone(),
            config.denied_clients.clone(),
        )
        .context("reading the info-hash list")?,
    );
    let workers = match config.http_workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("nexsuj-http")
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(serve(config, policy))?;
    Ok(Outcome::Ok)
}

fn flags(args: &TrackerArgs) -> toml::Table {
    let mut t = toml::Table::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            t.insert(k.into(), toml::Value::String(v));
        }
    };
    put("http_address", args.http.map(|a| a.to_string()));
    put("udp_address", args.udp.map(|a| a.to_string()));
    put("mode", args.mode.clone());
    put(
        "list_file",
        args.list_file.as_ref().map(|p| p.display().to_string()),
    );
    t
}

async fn serve(config: TrackerConfig, policy: Arc<PublicPolicy>) -> anyhow::Result<()> {
    let tracker = Arc::new(Tracker::new(config.core(), policy.clone(), None));
    let service = Service::start(&config, tracker, axum::Router::new()).await?;
    tracing::info!(mode = ?config.mode, "tracker ready");
    signals::wait_for_stop(|| async {
        match policy.reload() {
            Ok(n) => tracing::info!(torrents = n, "list reloaded"),
            Err(e) => tracing::error!(error = %e, "list not reloaded; the old one stays"),
        }
    })
    .await?;
    tracing::info!("shutting down");
    service.shutdown().await;
    Ok(())
}
