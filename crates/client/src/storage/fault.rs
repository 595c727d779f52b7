//! A switch that makes a torrent's disk writes fail the way a full disk does. It is the seam
//! the tests use to drive the engine's disk-error handling (pause, back off, retry) without
//! filling a real disk, and an operator can use it for a drill.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Default)]
struct State {
    /// Bytes that may still be written; `None`: no limit.
    space: Mutex<Option<u64>>,
    refused: AtomicU64,
}

/// Simulated free space for one torrent's writes. Cheap to clone; clones share the switch.
#[derive(Debug, Clone, Default)]
pub struct DiskFaults(Arc<State>);

impl DiskFaults {
    /// No limit until [`DiskFaults::set_space`] is called.
    pub fn new() -> Self {
        Self::default()
    }

    /// From now on `bytes` more bytes may be written; a write that does not fit fails whole
    /// with [`io::ErrorKind::StorageFull`] (`ENOSPC`).
    pub fn set_space(&self, bytes: u64) {
        *self.space() = Some(bytes);
    }

    /// Writes succeed again: the disk has room.
    pub fn clear(&self) {
        *self.space() = None;
    }

    /// Writes refused so far.
    pub fn refused(&self) -> u64 {
        self.0.refused.load(Ordering::Relaxed)
    }

    fn space(&self) -> std::sync::MutexGuard<'_, Option<u64>> {
        self.0.space.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes `n` bytes of the space, or fails as a full disk would.
    pub(crate) fn charge(&self, n: u64) -> io::Result<()> {
        let mut space = self.space();
        match *space {
            None => Ok(()),
            Some(left) if left >= n => {
                *space = Some(left - n);
                Ok(())
            }
            Some(_) => {
                self.0.refused.fetch_add(1, Ordering::Relaxed);
                Err(io::Error::new(
                    io::ErrorKind::StorageFull,
                    "no space left on device (simulated)",
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_fit_until_the_space_runs_out_then_fail_until_cleared() {
        let f = DiskFaults::new();
        assert!(f.charge(u64::MAX).is_ok(), "no limit by default");
        f.set_space(10);
        assert!(f.charge(6).is_ok());
        let err = f.clone().charge(6).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
        assert!(f.charge(4).is_ok(), "a refused write took nothing");
        assert_eq!(f.refused(), 1);
        f.clear();
        assert!(f.charge(100).is_ok());
    }
}
