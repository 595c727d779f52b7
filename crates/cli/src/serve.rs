//! `nexsuj serve`: the private-tracker site and its tracker in one process — pages, JSON API
//! and HTTP tracker on one port, the UDP tracker beside it — until SIGINT or SIGTERM, then
//! a graceful stop that flushes the accounting. With no configuration it serves
//! `http://127.0.0.1:8080` (UDP tracker on `127.0.0.1:6969`) with its data in
//! `./nexsuj-data/`. SIGHUP reloads the passkey and torrent caches from the database.
//!
//! Configuration: defaults < a TOML file with `[site]` and `[tracker]` tables <
//! `NEXSUJ_<KEY>` (site keys) and `NEXSUJ_TRACKER_<KEY>` (tracker keys) < flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Args;
use site::Site;
use site::config::{DEFAULT_CONFIG_TOML as SITE_DEFAULTS, SiteConfig};
use tracker::config::{DEFAULT_CONFIG_TOML as TRACKER_DEFAULTS, TrackerConfig};
use tracker::http::TrustedProxies;
use tracker::service::Service;

use crate::{Outcome, layered, logging, output};

/// Where `nexsuj serve` listens by default: pages, API and HTTP tracker.
const DEFAULT_HTTP: &str = "127.0.0.1:8080";
/// Where its UDP tracker listens by default.
const DEFAULT_UDP: &str = "127.0.0.1:6969";

/// Options of `nexsuj serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// TOML configuration file with [site] and [tracker] tables (see --print-default-config).
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
    /// Print the documented default configuration and exit.
    #[arg(long)]
    print_default_config: bool,
    /// Log level: error, warn, info, debug or trace.
    #[arg(long, env = "NEXSUJ_LOG", default_value = "info")]
    log: String,
}

/// The documented defaults of `nexsuj serve`: the site's keys, then the tracker's.
pub fn default_config_text() -> String {
    let tracker = TRACKER_DEFAULTS
        .replace(
            "http_address = \"127.0.0.1:6969\"",
            &format!("http_address = \"{DEFAULT_HTTP}\""),
        )
        .replace(
            "udp_address = \"127.0.0.1:6969\"",
            &format!("udp_address = \"{DEFAULT_UDP}\""),
        );
    let tracker: String = tracker.lines().map(|l| format!("{l}\n")).collect();
    format!(
        "# nexsuj serve configuration: the site in [site], its tracker in [tracker].\n\
         # Environment: NEXSUJ_<KEY> for site keys, NEXSUJ_TRACKER_<KEY> for tracker keys.\n\
         # The tracker's mode, list_file and denied_clients do not apply: the site decides.\n\n\
         [site]\n{SITE_DEFAULTS}\n[tracker]\n{tracker}"
    )
}

/// Runs the site until a termination signal.
pub fn run(args: ServeArgs) -> anyhow::Result<Outcome> {
    if args.print_default_config {
        output::stdout(&default_config_text())?;
        return Ok(Outcome::Ok);
    }
    logging::init(&args.log)?;
    let (site, tracker) = load(&args)?;
    let workers = match tracker.http_workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("nexsuj-serve")
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(serve(site, tracker))?;
    Ok(Outcome::Ok)
}

/// The site and tracker settings from defaults, file, environment and flags.
pub fn load(args: &ServeArgs) -> anyhow::Result<(SiteConfig, TrackerConfig)> {
    let (mut site_file, mut tracker_file) = (None, None);
    if let Some(path) = &args.config {
        let (s, t) = read_sections(path)?;
        (site_file, tracker_file) = (s, t);
    }
    let mut site_flags = toml::Table::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            site_flags.insert(k.into(), toml::Value::String(v));
        }
    };
    put(
        "data_dir",
        args.data_dir.as_ref().map(|p| p.display().to_string()),
    );
    put("database_url", args.database_url.clone());
    put("base_url", args.base_url.clone());
    let mut site: SiteConfig =
        layered::load_section(&SiteConfig::default(), site_file, "NEXSUJ_", site_flags)?;
    let base = TrackerConfig {
        http_address: DEFAULT_HTTP.parse()?,
        udp_address: DEFAULT_UDP.parse()?,
        ..TrackerConfig::default()
    };
    let mut tracker_flags = toml::Table::new();
    if let Some(a) = args.http {
        tracker_flags.insert("http_address".into(), toml::Value::String(a.to_string()));
    }
    if let Some(a) = args.udp {
        tracker_flags.insert("udp_address".into(), toml::Value::String(a.to_string()));
    }
    let tracker: TrackerConfig =
        layered::load_section(&base, tracker_file, "NEXSUJ_TRACKER_", tracker_flags)?;
    follow_addresses(&mut site, &tracker);
    Ok((site, tracker))
}

