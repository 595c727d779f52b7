//! Integration tests of the bencode crate.

// Test helpers outside #[test] functions may unwrap: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod decode;
mod props;
mod serde_types;
