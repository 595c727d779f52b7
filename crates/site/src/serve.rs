//! `nexsuj serve` as a library: the site and its tracker in one process — pages, JSON API and
//! HTTP tracker on one port, the UDP tracker beside it — until a shutdown future completes,
//! then a graceful stop: servers first, the accounting flushed last.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::{Notify, watch};
use tracker::config::TrackerConfig;
use tracker::error::ConfigError;
use tracker::http::TrustedProxies;
use tracker::service::Service;

use crate::Site;
use crate::config::SiteConfig;
use crate::error::SiteError;

/// Where `nexsuj serve` listens by default: pages, API and HTTP tracker.
const DEFAULT_HTTP: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8080);

settings::sections! {
    /// nexsuj serve configuration: the site in [site.*], its tracker in [tracker.*]. Every key
    /// is optional; these are the defaults. Environment: NEXSUJ_<KEY> for site keys,
    /// NEXSUJ_TRACKER_<KEY> for tracker keys. The tracker's [tracker.access] does not apply:
    /// the site decides which torrents and users are served.
    pub struct ServeConfig {
        /// The site.
        pub site: SiteConfig;
        /// Its tracker; the HTTP tracker shares the site's port (8080 by default).
        pub tracker: TrackerConfig = serve_tracker_defaults();
    }
}

fn serve_tracker_defaults() -> TrackerConfig {
    let mut tracker = TrackerConfig::default();
    tracker.http.http_address = DEFAULT_HTTP;
    tracker
}

impl ServeConfig {
    /// When the public URLs were left at their defaults but the addresses moved, the URLs
    /// follow the addresses (a loopback test on other ports needs no extra flags).
    pub fn follow_addresses(&mut self) {
        let defaults = SiteConfig::default();
        let (web, tracker) = (&mut self.site.web, &self.tracker);
        let routable = |a: &SocketAddr| !a.ip().is_unspecified() && a.port() != 0;
        if web.base_url == defaults.web.base_url && routable(&tracker.http.http_address) {
            web.base_url = format!("http://{}", tracker.http.http_address);
        }
        if web.udp_announce_url == defaults.web.udp_announce_url && routable(&tracker.udp.udp_address) {
            web.udp_announce_url = format!("udp://{}/announce", tracker.udp.udp_address);
        }
    }

    /// The documented TOML of this configuration (what `--print-default-config` prints for
    /// the defaults).
    pub fn to_documented_toml(&self) -> String {
        settings::document(self)
    }
}

/// Runs the site and its tracker until `shutdown` completes. Each `reload` notification
/// reloads the passkey and torrent caches from the database (SIGHUP in `nexsuj serve`).
pub async fn run(
    config: ServeConfig,
    reload: Arc<Notify>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), SiteError> {
    let ServeConfig {
        site: config,
        tracker: tracker_config,
    } = config;
    let data_dir = config.storage.data_dir.clone();
    let cidrs = tracker_config
        .trusted_cidrs()
        .map_err(|e| tracker::Error::Config(ConfigError::from(e)))?;
    let site = Site::open(config, tracker_config.core(), TrustedProxies::new(cidrs)).await?;
    let service = Service::start(&tracker_config, site.tracker().clone(), site.router()).await?;
    tracing::info!(
        url = %site.config().web.base_url,
        http = ?service.http_addrs(),
        udp = ?service.udp_addrs(),
        data = %data_dir.display(),
        database = ?site.db().kind(),
        "nexsuj site ready"
    );
    let (stop, stopped) = watch::channel(false);
    let background = tokio::spawn({
        let site = site.clone();
        async move { site.run_background(stopped).await }
    });
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            () = reload.notified() => match site.reload().await {
                Ok(_) => tracing::info!("caches reloaded"),
                Err(e) => tracing::error!(error = %e, "caches not reloaded"),
            },
        }
    }
    tracing::info!("shutting down: closing the servers, then flushing the accounting");
    service.shutdown().await;
    let _ = stop.send(true);
    let background = background.await;
    site.db().close().await;
    background.map_err(|e| SiteError::Task(e.to_string()))?;
    tracing::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_defaults_parse_back_to_the_defaults() {
        let text = ServeConfig::default().to_documented_toml();
        let parsed: ServeConfig = toml::from_str(&text).unwrap();
        assert_eq!(parsed, ServeConfig::default());
        assert_eq!(parsed.tracker.http.http_address.to_string(), "127.0.0.1:8080");
        assert_eq!(parsed.tracker.udp.udp_address.to_string(), "127.0.0.1:6969");
        assert!(
            text.contains("[site.web]\n") && text.contains("[tracker.http]\n"),
            "{text}"
        );
        let err = toml::from_str::<ServeConfig>("[sight]\nname = \"x\"\n").unwrap_err();
        assert!(err.to_string().contains("sight"), "{err}");
    }

    #[test]
    fn urls_follow_moved_addresses() {
        let mut config = ServeConfig::default();
        config.tracker.http.http_address = "127.0.0.1:9000".parse().unwrap();
        config.tracker.udp.udp_address = "127.0.0.1:9001".parse().unwrap();
        config.follow_addresses();
        let site = &config.site.web;
        assert_eq!(site.base_url, "http://127.0.0.1:9000");
        assert_eq!(site.udp_announce_url, "udp://127.0.0.1:9001/announce");
        config.site.web.base_url = "https://t.example".into();
        config.follow_addresses();
        let custom = &config.site.web;
        assert_eq!(custom.base_url, "https://t.example");
    }
}
