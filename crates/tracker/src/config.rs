//! The tracker's configuration: every field has a default that needs no file and binds to
//! loopback; `nexsuj tracker --print-default-config` prints [`DEFAULT_CONFIG_TOML`].

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use http_server::ServerLimits;

use serde::{Deserialize, Serialize};

use crate::access::ListMode;
use crate::engine::CoreConfig;
use crate::http::MetricsToken;
use crate::swarm::SwarmConfig;

/// `nexsuj tracker` settings (a TOML file, then `NEXSUJ_*` variables and flags on top).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrackerConfig {
    /// Where the HTTP tracker listens (announce, scrape, /stats, /metrics).
    pub http_address: SocketAddr,
    /// A second HTTP address, for IPv6 (e.g. `[::1]:6969`); none by default.
    pub http_address_v6: Option<SocketAddr>,
    /// Where the UDP tracker listens (BEP 15).
    pub udp_address: SocketAddr,
    /// A second UDP address, for IPv6 (e.g. `[::1]:6969`); none by default.
    pub udp_address_v6: Option<SocketAddr>,
    /// UDP worker threads, each with its own socket, answering packets inline.
    pub udp_workers: usize,
    /// Threads for the HTTP server (0: one per core).
    pub http_workers: usize,
    /// Most HTTP connections open at once.
    pub max_connections: usize,
    /// Most HTTP connections open at once from one address (IPv6: one /64); trusted proxies
    /// are exempt. 0: no limit.
    pub max_connections_per_ip: usize,
    /// Seconds a client has to send a whole request head, from its first byte.
    pub header_read_timeout: u32,
    /// Seconds a client has to send a whole request body, from the end of its head.
    pub body_read_timeout: u32,
    /// Seconds an HTTP connection may sit with no request in flight and nothing moving (and
    /// that a client may leave our reply unread) before it is closed.
    pub idle_timeout: u32,
    /// Seconds requests in flight get to finish at shutdown.
    pub shutdown_grace: u32,
    /// Seconds between regular announces.
    pub interval: u32,
    /// Seconds a client must wait at least between announces.
    pub min_interval: u32,
    /// Peers returned when a client does not say how many it wants.
    pub default_numwant: usize,
    /// Most peers returned in one reply.
    pub max_numwant: usize,
    /// Seconds after its last announce that a peer is forgotten.
    pub peer_timeout: u32,
    /// Seconds between sweeps that forget expired peers.
    pub cleaning_interval: u32,
    /// Honour the `ip` announce parameter (only behind trusted infrastructure).
    pub honour_ip_param: bool,
    /// Record BEP 7's `ipv4=` / `ipv6=` address as a second entry of a dual-stack client.
    /// Anyone can name any address, so it is off unless the operator wants it; either way a
    /// named address never changes or removes another peer id's record.
    pub honour_other_family: bool,
    /// Most swarms held at once; an announce that would start another is refused.
    pub max_torrents: usize,
    /// Most peer records from one address (IPv6: one /64) over all swarms; 0: no limit.
    pub max_peers_per_ip: usize,
    /// Private trackers: fastest transfer credited, in bytes per second (default 10 Gbit/s).
    pub max_credit_rate: u64,
    /// A bearer token that opens `/metrics` and `/stats` to clients other than loopback
    /// (`Authorization: Bearer <token>`); without it they answer loopback only.
    pub metrics_token: Option<MetricsToken>,
    /// Proxies whose `X-Forwarded-For` is believed, as CIDRs (`10.0.0.0/8`, `::1/128`).
    pub trusted_proxies: Vec<String>,
    /// Most info-hashes in one scrape.
    pub max_scrape: usize,
    /// Which torrents are served: `open`, `allow` (only those in `list_file`) or `deny`.
    pub mode: Mode,
    /// One hex info-hash per line, for `allow` and `deny`; re-read on SIGHUP.
    pub list_file: Option<PathBuf>,
    /// Peer-id prefixes of clients to refuse (BEP 20 style, e.g. `-XX1`).
    pub denied_clients: Vec<String>,
    /// A `warning message` sent with every HTTP announce reply (maintenance notices).
    pub warning_message: Option<String>,
    /// A `tracker id` sent with every HTTP announce reply.
    pub tracker_id: Option<String>,
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

