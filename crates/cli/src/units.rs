//! Byte counts on the command line (`1048576`, `256KiB`, `1MiB`) and for people (`1.5 GiB`),
//! and dates: the workspace's [`units`] crate, under the names the commands use.

pub use units::{human_bytes as human, parse_bytes};

/// `2026-11-23 14:40:17 UTC` from Unix seconds.
pub fn utc_date(secs: i64) -> String {
    units::Utc::from_unix(secs).to_string()
}