/// When the public URLs were left at their defaults but the addresses moved, the URLs
/// follow the addresses (a loopback test on other ports needs no extra flags).
fn follow_addresses(site: &mut SiteConfig, tracker: &TrackerConfig) {
    let defaults = SiteConfig::default();
    let routable = |a: &SocketAddr| !a.ip().is_unspecified() && a.port() != 0;
    if site.base_url == defaults.base_url && routable(&tracker.http_address) {
        site.base_url = format!("http://{}", tracker.http_address);
    }
    if site.udp_announce_url == defaults.udp_announce_url && routable(&tracker.udp_address) {
        site.udp_announce_url = format!("udp://{}/announce", tracker.udp_address);
    }
}

fn read_sections(path: &Path) -> anyhow::Result<(Option<toml::Table>, Option<toml::Table>)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut table: toml::Table = toml::from_str(&text).with_context(|| format!("in {}", path.display()))?;
    let mut section = |name: &str| -> anyhow::Result<Option<toml::Table>> {
        match table.remove(name) {
            None => Ok(None),
            Some(toml::Value::Table(t)) => Ok(Some(t)),
            Some(_) => bail!("{}: [{name}] must be a table", path.display()),
        }
    };
    let (site, tracker) = (section("site")?, section("tracker")?);
    if let Some(key) = table.keys().next() {
        bail!(
            "{}: unknown key {key:?} (expected the tables [site] and [tracker])",
            path.display()
        );
    }
    Ok((site, tracker))
}

async fn serve(config: SiteConfig, tracker_config: TrackerConfig) -> anyhow::Result<()> {
    let data_dir = config.data_dir.clone();
    let proxies = TrustedProxies::new(tracker_config.trusted_cidrs()?);
    let site = Site::open(config, tracker_config.core(), proxies)
        .await
        .context("opening the site")?;
    let service = Service::start(&tracker_config, site.tracker().clone(), site.router())
        .await
        .context("starting the servers")?;
    tracing::info!(
        url = %site.config().base_url,
        http = ?service.http_addrs(),
        udp = ?service.udp_addrs(),
        data = %data_dir.display(),
        database = ?site.db().kind(),
        "nexsuj site ready"
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let background = tokio::spawn({
        let site = site.clone();
        async move { site.run_background(stopped).await }
    });
    // SIGHUP reloads the caches (users, passkeys, torrents) from the database.
    crate::signals::wait_for_stop(|| async {
        match site.reload().await {
            Ok(_) => tracing::info!("caches reloaded"),
            Err(e) => tracing::error!(error = %e, "caches not reloaded"),
        }
    })
    .await?;
    tracing::info!("shutting down: closing the servers, then flushing the accounting");
    service.shutdown().await;
    let _ = stop.send(true);
    background.await.context("background tasks")?;
    site.db().close().await;
    tracing::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_defaults_parse_back_to_the_defaults() {
        let dir = testkit::TempDir::new("serve-config");
        let file = dir.path().join("serve.toml");
        std::fs::write(&file, default_config_text()).unwrap();
        let (site_t, tracker_t) = read_sections(&file).unwrap();
        let site: SiteConfig = toml::Value::Table(site_t.unwrap()).try_into().unwrap();
        assert_eq!(site, SiteConfig::default());
        let tracker: TrackerConfig = toml::Value::Table(tracker_t.unwrap()).try_into().unwrap();
        assert_eq!(tracker.http_address.to_string(), DEFAULT_HTTP);
        assert_eq!(tracker.udp_address.to_string(), DEFAULT_UDP);
        std::fs::write(&file, "[sight]\nname = \"x\"\n").unwrap();
        assert!(read_sections(&file).unwrap_err().to_string().contains("sight"));
    }

    #[test]
    fn urls_follow_moved_addresses() {
        let mut site = SiteConfig::default();
        let tracker = TrackerConfig {
            http_address: "127.0.0.1:9000".parse().unwrap(),
            udp_address: "127.0.0.1:9001".parse().unwrap(),
            ..TrackerConfig::default()
        };
        follow_addresses(&mut site, &tracker);
        assert_eq!(site.base_url, "http://127.0.0.1:9000");
        assert_eq!(site.udp_announce_url, "udp://127.0.0.1:9001/announce");
        let mut custom = SiteConfig {
            base_url: "https://t.example".into(),
            ..SiteConfig::default()
        };
        follow_addresses(&mut custom, &tracker);
        assert_eq!(custom.base_url, "https://t.example");
    }
}