impl From<Mode> for ListMode {
    fn from(m: Mode) -> Self {
        match m {
            Mode::Open => ListMode::Open,
            Mode::Allow => ListMode::Allow,
            Mode::Deny => ListMode::Deny,
        }
    }
}

impl Default for TrackerConfig {
    fn default() -> Self {
        let core = CoreConfig::default();
        let limits = ServerLimits::default();
        let secs = |d: Duration| u32::try_from(d.as_secs()).unwrap_or(u32::MAX);
        let loopback = SocketAddr::from(([127, 0, 0, 1], 6969));
        Self {
            http_address: loopback,
            http_address_v6: None,
            udp_address: loopback,
            udp_address_v6: None,
            udp_workers: 1,
            http_workers: 0,
            max_connections: limits.max_connections,
            max_connections_per_ip: limits.max_connections_per_ip,
            header_read_timeout: secs(limits.header_read_timeout),
            body_read_timeout: secs(limits.body_read_timeout),
            idle_timeout: secs(limits.idle_timeout),
            shutdown_grace: secs(limits.shutdown_grace),
            interval: core.interval,
            min_interval: core.min_interval,
            default_numwant: core.default_numwant,
            max_numwant: core.max_numwant,
            peer_timeout: core.swarms.peer_timeout_secs,
            cleaning_interval: 60,
            honour_ip_param: core.honour_ip_param,
            honour_other_family: core.honour_other_family,
            max_torrents: core.swarms.max_torrents,
            max_peers_per_ip: core.swarms.max_peers_per_ip,
            max_credit_rate: core.max_credit_rate,
            metrics_token: None,
            trusted_proxies: Vec::new(),
            max_scrape: 70,
            mode: Mode::Open,
            list_file: None,
            denied_clients: Vec::new(),
            warning_message: None,
            tracker_id: None,
        }
    }
}

/// A CIDR that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CIDR {0:?} (expected e.g. 10.0.0.0/8 or ::1/128)")]
pub struct BadCidr(pub String);

impl TrackerConfig {
    /// The engine's rules.
    pub fn core(&self) -> CoreConfig {
        CoreConfig {
            interval: self.interval,
            min_interval: self.min_interval,
            default_numwant: self.default_numwant,
            max_numwant: self.max_numwant,
            honour_ip_param: self.honour_ip_param,
            honour_other_family: self.honour_other_family,
            max_credit_rate: self.max_credit_rate,
            swarms: SwarmConfig {
                peer_timeout_secs: self.peer_timeout,
                max_torrents: self.max_torrents,
                max_peers_per_ip: self.max_peers_per_ip,
                ..SwarmConfig::default()
            },
            ..CoreConfig::default()
        }
    }

    /// The HTTP server's limits (trusted proxies are exempt from the per-address cap: every
    /// client behind one arrives from its address).
    pub fn server_limits(&self) -> Result<ServerLimits, BadCidr> {
        let secs = |s: u32| Duration::from_secs(u64::from(s));
        Ok(ServerLimits {
            max_connections: self.max_connections,
            max_connections_per_ip: self.max_connections_per_ip,
            per_ip_exempt: self.trusted_cidrs()?,
            header_read_timeout: secs(self.header_read_timeout),
            body_read_timeout: secs(self.body_read_timeout),
            idle_timeout: secs(self.idle_timeout),
            shutdown_grace: secs(self.shutdown_grace),
        })
    }

