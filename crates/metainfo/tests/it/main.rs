//! Integration tests of the metainfo crate.

// Test helpers outside #[test] functions may unwrap: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixtures;
mod fuzz_seeds;
mod hostile;
mod verify;

use std::path::PathBuf;

/// Path of a file in `tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The content the fixtures were made from (see tests/fixtures/make.py).
pub const MULTI_FILES: &[(&str, usize)] = &[
    ("docs/a.txt", 40000),
    ("docs/empty", 0),
    ("media/b.bin", 70000),
    ("c.bin", 16384),
    ("z", 100),
];
