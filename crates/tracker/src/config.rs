//! The tracker's configuration, in sections (`[http]`, `[udp]`, `[announce]`, `[swarm]`,
//! `[access]`, `[private]`): every key has a default that needs no file and binds to
//! loopback, and [`TrackerConfig::to_documented_toml`] prints them with their docs (what
//! `nexsuj tracker --print-default-config` shows). Key names are unique across sections, so
//! `NEXSUJ_<KEY>` names one.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use http_server::ServerLimits;

use serde::{Deserialize, Serialize};

use crate::access::ListMode;
use crate::engine::CoreConfig;
pub use crate::error::BadCidr;
use crate::http::{HttpOptions, MetricsToken, TrustedProxies};
use crate::swarm::SwarmConfig;
use crate::swarm::shared::SharedConfig;

settings::section! {
    /// The HTTP tracker: its addresses, threads and the limits of its connections (the
    /// site's pages share them in `nexsuj serve`).
    pub struct HttpSection {
        /// Where the HTTP tracker listens (announce, scrape, /stats, /metrics).
        pub http_address: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 6969));
        /// A second HTTP address, for IPv6.
        pub http_address_v6: Option<SocketAddr> = None, example "[::1]:6969";
        /// Threads for the HTTP server (0: one per core).
        pub http_workers: usize = 0;
        /// Most HTTP connections open at once (past it, new ones wait in the kernel's backlog).
        pub max_connections: usize = ServerLimits::default().max_connections;
        /// Most HTTP connections open at once from one address (IPv6: one /64); past it a new
        /// one is closed at once. Trusted proxies are exempt. 0: no limit.
        pub max_connections_per_ip: usize = ServerLimits::default().max_connections_per_ip;
        /// Seconds a client has to send a whole request head, from its first byte.
        pub header_read_timeout: u32 = secs(ServerLimits::default().header_read_timeout);
        /// Seconds a client has to send a whole request body, from the end of its head.
        pub body_read_timeout: u32 = secs(ServerLimits::default().body_read_timeout);
        /// Seconds an HTTP connection may sit with no request in flight and nothing moving
        /// (or leave our reply unread) before it is closed.
        pub idle_timeout: u32 = secs(ServerLimits::default().idle_timeout);
        /// Seconds requests in flight get to finish at shutdown.
        pub shutdown_grace: u32 = secs(ServerLimits::default().shutdown_grace);
        /// Proxies whose X-Forwarded-For is believed, as CIDRs, e.g. ["10.0.0.0/8", "::1/128"].
        pub trusted_proxies: Vec<String> = Vec::new();
        /// /metrics and /stats answer loopback clients (as seen through trusted_proxies); this
        /// bearer token opens them to others (Authorization: Bearer <token>).
        pub metrics_token: Option<MetricsToken> = None, example "a long random string";
    }
}

settings::section! {
    /// The UDP tracker (BEP 15).
    pub struct UdpSection {
        /// Where the UDP tracker listens.
        pub udp_address: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 6969));
        /// A second UDP address, for IPv6.
        pub udp_address_v6: Option<SocketAddr> = None, example "[::1]:6969";
        /// UDP worker threads, each with its own SO_REUSEPORT socket, answering packets inline.
        pub udp_workers: usize = 1;
    }
}

settings::section! {
    /// What announce and scrape replies say.
    pub struct AnnounceSection {
        /// Seconds between regular announces.
        pub interval: u32 = CoreConfig::default().interval;
        /// Seconds a client must wait at least between announces.
        pub min_interval: u32 = CoreConfig::default().min_interval;
        /// Peers returned when a client does not say numwant.
        pub default_numwant: usize = CoreConfig::default().default_numwant;
        /// Most peers returned in one reply.
        pub max_numwant: usize = CoreConfig::default().max_numwant;
        /// Honour the ip announce parameter (only behind trusted infrastructure).
        pub honour_ip_param: bool = CoreConfig::default().honour_ip_param;
        /// Record BEP 7's ipv4= / ipv6= address as a second entry of a dual-stack client.
        /// Anyone can name any address, so it is off by default; a named address never
        /// changes or removes another peer id's record either way.
        pub honour_other_family: bool = CoreConfig::default().honour_other_family;
        /// Most info-hashes in one scrape.
        pub max_scrape: usize = 70;
        /// A warning message sent with every HTTP announce reply (maintenance notices).
        pub warning_message: Option<String> = None, example "maintenance at 02:00 UTC";
        /// A tracker id sent with every HTTP announce reply.
        pub tracker_id: Option<String> = None, example "nexsuj";
    }
}

settings::section! {
    /// The swarms: how long peers are kept and how many are held.
    pub struct SwarmSection {
        /// Seconds after its last announce that a peer is forgotten.
        pub peer_timeout: u32 = CoreConfig::default().swarms.peer_timeout_secs;
        /// Seconds between sweeps that forget expired peers.
        pub cleaning_interval: u32 = 60;
        /// Most swarms held at once; an announce that would start another is refused.
        pub max_torrents: usize = CoreConfig::default().swarms.max_torrents;
        /// Most peer records from one address (IPv6: one /64) over all swarms; 0: no limit.
        pub max_peers_per_ip: usize = CoreConfig::default().swarms.max_peers_per_ip;
    }
}