    /// The trusted proxies as (network, prefix length).
    pub fn trusted_cidrs(&self) -> Result<Vec<(IpAddr, u8)>, BadCidr> {
        self.trusted_proxies
            .iter()
            .map(|s| parse_cidr(s).ok_or_else(|| BadCidr(s.clone())))
            .collect()
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

/// The default configuration as documented TOML (what `--print-default-config` prints).
pub const DEFAULT_CONFIG_TOML: &str = r#"# nexsuj tracker configuration. Every key is optional; these are the defaults.

# Where the HTTP tracker listens (announce, scrape, /stats, /metrics).
http_address = "127.0.0.1:6969"
# A second HTTP address for IPv6, e.g. "[::1]:6969".
# http_address_v6 = "[::1]:6969"
# Where the UDP tracker listens (BEP 15).
udp_address = "127.0.0.1:6969"
# A second UDP address for IPv6.
# udp_address_v6 = "[::1]:6969"
# UDP worker threads, each with its own SO_REUSEPORT socket, answering packets inline.
udp_workers = 1
# Threads for the HTTP server (0: one per core).
http_workers = 0
# Most HTTP connections open at once (past it, new ones wait in the kernel's backlog).
max_connections = 10000
# Most HTTP connections open at once from one address (IPv6: one /64); past it a new one is
# closed at once. Trusted proxies are exempt. 0: no limit.
max_connections_per_ip = 256
# Seconds a client has to send a whole request head (from its first byte) and a whole body
# (from the end of its head); seconds a connection may idle between requests (or leave our
# reply unread) before it is closed; seconds requests in flight get to finish at shutdown.
header_read_timeout = 10
body_read_timeout = 120
idle_timeout = 30
shutdown_grace = 10

# Seconds between regular announces, and the least a client must wait.
interval = 1800
min_interval = 900
# Peers returned when a client does not say `numwant`, and the most ever returned.
default_numwant = 50
max_numwant = 200
# Seconds after its last announce that a peer is forgotten; seconds between sweeps.
peer_timeout = 1800
cleaning_interval = 60

# Honour the `ip` announce parameter (only behind trusted infrastructure).
honour_ip_param = false
# Record BEP 7's ipv4= / ipv6= address as a second entry of a dual-stack client. Anyone can
# name any address, so it is off by default; a named address never changes or removes
# another peer id's record either way.
honour_other_family = false
# Most swarms held at once, and most peer records from one address (IPv6: one /64) over all
# swarms (0: no limit); past them an announce gets a failure reason.
max_torrents = 10000000
max_peers_per_ip = 5000
# Private trackers: the fastest transfer credited, in bytes per second (10 Gbit/s); one
# announce credits at most this times the seconds since the last one counted.
max_credit_rate = 1250000000
# /metrics and /stats answer loopback clients (as seen through trusted_proxies); this bearer
# token opens them to others (Authorization: Bearer <token>).
# metrics_token = "a long random string"
# Proxies whose X-Forwarded-For is believed, as CIDRs, e.g. ["10.0.0.0/8", "::1/128"].
trusted_proxies = []
# Most info-hashes in one scrape.
max_scrape = 70

# Which torrents are served: "open", "allow" (only those in list_file) or "deny".
mode = "open"
# One hex info-hash per line, for allow and deny; re-read on SIGHUP.
# list_file = "/etc/nexsuj/torrents.txt"
# Peer-id prefixes of clients to refuse (BEP 20 style).
denied_clients = []

# A `warning message` and a `tracker id` for every HTTP announce reply.
# warning_message = "maintenance at 02:00 UTC"
# tracker_id = "nexsuj"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        assert_eq!(parse_cidr("10.0.0.0/8"), Some(("10.0.0.0".parse().unwrap(), 8)));
        assert_eq!(parse_cidr("::1"), Some(("::1".parse().unwrap(), 128)));
        assert_eq!(parse_cidr("10.0.0.0/33"), None);
        assert_eq!(parse_cidr("nope/8"), None);
        let c = TrackerConfig {
            trusted_proxies: vec!["bad".into()],
            ..TrackerConfig::default()
        };
        assert_eq!(c.trusted_cidrs(), Err(BadCidr("bad".into())));
    }

    #[test]
    fn the_documented_text_parses_to_the_defaults() {
        let parsed: TrackerConfig = toml::from_str(DEFAULT_CONFIG_TOML).unwrap();
        assert_eq!(parsed, TrackerConfig::default());
        let err = toml::from_str::<TrackerConfig>("no_such_key = 1").unwrap_err();
        assert!(err.to_string().contains("no_such_key"), "{err}");
    }

    #[test]
    fn defaults_serialize_as_documented() {
        // The documented text and the Default impl must not drift apart: compare them as
        // JSON values through serde (the cli parses the TOML text with the same struct).
        let json = serde_json::to_value(TrackerConfig::default()).unwrap();
        assert_eq!(json["http_address"], "127.0.0.1:6969");
        assert_eq!(json["mode"], "open");
        for key in json.as_object().unwrap().keys() {
            if json[key].is_null() {
                // Optional keys are documented commented out.
                assert!(
                    DEFAULT_CONFIG_TOML.contains(&format!("# {key} = ")),
                    "{key} is not documented"
                );
                continue;
            }
            assert!(
                DEFAULT_CONFIG_TOML.contains(&format!("\n{key} = ")),
                "{key} is not documented"
            );
        }
    }
}
