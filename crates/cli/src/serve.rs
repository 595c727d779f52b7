//! `nexsuj serve`: the private-tracker site and its tracker in one process (the library's
//! [`site::run`]) until SIGINT or SIGTERM, then a graceful stop that flushes the accounting.
//! With no configuration it serves `http://127.0.0.1:8080` (UDP tracker on
//! `127.0.0.1:6969`) with its data in `./nexsuj-data/`. SIGHUP reloads the passkey and
//! torrent caches from the database.
//!
//! Configuration: defaults < a TOML file with `[site.*]` and `[tracker.*]` sections <
//! `NEXSUJ_<KEY>` (site keys) and `NEXSUJ_TRACKER_<KEY>` (tracker keys) < flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use site::ServeConfig;
use tokio::sync::Notify;

use crate::signals::Signals;
use crate::{Outcome, layered, logging, output};

/// The environment variables of `nexsuj serve`, by the section they set.
pub const ENV: &[(&str, &str)] = &[("site", "NEXSUJ_"), ("tracker", "NEXSUJ_TRACKER_")];

/// Options of `nexsuj serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// TOML configuration file with [site.*] and [tracker.*] sections (see --print-default-config).
    #[arg(long, short, env = "NEXSUJ_CONFIG")]
    config: Option<PathBuf>,
    /// Address of the site and the HTTP tracker.
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
    /// Address of the UDP tracker.
    #[arg(long, value_name = "ADDR")]
    udp: Option<SocketAddr>,
    /// Where the SQLite database and the mail outbox live.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://USER@HOST:PORT/DB (default: DATA_DIR/nexsuj.db).
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// The site's public URL (announce URLs in downloaded torrents are built from it).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
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

/// Runs the site until a termination signal.
pub fn run(args: ServeArgs) -> anyhow::Result<Outcome> {
    if args.print_default_config {
        output::stdout(&ServeConfig::default().to_documented_toml())?;
        return Ok(Outcome::Ok);
    }
    logging::init(&args.log)?;
    let config = load(&args)?;
    let runtime = layered::runtime(config.tracker.http.http_workers, "nexsuj-serve")?;
    runtime.block_on(async {
        let reload = Arc::new(Notify::new());
        let stop = Signals::new()?.wait_for_stop(|| {
            reload.notify_one();
            std::future::ready(())
        });
        site::run(config, reload.clone(), stop)
            .await
            .context("running the site")
    })?;
    Ok(Outcome::Ok)
}

/// The settings from defaults, file, environment and flags.
pub fn load(args: &ServeArgs) -> anyhow::Result<ServeConfig> {
    let mut config = load_file(args.config.as_deref())?;
    if let Some(dir) = &args.data_dir {
        config.site.storage.data_dir = dir.clone();
    }
    if let Some(url) = &args.database_url {
        config.site.storage.database_url = url.clone();
    }
    if let Some(url) = &args.base_url {
        config.site.web.base_url = url.clone();
    }
    if let Some(url) = &args.redis_url {
        config.tracker.store.redis_url = Some(url.clone());
    }
    if let Some(address) = args.http {
        config.tracker.http.http_address = address;
    }
    if let Some(address) = args.udp {
        config.tracker.udp.udp_address = address;
    }
    config.follow_addresses();
    Ok(config)
}

/// The settings from defaults, `file` and the environment (no flags): what `nexsuj admin`
/// reads too.
pub fn load_file(file: Option<&Path>) -> anyhow::Result<ServeConfig> {
    layered::load(&ServeConfig::default(), file, ENV)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nested_file_and_the_flags_are_layered() {
        let dir = testkit::TempDir::new("serve-config");
        let file = dir.path().join("serve.toml");
        let text = "[site.web]\nname = \"demo\"\n[tracker.http]\nhttp_address = \"127.0.0.1:9000\"\n";
        std::fs::write(&file, text).unwrap();
        let config = load_file(Some(&file)).unwrap();
        assert_eq!(config.site.web.name, "demo");
        assert_eq!(config.tracker.http.http_address.to_string(), "127.0.0.1:9000");
        // Sections left out keep serve's defaults, not the tracker's own.
        assert_eq!(config.tracker.udp.udp_address.to_string(), "127.0.0.1:6969");
        std::fs::write(&file, "[tracker.udp]\nudp_workers = 2\n").unwrap();
        let config = load_file(Some(&file)).unwrap();
        assert_eq!(config.tracker.http.http_address.to_string(), "127.0.0.1:8080");
        std::fs::write(&file, "[sight]\nname = \"x\"\n").unwrap();
        let err = load_file(Some(&file)).unwrap_err().to_string();
        assert!(err.contains("sight"), "{err}");
    }
}
