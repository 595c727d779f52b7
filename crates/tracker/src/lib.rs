//! The nexsuj tracker (BEP 3, 15, 23, 7, 24, 48), built on the pure `tracker-proto` crate.
//!
//! - [`access`]: the [`access::AccessPolicy`] hook (passkeys, registered torrents) and the
//!   public modes: open, allow-list, deny-list (reloadable), client deny-list by peer-id prefix.
//! - [`accounting`]: upload/download deltas from absolute counters (restart-safe, capped) and
//!   a bounded in-memory accumulator that a private site drains into its database in batches.
//! - [`engine`]: [`engine::Tracker`], the announce/scrape logic both servers share: policy check,
//!   the peer's address (the `ip` parameter only when configured), numwant cap, swarm update,
//!   accounting with backpressure, BEP 24 `external ip`, counters.
//! - [`swarm`]: the in-memory swarm store, sharded by info-hash so that announces for
//!   different torrents never contend on one lock; compact fixed-size peer records; expiry;
//!   scrape counts including a real `downloaded`.
//!
//! Not yet here: the HTTP and UDP servers, file configuration, metrics export and the
//! `nexsuj tracker` command, which are built on top of these parts next.

pub mod access;
pub mod accounting;
pub mod engine;
pub mod swarm;
