//! `nexsuj live`'s configuration: one section, `[live]`. Every key has a default that needs
//! no file and listens on loopback only; `NEXSUJ_<KEY>` sets a key.

use std::net::SocketAddr;

settings::section! {
    /// The live-streaming tracker, its signaling and its WebTorrent tracker.
    pub struct LiveSection {
        /// Where it listens (HTTP and WebSockets). Loopback unless you set it otherwise.
        pub live_address: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 8082));
        /// Seconds between a viewer's stats reports (seed 001's `report_interval`).
        pub report_interval: u32 = 20;
        /// Seconds between a viewer's heartbeats.
        pub heartbeat_interval: u32 = 10;
        /// Seconds of silence (no heartbeat, report or peer request) after which a viewer is
        /// dropped: 2.5 heartbeat intervals by default.
        pub peer_timeout: u32 = 25;
        /// Most peers in one list.
        pub max_peers_returned: usize = 20;
        /// Most viewers of one channel.
        pub max_viewers_per_channel: usize = 10_000;
        /// Most channels.
        pub max_channels: usize = 10_000;
        /// Most viewers in all.
        pub max_viewers: usize = 200_000;
        /// Connections a viewer wants; peer lists prefer viewers that reported fewer.
        pub connection_target: u64 = 8;
        /// Announces (seed 001 `/announce`) per client address per minute.
        pub announces_per_ip_per_minute: u32 = 600;
        /// Open WebSockets (signaling and WebTorrent) per client address.
        pub max_sockets_per_ip: usize = 64;
        /// Open WebSockets in all.
        pub max_sockets: usize = 50_000;
        /// Largest WebSocket message, bytes (an SDP offer is a few KiB).
        pub max_message_bytes: usize = 64 * 1024;
        /// WebSocket messages a socket may send per second (with twice that as a burst).
        pub messages_per_second: u32 = 50;
        /// Seconds between announces the WebTorrent tracker asks for.
        pub webtorrent_interval: u64 = 120;
        /// Origins allowed by CORS. Empty: any (`*`), so that players on other sites can use it.
        pub cors_origins: Vec<String> = Vec::new();
        /// A bearer token for /metrics. Unset: /metrics answers loopback clients only.
        pub metrics_token: Option<String> = None, example "a long random string";
        /// hls.js to serve at /sdk/hls.min.js for the demo page (a file from the npm package).
        pub hls_js: Option<std::path::PathBuf> = None, example "node_modules/hls.js/dist/hls.min.js";
    }
}

settings::sections! {
    /// nexsuj live configuration. Every key is optional; these are the defaults. The
    /// environment variable NEXSUJ_<KEY> sets a key, e.g. NEXSUJ_LIVE_ADDRESS=….
    pub struct LiveConfig {
        /// The tracker.
        pub live: LiveSection;
    }
}

impl LiveConfig {
    /// The documented TOML of this configuration (`--print-default-config`).
    pub fn to_documented_toml(&self) -> String {
        settings::document(self)
    }
}
