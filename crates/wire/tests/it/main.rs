//! Integration tests of the wire crate: properties of the codec and the fuzz seeds replayed.

// Test helpers outside #[test] functions may unwrap: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fuzz_seeds;
mod props;
