//! The nexsuj tracker (BEP 3, 15, 23, 7, 24, 48), built on the pure `tracker-proto` crate.
//!
//! - [`access`]: the [`access::AccessPolicy`] hook (passkeys, registered torrents) and the
//!   public modes: open, allow-list, deny-list (reloadable), client deny-list by peer-id prefix.
//! - [`accounting`]: upload/download deltas from absolute counters (restart-safe, capped) and
//!   a bounded in-memory accumulator that a private site drains into its database in batches.
//! - [`config`]: [`config::TrackerConfig`] in sections, loopback defaults that need no file,
//!   documented TOML generated from the same structs.
//! - [`error`]: refusals (the `failure reason`), backpressure, configuration, list and
//!   start-up errors.
//! - [`engine`]: [`engine::Tracker`], the announce/scrape logic both servers share: policy check,
//!   the peer's address (the `ip` parameter only when configured), numwant cap, swarm update,
//!   accounting with backpressure, BEP 24 `external ip`, counters.
//! - [`swarm`]: the in-memory swarm store, sharded by info-hash so that announces for
//!   different torrents never contend on one lock; compact fixed-size peer records; expiry;
//!   scrape counts including a real `downloaded` (kept after a swarm empties).
//! - [`http`]: the HTTP server (axum): announce and scrape with passkeys in the query or the
//!   path, trusted-proxy `X-Forwarded-For`, `/stats` and `/metrics`, a connection limit.
//! - [`udp`]: the UDP server: a thread per `SO_REUSEPORT` socket answering inline, stateless
//!   keyed connection ids, silence for addresses that keep sending bad ones, BEP 41 passkeys.
//! - [`service`]: both servers, the expiry sweep and the stats sampler, started and stopped
//!   together; [`run`] serves until a shutdown future completes (what `nexsuj tracker` runs;
//!   `nexsuj serve` starts a [`service::Service`] beside its site).
//! - [`stats`]: per-protocol counters and request rates, as JSON and Prometheus text.
//! - [`passkey`]: where a passkey travels in a URL (query, `/announce/<passkey>`, BEP 41).
//!
//! ```no_run
//! # async fn demo() -> Result<(), tracker::Error> {
//! use std::sync::Arc;
//! use tracker::access::PublicPolicy;
//! use tracker::config::TrackerConfig;
//!
//! let mut config = TrackerConfig::default();
//! config.announce.max_numwant = 100;
//! let policy = Arc::new(PublicPolicy::from_config(&config.access)?);
//! let shutdown = async {
//!     let _ = tokio::signal::ctrl_c().await;
//! };
//! tracker::run(config, policy, axum::Router::new(), shutdown).await
//! # }
//! ```

pub mod access;
pub mod accounting;
pub mod config;
pub mod engine;
pub mod error;
pub mod http;
pub mod passkey;
pub mod service;
pub mod stats;
pub mod swarm;
#[cfg(test)]
mod test_support;
pub mod udp;

pub use error::Error;
pub use service::run;
