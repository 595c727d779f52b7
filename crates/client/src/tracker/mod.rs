//! Tracker clients: HTTP (BEP 3, 23, 7) and UDP (BEP 15, 41) announces and scrapes on the
//! pure `tracker-proto` crate, and the tiers of BEP 12.
//!
//! HTTP is a small HTTP/1.1 `GET` (chunked or sized bodies, replies capped at 2 MiB, the
//! connection kept for the next announce) rather than a full HTTP client: an announce is one
//! request with a bencoded answer. `https://` runs it over rustls (`conn.rs`).

mod conn;
mod http;
mod udp;
mod url;

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use ids::InfoHash;
use tracing::Instrument;
use tracker_proto::common::{AnnounceRequest, AnnounceResponse, ScrapeStats};

use crate::error::TrackerError;
use crate::rng::Rng;

pub use conn::HttpClient;
pub use http::dechunk;
pub use url::TrackerUrl;

/// The most bytes read from an HTTP tracker.
pub const MAX_REPLY: usize = 2 << 20;

/// The `key` a client announces with (BEP 7's token that names it across address changes),
/// as libtorrent and uTorrent send it: eight upper-case hex digits. Raw bytes would need
/// percent-encoding and are not UTF-8, and aquatic_http, which reads `key` as a string, drops
/// such an announce without a reply. UDP announces carry the number itself (see
/// [`key_number`]).
pub fn key_param(key: u32) -> Vec<u8> {
    format!("{key:08X}").into_bytes()
}

/// The number of a `key` for a UDP announce (BEP 15): eight hex digits as [`key_param`]
/// writes them, or else the first four bytes, big-endian; 0 when there is none.
pub fn key_number(key: &[u8]) -> u32 {
    if key.len() == 8
        && let Some(n) = std::str::from_utf8(key)
            .ok()
            .and_then(|k| u32::from_str_radix(k, 16).ok())
    {
        return n;
    }
    key.get(..4)
        .map_or(0, |k| u32::from_be_bytes([k[0], k[1], k[2], k[3]]))
}

/// How to reach trackers.
#[derive(Debug, Clone)]
pub struct Via {
    /// The local address to send from (the session's listen address, when it has one).
    pub bind: Option<IpAddr>,
    /// How long to wait for a UDP reply (then once more with twice that).
    pub udp_timeout: Duration,
    /// TLS settings and kept connections of HTTP(S) trackers.
    pub http: HttpClient,
}

/// Announces to one tracker.
pub async fn announce(url: &str, req: &AnnounceRequest, via: &Via) -> Result<AnnounceResponse, TrackerError> {
    let u = TrackerUrl::parse(url)?;
    let span = tracing::debug_span!("tracker", host = %u.host(), event = ?req.event);
    async {
        match &u {
            TrackerUrl::Http { .. } => http::announce(&u, req, via).await,
            TrackerUrl::Udp { .. } => udp::announce(&u, req, via).await,
        }
    }
    .instrument(span)
    .await
}

/// Scrapes one torrent from one tracker (BEP 48 for HTTP, BEP 15 for UDP).
pub async fn scrape(url: &str, info_hash: InfoHash, via: &Via) -> Result<ScrapeStats, TrackerError> {
    let u = TrackerUrl::parse(url)?;
    let span = tracing::debug_span!("tracker", host = %u.host(), event = "scrape");
    async {
        match &u {
            TrackerUrl::Http { .. } => http::scrape(&u, info_hash, via).await,
            TrackerUrl::Udp { .. } => udp::scrape(&u, info_hash, via).await,
        }
    }
    .instrument(span)
    .await
}

/// What is known about one tracker, for the status API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrackerStatus {
    /// The announce URL.
    pub url: String,
    /// Its tier (BEP 12), 0 first.
    pub tier: usize,
    /// The last announce succeeded.
    pub working: bool,
    /// Seeders in its last reply.
    pub seeders: u32,
    /// Leechers in its last reply.
    pub leechers: u32,
    /// Peers in its last reply.
    pub peers: usize,
    /// When it last answered.
    pub last_announce: Option<SystemTime>,
    /// Its last error, if the last attempt failed.
    pub error: Option<String>,
}

/// The trackers of a torrent in BEP 12 tiers: each tier shuffled once, tried in order, and a
/// tracker that answers moves to the front of its tier.
#[derive(Debug, Default)]
pub struct Tiers {
    tiers: Vec<Vec<TrackerStatus>>,
}