settings::section! {
    /// Where the swarms live: this process's memory (the default), or Redis — one server or
    /// a Redis Cluster — shared by several instances that then answer as one tracker.
    pub struct StoreSection {
        /// redis://HOST:PORT[/DB] for one Redis server, redis+cluster://HOST:PORT,HOST:PORT
        /// for a Redis Cluster; unset: the swarms stay in memory.
        pub redis_url: Option<String> = None, example "redis://127.0.0.1:6379";
        /// Prefix of every Redis key (several trackers may share one Redis).
        pub redis_prefix: String = "nexsuj".into();
        /// Longest wait for Redis on one request, in milliseconds; a request that waits longer
        /// is refused as degraded.
        pub redis_timeout_ms: u64 = 1000;
        /// Days a torrent's completed count outlives its last announce.
        pub completed_ttl_days: u32 = 90;
        /// Swarms (of those this instance served lately) swept per cleaning interval.
        pub sweep_batch: usize = 10_000;
    }
}

settings::section! {
    /// Which torrents and clients are served (`nexsuj tracker` only: a private site decides
    /// by itself).
    pub struct AccessSection {
        /// Which torrents are served: "open", "allow" (only those in list_file) or "deny".
        pub mode: Mode = Mode::Open;
        /// One hex info-hash per line, for allow and deny; re-read on SIGHUP.
        pub list_file: Option<PathBuf> = None, example "/etc/nexsuj/torrents.txt";
        /// Peer-id prefixes of clients to refuse (BEP 20 style, e.g. "-XX1").
        pub denied_clients: Vec<String> = Vec::new();
    }
}

settings::section! {
    /// Private trackers (a site's accounting).
    pub struct PrivateSection {
        /// The fastest transfer credited, in bytes per second (default 10 Gbit/s); one
        /// announce credits at most this times the seconds since the last one counted.
        pub max_credit_rate: u64 = CoreConfig::default().max_credit_rate;
    }
}

settings::sections! {
    /// nexsuj tracker configuration (the [tracker.*] sections of nexsuj serve). Every key is
    /// optional; these are the defaults. The environment variable NEXSUJ_<KEY> sets a key
    /// (NEXSUJ_TRACKER_<KEY> in nexsuj serve), e.g. NEXSUJ_MAX_NUMWANT=100.
    pub struct TrackerConfig {
        /// The HTTP tracker.
        pub http: HttpSection;
        /// The UDP tracker.
        pub udp: UdpSection;
        /// Announce and scrape replies.
        pub announce: AnnounceSection;
        /// The swarms.
        pub swarm: SwarmSection;
        /// Where the swarms live.
        pub store: StoreSection;
        /// Which torrents and clients are served.
        pub access: AccessSection;
        /// Private trackers.
        pub private: PrivateSection;
    }
}

fn secs(d: Duration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX)
}

/// Which torrents are served.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// All of them.
    #[default]
    Open,
    /// Only those listed.
    Allow,
    /// All but those listed.
    Deny,
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Open => "open",
            Mode::Allow => "allow",
            Mode::Deny => "deny",
        })
    }
}

impl From<Mode> for ListMode {
    fn from(m: Mode) -> Self {
        match m {
            Mode::Open => ListMode::Open,
            Mode::Allow => ListMode::Allow,
            Mode::Deny => ListMode::Deny,
        }
    }
}

impl TrackerConfig {
    /// The engine's rules.
    pub fn core(&self) -> CoreConfig {
        let (a, swarm) = (&self.announce, &self.swarm);
        CoreConfig {
            interval: a.interval,
            min_interval: a.min_interval,
            default_numwant: a.default_numwant,
            max_numwant: a.max_numwant,
            honour_ip_param: a.honour_ip_param,
            honour_other_family: a.honour_other_family,
            max_credit_rate: self.private.max_credit_rate,
            swarms: SwarmConfig {
                peer_timeout_secs: swarm.peer_timeout,
                max_torrents: swarm.max_torrents,
                max_peers_per_ip: swarm.max_peers_per_ip,
                ..SwarmConfig::default()
            },
            shared: self.shared_store(),
            ..CoreConfig::default()
        }
    }

    /// The shared swarm store to use, if one is configured.
    pub fn shared_store(&self) -> Option<SharedConfig> {
        let store = &self.store;
        let url = store.redis_url.as_ref().filter(|u| !u.is_empty())?;
        Some(SharedConfig {
            url: url.clone(),
            prefix: store.redis_prefix.clone(),
            timeout_ms: store.redis_timeout_ms,
            completed_ttl_secs: store.completed_ttl_days.saturating_mul(86_400),
        })
    }

