//! The protocol flags of a peer that its connection task owns (BEP 3 choking and interest,
//! and our snub verdict). The task is their only writer; the torrent's side (choker,
//! snapshots) reads them here, without the torrent's lock: one copy, so the two sides cannot
//! disagree, and no lock taken on the read path to keep a second copy up to date.

use std::sync::atomic::{AtomicU8, Ordering};

const PEER_CHOKING: u8 = 1;
const AM_INTERESTED: u8 = 1 << 1;
const SNUBBED: u8 = 1 << 2;

/// A peer's flags (see the module docs). Relaxed ordering: each flag stands alone, and the
/// readers act on a snapshot that may be a message old anyway.
#[derive(Debug)]
pub(crate) struct PeerFlags(AtomicU8);

impl Default for PeerFlags {
    /// Every connection starts choked and uninterested (BEP 3).
    fn default() -> Self {
        Self(AtomicU8::new(PEER_CHOKING))
    }
}

impl PeerFlags {
    fn get(&self, bit: u8) -> bool {
        self.0.load(Ordering::Relaxed) & bit != 0
    }

    fn set(&self, bit: u8, on: bool) {
        if on {
            self.0.fetch_or(bit, Ordering::Relaxed);
        } else {
            self.0.fetch_and(!bit, Ordering::Relaxed);
        }
    }

    /// The peer chokes us.
    pub fn peer_choking(&self) -> bool {
        self.get(PEER_CHOKING)
    }

    /// We told the peer we are interested.
    pub fn am_interested(&self) -> bool {
        self.get(AM_INTERESTED)
    }

    /// The peer sent nothing for a while although we waited on blocks from it.
    pub fn snubbed(&self) -> bool {
        self.get(SNUBBED)
    }

    pub(super) fn set_peer_choking(&self, on: bool) {
        self.set(PEER_CHOKING, on);
    }

    pub(super) fn set_am_interested(&self, on: bool) {
        self.set(AM_INTERESTED, on);
    }

    pub(super) fn set_snubbed(&self, on: bool) {
        self.set(SNUBBED, on);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_start_choked_and_change_one_at_a_time() {
        let f = PeerFlags::default();
        assert!(f.peer_choking() && !f.am_interested() && !f.snubbed());
        f.set_am_interested(true);
        f.set_snubbed(true);
        f.set_peer_choking(false);
        assert!(!f.peer_choking() && f.am_interested() && f.snubbed());
        f.set_snubbed(false);
        assert!(f.am_interested() && !f.snubbed());
    }
}
