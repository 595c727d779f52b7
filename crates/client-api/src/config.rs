//! The daemon's configuration, in sections (`[api]`, `[storage]`, `[peers]`): every key has a
//! default that needs no file, listens on loopback only and keeps its state under
//! `./nexsuj-daemon/`. Key names are unique across sections, so `NEXSUJ_<KEY>` names one
//! (`NEXSUJ_API_TOKEN`, `NEXSUJ_API_ADDRESS`, …).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The API token: never shown by `Debug`, so it cannot reach a log.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiToken(pub String);

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

settings::section! {
    /// The HTTP API and the web UI.
    pub struct ApiSection {
        /// Where the API and the web UI listen. Loopback unless you set it otherwise.
        pub api_address: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 8090));
        /// Host names the API answers to besides loopback addresses and `localhost` (the Host
        /// header of any other name is refused, against DNS rebinding).
        pub api_hosts: Vec<String> = Vec::new();
        /// The bearer token for the API. Unset: the token in `<state_dir>/api-token`, created
        /// with a random value (and printed once) on the first start.
        pub api_token: Option<ApiToken> = None, example "a long random string";
        /// Largest .torrent file accepted by /addtorrentfile, in bytes.
        pub max_torrent_file: usize = 10 << 20;
        /// Most web UI log-ins kept at once (the oldest is dropped past it).
        pub max_ui_sessions: usize = 64;
        /// Failed log-ins allowed per client address and minute.
        pub login_attempts_per_minute: u32 = 10;
    }
}

settings::section! {
    /// Where the daemon keeps its state and the downloads.
    pub struct StorageSection {
        /// The daemon's own state: the torrents, their folders and limits, the API token.
        pub state_dir: PathBuf = PathBuf::from("nexsuj-daemon");
        /// Where torrents are downloaded when a request names no folder. Unset:
        /// `<state_dir>/downloads`.
        pub download_dir: Option<PathBuf> = None, example "/srv/torrents";
        /// Seconds between saves of the counters (changes to the torrents are saved at once).
        pub save_interval: u32 = 60;
        /// Seconds a magnet link's metadata may take to arrive before the torrent shows an
        /// error (start it again to retry).
        pub metadata_timeout: u32 = 600;
    }
}

settings::section! {
    /// The peer side: where peers reach us, and how many.
    pub struct PeersSection {
        /// Addresses to accept peers on. Empty: every interface (IPv6 and IPv4).
        pub peer_addresses: Vec<IpAddr> = Vec::new();
        /// First port to try for peers (BEP 3: 6881).
        pub peer_port: u16 = 6881;
        /// Last port to try for peers.
        pub peer_port_last: u16 = 6889;
        /// Most peer connections in the whole daemon.
        pub max_connections: usize = 500;
        /// Most peer connections per torrent.
        pub max_peers_per_torrent: usize = 50;
        /// Peers unchoked at a time per torrent.
        pub upload_slots: usize = 4;
        /// Peer connection encryption (MSE/PE): "disabled", "enabled" (accept both, try
        /// encrypted first) or "required" (RC4 only).
        pub encryption: String = "enabled".into();
        /// A PEM file of CA certificates to trust for HTTPS trackers, besides the usual roots.
        pub tracker_ca: Option<PathBuf> = None, example "/etc/nexsuj/tracker-ca.pem";
        /// Peer transports: "tcp", "utp" (BEP 29, on the peer port's UDP side) or "both" (uTP
        /// tried first, as libtorrent does).
        pub transport: String = "both".into();
        /// Session-wide download limit on the first start, KiB/s (0: none). Later the API's
        /// /setglobaldownrate sets it and the daemon remembers it.
        pub global_download_rate: u64 = 0;
        /// Session-wide upload limit on the first start, KiB/s (0: none).
        pub global_upload_rate: u64 = 0;
        /// Join the DHT (BEP 5) on UDP, on the peer port: public torrents are announced there
        /// and magnets with nothing else to go on look their peers up there. Private torrents
        /// never use it (BEP 27).
        pub dht: bool = true;
        /// DHT nodes to join through, HOST:PORT. Empty: the well-known routers. The nodes of
        /// the last run (kept in the state folder) are tried as well.
        pub dht_bootstrap: Vec<String> = Vec::new();
    }
}

settings::sections! {
    /// nexsuj daemon configuration. Every key is optional; these are the defaults. The
    /// environment variable NEXSUJ_<KEY> sets a key, e.g. NEXSUJ_API_TOKEN=….
    pub struct DaemonConfig {
        /// The HTTP API and the web UI.
        pub api: ApiSection;
        /// State and downloads.
        pub storage: StorageSection;
        /// Peers.
        pub peers: PeersSection;
    }
}

impl DaemonConfig {
    /// The documented TOML of this configuration (`--print-default-config`).
    pub fn to_documented_toml(&self) -> String {
        settings::document(self)
    }

    /// Where downloads go when a request names no folder.
    pub fn download_dir(&self) -> PathBuf {
        self.storage
            .download_dir
            .clone()
            .unwrap_or_else(|| self.storage.state_dir.join("downloads"))
    }

    /// The engine's settings; an error names a setting with a value it cannot take.
    pub fn session(&self) -> Result<client::SessionConfig, crate::RunError> {
        let p = &self.peers;
        let encryption = p.encryption.parse().map_err(|why| crate::RunError::Setting {
            key: "peers.encryption",
            why,
        })?;
        let transport = p.transport.parse().map_err(|why| crate::RunError::Setting {
            key: "peers.transport",
            why,
        })?;
        Ok(client::SessionConfig {
            listen_addrs: p.peer_addresses.clone(),
            ports: (p.peer_port, p.peer_port_last),
            max_connections: p.max_connections,
            max_peers_per_torrent: p.max_peers_per_torrent,
            upload_slots: p.upload_slots,
            encryption,
            tracker_ca: p.tracker_ca.clone(),
            transport,
            ..client::SessionConfig::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_loopback_and_documented() {
        let c = DaemonConfig::default();
        assert!(c.api.api_address.ip().is_loopback());
        assert_eq!(c.api.api_address.port(), 8090);
        assert_eq!(c.download_dir(), PathBuf::from("nexsuj-daemon/downloads"));
        let text = c.to_documented_toml();
        assert!(text.contains("[api]"), "{text}");
        assert!(text.contains("# api_token = "), "{text}");
        assert_eq!(format!("{:?}", ApiToken("x".into())), "ApiToken(<redacted>)");
    }
}
