//! The engine end to end in one process: sessions on 127.0.0.1 port 0 exchanging real data,
//! trackers written in the test, a malicious peer, resume and recheck.

// Test helpers outside #[test] functions may unwrap: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod announce_clock;
mod common;
mod connect;
mod dht;
mod disk_full;
mod encryption;
mod faults;
mod https;
mod listen;
mod logs;
mod magnet;
mod many_files;
mod peer_limits;
mod pex;
mod resume_forgery;
mod swarm;
mod tracker_http;
mod trackers;
mod utp;