impl Tiers {
    /// Builds the tiers, shuffling each.
    pub fn new(urls: Vec<Vec<String>>, rng: &mut Rng) -> Self {
        let tiers = urls
            .into_iter()
            .enumerate()
            .map(|(t, mut tier)| {
                for i in (1..tier.len()).rev() {
                    tier.swap(i, rng.below(i + 1));
                }
                tier.into_iter()
                    .map(|url| TrackerStatus {
                        url,
                        tier: t,
                        ..Default::default()
                    })
                    .collect()
            })
            .collect();
        Self { tiers }
    }

    /// True when there is no tracker.
    pub fn is_empty(&self) -> bool {
        self.tiers.iter().all(Vec::is_empty)
    }

    /// Every tracker's status, in tier order.
    pub fn statuses(&self) -> Vec<TrackerStatus> {
        self.tiers.iter().flatten().cloned().collect()
    }

    /// The URLs in the order to try them.
    pub fn order(&self) -> Vec<(usize, String)> {
        self.tiers
            .iter()
            .enumerate()
            .flat_map(|(t, tier)| tier.iter().map(move |s| (t, s.url.clone())))
            .collect()
    }

    /// Records a reply from `url` and moves it to the front of its tier.
    pub fn succeeded(&mut self, tier: usize, url: &str, resp: &AnnounceResponse) {
        let Some(list) = self.tiers.get_mut(tier) else {
            return;
        };
        if let Some(pos) = list.iter().position(|s| s.url == url) {
            let mut s = list.remove(pos);
            s.working = true;
            s.seeders = resp.complete;
            s.leechers = resp.incomplete;
            s.peers = resp.peers.len();
            s.last_announce = Some(SystemTime::now());
            s.error = None;
            list.insert(0, s);
        }
    }

    /// Records a failure of `url`.
    pub fn failed(&mut self, tier: usize, url: &str, err: &TrackerError) {
        if let Some(s) = self
            .tiers
            .get_mut(tier)
            .and_then(|l| l.iter_mut().find(|s| s.url == url))
        {
            s.working = false;
            s.error = Some(crate::error::chain(err));
        }
    }
}

/// Announces through the tiers (BEP 12): the first tracker that answers wins.
pub async fn announce_tiers(
    tiers: &Mutex<Tiers>,
    req: &AnnounceRequest,
    via: &Via,
) -> Result<AnnounceResponse, TrackerError> {
    let order = tiers.lock().map(|t| t.order()).unwrap_or_default();
    let mut last = TrackerError::NoTrackers;
    for (tier, url) in order {
        let result = announce(&url, req, via).await;
        let Ok(mut t) = tiers.lock() else { break };
        match result {
            Ok(resp) => {
                t.succeeded(tier, &url, &resp);
                return Ok(resp);
            }
            Err(e) => {
                t.failed(tier, &url, &e);
                last = e;
            }
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_eight_hex_digits_and_udp_reads_it_back() {
        assert_eq!(key_param(0x1B9C_AD20), b"1B9CAD20");
        assert_eq!(key_param(0x0000_00AB), b"000000AB");
        for k in [0, 0x1B9C_AD20, u32::MAX] {
            assert_eq!(key_number(&key_param(k)), k);
        }
        assert_eq!(key_number(&[0x1B, 0x9C, 0xAD, 0x20]), 0x1B9C_AD20);
        assert_eq!(key_number(b""), 0);
    }

    #[test]
    fn a_working_tracker_moves_to_the_front() {
        let mut rng = Rng::seeded(5);
        let mut t = Tiers::new(
            vec![vec!["a".into(), "b".into(), "c".into()], vec!["d".into()]],
            &mut rng,
        );
        assert_eq!(t.order().len(), 4);
        assert_eq!(t.order()[3], (1, "d".to_string()));
        let resp = AnnounceResponse {
            complete: 3,
            ..Default::default()
        };
        t.failed(0, "a", &TrackerError::Timeout);
        t.succeeded(0, "c", &resp);
        assert_eq!(t.order()[0], (0, "c".to_string()));
        let st = t.statuses();
        assert!(st[0].working && st[0].seeders == 3);
        assert_eq!(
            st.iter().find(|s| s.url == "a").unwrap().error.as_deref(),
            Some("timed out")
        );
    }
}
