//! The daemon's API end to end: real engines on loopback, requests through the real router
//! and middleware.

// Test helpers outside #[test] functions may unwrap: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod common;
mod dht;
mod errors;
mod openapi;
mod transfer;