    /// The HTTP server's limits (trusted proxies are exempt from the per-address cap: every
    /// client behind one arrives from its address).
    pub fn server_limits(&self) -> Result<ServerLimits, BadCidr> {
        let secs = |s: u32| Duration::from_secs(u64::from(s));
        let http = &self.http;
        Ok(ServerLimits {
            max_connections: http.max_connections,
            max_connections_per_ip: http.max_connections_per_ip,
            per_ip_exempt: self.trusted_cidrs()?,
            header_read_timeout: secs(http.header_read_timeout),
            body_read_timeout: secs(http.body_read_timeout),
            idle_timeout: secs(http.idle_timeout),
            shutdown_grace: secs(http.shutdown_grace),
        })
    }

    /// The trusted proxies as (network, prefix length).
    pub fn trusted_cidrs(&self) -> Result<Vec<(IpAddr, u8)>, BadCidr> {
        self.http
            .trusted_proxies
            .iter()
            .map(|s| parse_cidr(s).ok_or_else(|| BadCidr(s.clone())))
            .collect()
    }

    /// What the HTTP routes need besides the tracker.
    pub fn http_options(&self) -> Result<HttpOptions, BadCidr> {
        Ok(HttpOptions {
            trusted_proxies: TrustedProxies::new(self.trusted_cidrs()?),
            max_scrape: self.announce.max_scrape,
            warning_message: self.announce.warning_message.clone(),
            tracker_id: self.announce.tracker_id.clone(),
            metrics_token: self.http.metrics_token.clone(),
        })
    }

    /// The HTTP addresses to bind: the main one and the IPv6 one, if any.
    pub fn http_addresses(&self) -> Vec<SocketAddr> {
        std::iter::once(self.http.http_address)
            .chain(self.http.http_address_v6)
            .collect()
    }

    /// The UDP addresses to bind: the main one and the IPv6 one, if any.
    pub fn udp_addresses(&self) -> Vec<SocketAddr> {
        std::iter::once(self.udp.udp_address)
            .chain(self.udp.udp_address_v6)
            .collect()
    }

    /// The documented TOML of this configuration (what `--print-default-config` prints for
    /// the defaults).
    pub fn to_documented_toml(&self) -> String {
        settings::document(self)
    }
}

/// `10.0.0.0/8`, `::1/128`, or a bare address (a single host).
pub fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a.trim().parse::<IpAddr>().ok()?, l.trim().parse::<u8>().ok()?),
        None => {
            let a = s.trim().parse::<IpAddr>().ok()?;
            (a, if a.is_ipv4() { 32 } else { 128 })
        }
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some((addr, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        assert_eq!(parse_cidr("10.0.0.0/8"), Some(("10.0.0.0".parse().unwrap(), 8)));
        assert_eq!(parse_cidr("::1"), Some(("::1".parse().unwrap(), 128)));
        assert_eq!(parse_cidr("10.0.0.0/33"), None);
        assert_eq!(parse_cidr("nope/8"), None);
        let mut c = TrackerConfig::default();
        c.http.trusted_proxies = vec!["bad".into()];
        assert_eq!(c.trusted_cidrs(), Err(BadCidr("bad".into())));
    }

    #[test]
    fn the_documented_text_parses_to_the_defaults() {
        let text = TrackerConfig::default().to_documented_toml();
        let parsed: TrackerConfig = toml::from_str(&text).unwrap();
        assert_eq!(parsed, TrackerConfig::default());
        let err = toml::from_str::<TrackerConfig>("no_such_key = 1").unwrap_err();
        assert!(err.to_string().contains("no_such_key"), "{err}");
    }

    #[test]
    fn an_unknown_key_in_a_section_is_refused_by_name() {
        let err = toml::from_str::<TrackerConfig>("[http]\nmax_numwant = 5\n").unwrap_err();
        let err = err.to_string();
        assert!(err.contains("unknown field `max_numwant`"), "{err}");
        assert!(err.contains("http_address"), "the known keys are listed: {err}");
        let err = toml::from_str::<TrackerConfig>("[htp]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `htp`"), "{err}");
    }

    #[test]
    fn defaults_serialize_as_documented() {
        // Every key is in the text: set keys as `key = value`, unset ones commented out with
        // an example; and no key name appears in two sections (NEXSUJ_<KEY> names a key
        // without its section).
        let text = TrackerConfig::default().to_documented_toml();
        assert!(text.contains("[http]\n"), "{text}");
        assert!(text.contains("\nhttp_address = \"127.0.0.1:6969\"\n"), "{text}");
        assert!(text.contains("\nmode = \"open\"\n"), "{text}");
        for (table, key) in settings::keys::<TrackerConfig>() {
            let set = format!("\n{} = ", key.name);
            let unset = format!("\n# {} = \"", key.name);
            assert!(
                text.contains(&set) || text.contains(&unset),
                "{table}.{} is not documented",
                key.name
            );
            assert!(!key.doc.trim().is_empty(), "{} has no doc", key.name);
        }
        assert!(settings::duplicate_keys::<TrackerConfig>().is_empty());
    }
}
