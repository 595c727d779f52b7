//! `nexsuj live`: the live P2P streaming tracker (seed 001), its WebRTC signaling, the
//! WebTorrent tracker protocol and the browser SDK, until SIGINT or SIGTERM. The server is the
//! library's [`live::run`]; this module reads flags and configuration.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use live::LiveConfig;

use crate::signals::Signals;
use crate::{Outcome, layered, logging, output};

/// Options of `nexsuj live`; every config key can also be set as `NEXSUJ_<KEY>`.
#[derive(Args)]
pub struct LiveArgs {
    /// TOML configuration file (see --print-default-config).
    #[arg(long, short, env = "NEXSUJ_CONFIG")]
    config: Option<PathBuf>,
    /// Where it listens (default 127.0.0.1:8082).
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// hls.js to serve at /sdk/hls.min.js for the demo page.
    #[arg(long, value_name = "FILE")]
    hls_js: Option<PathBuf>,
    /// Print the documented default configuration and exit.
    #[arg(long)]
    print_default_config: bool,
    /// Log level: error, warn, info, debug or trace.
    #[arg(long, env = "NEXSUJ_LOG", default_value = "info")]
    log: String,
}

/// Runs the tracker until a termination signal.
pub fn run(args: LiveArgs) -> anyhow::Result<Outcome> {
    if args.print_default_config {
        output::stdout(&LiveConfig::default().to_documented_toml())?;
        return Ok(Outcome::Ok);
    }
    logging::init(&args.log)?;
    let mut config: LiveConfig =
        layered::load(&LiveConfig::default(), args.config.as_deref(), &[("", "NEXSUJ_")])?;
    if let Some(a) = args.listen {
        config.live.live_address = a;
    }
    if let Some(f) = args.hls_js {
        config.live.hls_js = Some(f);
    }
    let runtime = layered::runtime(0, "nexsuj-live")?;
    runtime.block_on(async {
        let stop = Signals::new()?.wait_for_stop(|| async {});
        live::run(
            config,
            |ready| {
                tracing::info!(addr = %ready.addr, "nexsuj live ready");
                output::stderr_line(&format!(
                    "nexsuj live ready: tracker on http://{0}/announce, signaling on ws://{0}/signal, \
                     WebTorrent tracker on ws://{0}/webtorrent, SDK at http://{0}/sdk/nexsuj-p2p.js, demo at http://{0}/demo",
                    ready.addr
                ));
            },
            stop,
        )
        .await
        .context("running the live tracker")
    })?;
    Ok(Outcome::Ok)
}
