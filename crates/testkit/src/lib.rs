//! Test helpers shared by nexsuj's crates (a dev-dependency only): temporary directories that
//! clean up after themselves, deterministic pseudo-random content, and tokio's paused clock
//! held still (`clock`, behind the feature of that name).
//!
//! ```
//! let dir = testkit::TempDir::new("doc");
//! let files = testkit::write_files(dir.path(), &[("a/b.bin", 100), ("c.txt", 0)]);
//! assert_eq!(std::fs::read(&files[0]).unwrap(), testkit::pseudo_random(0, 100));
//! ```

#[cfg(feature = "clock")]
pub mod clock;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A directory under the system temp dir, removed with everything in it when dropped.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates a fresh, empty directory whose name starts with `label`.
    pub fn new(label: &str) -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("nexsuj-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        Self { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// `len` bytes from a xorshift generator: the same `seed` always gives the same bytes.
pub fn pseudo_random(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Writes files of the given lengths under `root` (parents created), content
/// `pseudo_random(index, len)`; returns their paths in the same order.
pub fn write_files(root: &Path, files: &[(&str, usize)]) -> Vec<PathBuf> {
    files
        .iter()
        .enumerate()
        .map(|(i, (rel, len))| {
            let path = root.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
            }
            std::fs::write(&path, pseudo_random(i as u64, *len))
                .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            path
        })
        .collect()
}
