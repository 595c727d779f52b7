//! Pieces assembled in memory. The blocks of a piece are copied into one buffer the size of
//! the piece, so the complete piece is hashed from memory and written with one call, both on
//! a blocking thread: the peer's reader only copies, and nothing is read back from disk.
//!
//! Buffers come from a session-wide [`Budget`], which bounds resident memory. A piece whose
//! first block arrives when the budget is spent is written block by block instead and hashed
//! from disk (the fallback the engine always had), so memory never blocks a download.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes of piece buffers a session may hold.
#[derive(Debug)]
pub(crate) struct Budget {
    limit: u64,
    used: AtomicU64,
}

impl Budget {
    pub fn new(limit: u64) -> Self {
        Self {
            limit,
            used: AtomicU64::new(0),
        }
    }

    fn reserve(&self, n: u64) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                (u + n <= self.limit).then_some(u + n)
            })
            .is_ok()
    }

    fn release(&self, n: u64) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }

    /// Bytes currently held.
    #[cfg(test)]
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Acquire)
    }
}

/// A buffer the size of one piece, counted against the budget until dropped.
#[derive(Debug)]
pub(crate) struct PieceBuf {
    data: Vec<u8>,
    budget: Arc<Budget>,
}

impl PieceBuf {
    /// The piece's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }
}

impl Drop for PieceBuf {
    fn drop(&mut self) {
        self.budget.release(self.data.len() as u64);
    }
}

#[derive(Debug)]
enum Entry {
    Buffered(PieceBuf),
    /// Its blocks go straight to disk.
    Direct,
}

/// What became of a block handed to [`Assembly::put`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Put {
    /// Copied into the piece's buffer.
    Stored,
    /// The piece has no buffer: the caller writes the block to disk.
    Direct,
}

/// The buffers of one torrent's partial pieces, and spare buffers for the next ones.
#[derive(Debug)]
pub(crate) struct Assembly {
    budget: Arc<Budget>,
    pieces: HashMap<u32, Entry>,
    spare: Vec<PieceBuf>,
}

impl Assembly {
    pub fn new(budget: Arc<Budget>) -> Self {
        Self {
            budget,
            pieces: HashMap::new(),
            spare: Vec::new(),
        }
    }

    fn entry_for(&mut self, len: usize) -> Entry {
        if let Some(at) = self.spare.iter().position(|b| b.data.len() == len) {
            return Entry::Buffered(self.spare.swap_remove(at));
        }
        if self.budget.reserve(len as u64) {
            return Entry::Buffered(PieceBuf {
                data: vec![0; len],
                budget: self.budget.clone(),
            });
        }
        Entry::Direct
    }

    /// Takes a block of `piece` (of `piece_len` bytes) at `begin`. The first block of a piece
    /// decides: a buffer if the budget allows, else the whole piece goes to disk directly.
    pub fn put(&mut self, piece: u32, piece_len: usize, begin: u32, data: &[u8]) -> Put {
        if !self.pieces.contains_key(&piece) {
            let e = self.entry_for(piece_len);
            self.pieces.insert(piece, e);
        }
        let Some(Entry::Buffered(buf)) = self.pieces.get_mut(&piece) else {
            return Put::Direct;
        };
        let at = begin as usize;
        match buf.data.get_mut(at..at + data.len()) {
            Some(dst) => {
                dst.copy_from_slice(data);
                Put::Stored
            }
            None => Put::Direct,
        }
    }

    /// The buffer of a complete piece (`None` when its blocks went to disk), ending its entry.
    pub fn take(&mut self, piece: u32) -> Option<PieceBuf> {
        match self.pieces.remove(&piece) {
            Some(Entry::Buffered(b)) => Some(b),
            _ => None,
        }
    }

    /// Keeps a buffer whose piece was dealt with, for the next piece.
    pub fn recycle(&mut self, buf: PieceBuf) {
        self.spare.push(buf);
    }

    /// Drops the entries of pieces `keep` rejects (no longer partial) and the spare buffers.
    pub fn retain(&mut self, keep: impl Fn(u32) -> bool) {
        self.pieces.retain(|&i, _| keep(i));
        self.spare.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_within_the_budget_then_direct() {
        let budget = Arc::new(Budget::new(10));
        let mut a = Assembly::new(budget.clone());
        assert_eq!(a.put(0, 6, 0, b"abc"), Put::Stored);
        assert_eq!(a.put(0, 6, 3, b"def"), Put::Stored);
        assert_eq!(budget.used(), 6);
        // Piece 1 does not fit: it and all its blocks go to disk.
        assert_eq!(a.put(1, 6, 0, b"xyz"), Put::Direct);
        assert_eq!(a.put(1, 6, 3, b"xyz"), Put::Direct);
        assert!(a.take(1).is_none());
        let buf = a.take(0).unwrap();
        assert_eq!(buf.bytes(), b"abcdef");
        a.recycle(buf);
        assert_eq!(budget.used(), 6, "a spare buffer stays counted");
        // The spare serves the next piece of the same length without a new reservation.
        assert_eq!(a.put(2, 6, 0, b"ghi"), Put::Stored);
        assert_eq!(budget.used(), 6);
        // A block past the piece's end is never copied.
        assert_eq!(a.put(2, 6, 5, b"jk"), Put::Direct);
        a.retain(|_| false);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn dropping_a_buffer_returns_it_to_the_budget() {
        let budget = Arc::new(Budget::new(8));
        let mut a = Assembly::new(budget.clone());
        assert_eq!(a.put(0, 8, 0, b"12345678"), Put::Stored);
        let buf = a.take(0).unwrap();
        assert_eq!(a.put(1, 8, 0, b"1"), Put::Direct, "budget spent");
        drop(buf);
        assert_eq!(budget.used(), 0);
        assert_eq!(a.put(2, 8, 0, b"1"), Put::Stored);
        drop(a);
        assert_eq!(budget.used(), 0);
    }
}
