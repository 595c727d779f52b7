//! The piece picker: which blocks to ask which peer for. Rarest first with a random
//! tie-break, partial pieces first, a sequential mode for streaming, and endgame (a block may
//! be asked of two peers once every missing piece has been started). Pure and synchronous:
//! the torrent holds it behind its lock.

use std::collections::{HashMap, HashSet};

use wire::{BLOCK_LEN, Bitfield, BlockRequest};

use crate::rng::Rng;

/// Identifies a peer connection within a torrent.
pub type PeerKey = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Free,
    /// Asked of one peer, or of two in endgame.
    Requested(PeerKey, Option<PeerKey>),
    /// Arrived from this peer; its data is being written.
    Writing(PeerKey),
    Received,
}

#[derive(Debug)]
struct Partial {
    slots: Vec<Slot>,
    free: usize,
    received: usize,
    contributors: Vec<PeerKey>,
    /// A piece that failed its hash check once is downloaded from one peer only, so the next
    /// failure names the culprit.
    owner: Option<PeerKey>,
}

/// What to do with a block that arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arrival {
    /// Not needed (already have it, a duplicate, or never asked): count it as wasted.
    Unwanted,
    /// Write it, then call [`Picker::block_written`]; `cancel` also asked for it (endgame).
    Write {
        /// Another peer to send a cancel to.
        cancel: Option<PeerKey>,
    },
}

/// Per-torrent picker state.
#[derive(Debug)]
pub struct Picker {
    piece_length: u64,
    total_len: u64,
    have: Bitfield,
    availability: Vec<u32>,
    partial: HashMap<u32, Partial>,
    /// Complete pieces being hash-checked, with the peers that sent their blocks.
    verifying: HashMap<u32, Vec<PeerKey>>,
    failed: HashSet<u32>,
    sequential: bool,
    /// Pieces fetched before any other, lowest first (a stream's window ahead of its reader).
    focus: Option<std::ops::Range<u32>>,
    rng: Rng,
}

impl Picker {
    /// A picker for `total_len` bytes in pieces of `piece_length`, with the pieces in `have`
    /// already verified.
    pub fn new(piece_length: u64, total_len: u64, have: Bitfield, rng: Rng) -> Self {
        Self {
            piece_length,
            total_len,
            availability: vec![0; have.len()],
            have,
            partial: HashMap::new(),
            verifying: HashMap::new(),
            failed: HashSet::new(),
            sequential: false,
            focus: None,
            rng,
        }
    }

    /// Sets the pieces to fetch before any other, lowest first (`None`: no such window).
    pub fn set_focus(&mut self, focus: Option<std::ops::Range<u32>>) {
        self.focus = focus;
    }

    /// Switches sequential mode (lowest missing piece first, for streaming).
    pub fn set_sequential(&mut self, on: bool) {
        self.sequential = on;
    }

    /// The verified pieces.
    pub fn have(&self) -> &Bitfield {
        &self.have
    }

    /// Number of pieces.
    pub fn num_pieces(&self) -> usize {
        self.have.len()
    }

    /// Length of piece `i`.
    pub fn piece_len(&self, i: u32) -> u64 {
        let start = u64::from(i) * self.piece_length;
        self.piece_length.min(self.total_len.saturating_sub(start))
    }

    fn num_blocks(&self, i: u32) -> usize {
        self.piece_len(i).div_ceil(u64::from(BLOCK_LEN)) as usize
    }

    /// Length of block `b` of piece `i`.
    pub fn block_len(&self, i: u32, b: usize) -> u32 {
        let start = b as u64 * u64::from(BLOCK_LEN);
        u64::from(BLOCK_LEN).min(self.piece_len(i).saturating_sub(start)) as u32
    }

    /// Bytes not yet verified.
    pub fn left(&self) -> u64 {
        let done: u64 = self.have.ones().map(|i| self.piece_len(i as u32)).sum();
        self.total_len - done.min(self.total_len)
    }

    /// A peer's pieces joined the swarm's availability.
    pub fn add_availability(&mut self, pieces: &Bitfield) {
        for i in pieces.ones() {
            self.availability[i] += 1;
        }
    }

    /// A peer's pieces left.
    pub fn remove_availability(&mut self, pieces: &Bitfield) {
        for i in pieces.ones() {
            self.availability[i] = self.availability[i].saturating_sub(1);
        }
    }

    /// A peer announced piece `i`.
    pub fn peer_has(&mut self, i: u32) {
        if let Some(a) = self.availability.get_mut(i as usize) {
            *a += 1;
        }
    }

    /// How many peers have piece `i`.
    pub fn availability(&self, i: u32) -> u32 {
        self.availability.get(i as usize).copied().unwrap_or(0)
    }

    fn wanted(&self, i: usize) -> bool {
        !self.have.get(i) && !self.verifying.contains_key(&(i as u32))
    }

    /// True when the peer has a piece we still want.
    pub fn is_interesting(&self, peer: &Bitfield) -> bool {
        if peer.is_full() {
            return !self.have.is_full();
        }
        peer.ones().any(|i| self.wanted(i))
    }

    fn unstarted(&self) -> usize {
        self.have.len() - self.have.count() - self.partial.len() - self.verifying.len()
    }

    /// True when piece `i` has been started and is not complete yet.
    pub fn is_partial(&self, i: u32) -> bool {
        self.partial.contains_key(&i)
    }

    /// True once every missing piece has been started: blocks may then be asked twice.
    pub fn in_endgame(&self) -> bool {
        self.unstarted() == 0
    }

    /// Appends up to `n` block requests for `peer`, which has `pieces`.
    pub fn pick(&mut self, peer: PeerKey, pieces: &Bitfield, n: usize, out: &mut Vec<BlockRequest>) {
        let start = out.len();
        let mut keys = self.partial_among(pieces);
        // Pieces this peer already works on first, so pieces complete one by one.
        keys.sort_by_key(|i| !self.partial[i].contributors.contains(&peer));
        for i in keys {
            if out.len() - start >= n {
                return;
            }
            self.take_free(i, peer, n - (out.len() - start), out);
        }
        while out.len() - start < n {
            let Some(i) = self.next_piece(pieces) else { break };
            let slots = vec![Slot::Free; self.num_blocks(i)];
            let owner = self.failed.contains(&i).then_some(peer);
            let free = slots.len();
            self.partial.insert(
                i,
                Partial {
                    slots,
                    free,
                    received: 0,
                    contributors: Vec::new(),
                    owner,
                },
            );
            self.take_free(i, peer, n - (out.len() - start), out);
        }
        if out.len() - start < n && self.in_endgame() {
            self.endgame(peer, pieces, n - (out.len() - start), out);
        }
    }

    fn take_free(&mut self, i: u32, peer: PeerKey, n: usize, out: &mut Vec<BlockRequest>) {
        let lens: Vec<u32> = (0..self.num_blocks(i)).map(|b| self.block_len(i, b)).collect();
        let Some(p) = self.partial.get_mut(&i) else { return };
        if p.free == 0 || p.owner.is_some_and(|o| o != peer) {
            return;
        }
        p.owner = p.owner.or(self.failed.contains(&i).then_some(peer));
        let mut taken = 0;
        for (b, slot) in p.slots.iter_mut().enumerate() {
            if taken == n {
                break;
            }
            if *slot == Slot::Free {
                *slot = Slot::Requested(peer, None);
                p.free -= 1;
                taken += 1;
                out.push(BlockRequest {
                    index: i,
                    begin: b as u32 * BLOCK_LEN,
                    length: lens[b],
                });
            }
        }
    }

    fn next_piece(&mut self, pieces: &Bitfield) -> Option<u32> {
        let n = self.have.len();
        let candidate =
            |s: &Self, i: usize| pieces.get(i) && s.wanted(i) && !s.partial.contains_key(&(i as u32));
        if let Some(focus) = &self.focus {
            let window = focus.start as usize..(focus.end as usize).min(n);
            if let Some(i) = window.clone().find(|&i| candidate(self, i)) {
                return Some(i as u32);
            }
        }
        if self.sequential {
            return (0..n).find(|&i| candidate(self, i)).map(|i| i as u32);
        }
        let offset = self.rng.below(n);
        let mut best: Option<(u32, usize)> = None;
        for k in 0..n {
            let i = (offset + k) % n;
            if candidate(self, i) && best.is_none_or(|(a, _)| self.availability[i] < a) {
                best = Some((self.availability[i], i));
                if self.availability[i] <= 1 {
                    break;
                }
            }
        }
        best.map(|(_, i)| i as u32)
    }

    /// The partial pieces among `pieces`, in index order.
    fn partial_among(&self, pieces: &Bitfield) -> Vec<u32> {
        let mut keys: Vec<u32> = self
            .partial
            .keys()
            .copied()
            .filter(|&i| pieces.get(i as usize))
            .collect();
        keys.sort_unstable();
        keys
    }

    fn endgame(&mut self, peer: PeerKey, pieces: &Bitfield, n: usize, out: &mut Vec<BlockRequest>) {
        let keys = self.partial_among(pieces);
        let mut taken = 0;
        for i in keys {
            let lens: Vec<u32> = (0..self.num_blocks(i)).map(|b| self.block_len(i, b)).collect();
            let Some(p) = self.partial.get_mut(&i) else {
                continue;
            };
            if p.owner.is_some_and(|o| o != peer) {
                continue;
            }
            for (b, slot) in p.slots.iter_mut().enumerate() {
                if taken == n {
                    return;
                }
                if let Slot::Requested(first, None) = *slot
                    && first != peer
                {
                    *slot = Slot::Requested(first, Some(peer));
                    taken += 1;
                    out.push(BlockRequest {
                        index: i,
                        begin: b as u32 * BLOCK_LEN,
                        length: lens[b],
                    });
                }
            }
        }
    }

    fn slot(&mut self, r: &BlockRequest) -> Option<(&mut Partial, usize)> {
        if r.begin % BLOCK_LEN != 0 {
            return None;
        }
        let b = (r.begin / BLOCK_LEN) as usize;
        let expected = (b < self.num_blocks(r.index)).then(|| self.block_len(r.index, b))?;
        if expected != r.length {
            return None;
        }
        self.partial.get_mut(&r.index).map(|p| (p, b))
    }

    /// A block came from `peer`: decide whether to write it.
    pub fn block_arrived(&mut self, r: &BlockRequest, peer: PeerKey) -> Arrival {
        let Some((p, b)) = self.slot(r) else {
            return Arrival::Unwanted;
        };
        if p.owner.is_some_and(|o| o != peer) {
            return Arrival::Unwanted;
        }
        let cancel = match p.slots[b] {
            Slot::Free => {
                p.free -= 1;
                None
            }
            Slot::Requested(a, second) => [Some(a), second].into_iter().flatten().find(|&k| k != peer),
            Slot::Writing(_) | Slot::Received => return Arrival::Unwanted,
        };
        p.slots[b] = Slot::Writing(peer);
        Arrival::Write { cancel }
    }

    /// The block is on disk. Returns true when that completed the piece, which now waits for
    /// [`Picker::verified`].
    pub fn block_written(&mut self, r: &BlockRequest, peer: PeerKey) -> bool {
        let Some((p, b)) = self.slot(r) else { return false };
        if p.slots[b] != Slot::Writing(peer) {
            return false;
        }
        p.slots[b] = Slot::Received;
        p.received += 1;
        if !p.contributors.contains(&peer) {
            p.contributors.push(peer);
        }
        if p.received < p.slots.len() {
            return false;
        }
        let contributors = std::mem::take(&mut p.contributors);
        self.partial.remove(&r.index);
        self.verifying.insert(r.index, contributors);
        true
    }

    /// Writing the block failed: it is free again.
    pub fn write_failed(&mut self, r: &BlockRequest) {
        if let Some((p, b)) = self.slot(r) {
            p.slots[b] = Slot::Free;
            p.free += 1;
        }
    }

    /// The hash check of piece `i` finished. Returns the peers that sent its blocks.
    pub fn verified(&mut self, i: u32, ok: bool) -> Vec<PeerKey> {
        let contributors = self.verifying.remove(&i).unwrap_or_default();
        if ok {
            self.have.set(i as usize, true);
            self.failed.remove(&i);
        } else {
            self.failed.insert(i);
        }
        contributors
    }

    /// A request to `peer` will not be answered (reject, choke, timeout, disconnect).
    pub fn cancel(&mut self, r: &BlockRequest, peer: PeerKey) {
        if let Some((p, b)) = self.slot(r) {
            Self::drop_requester(p, b, peer);
        }
    }

    fn drop_requester(p: &mut Partial, b: usize, peer: PeerKey) {
        p.slots[b] = match p.slots[b] {
            Slot::Requested(a, Some(c)) if a == peer => Slot::Requested(c, None),
            Slot::Requested(a, Some(c)) if c == peer => Slot::Requested(a, None),
            Slot::Requested(a, None) if a == peer => {
                p.free += 1;
                Slot::Free
            }
            other => other,
        };
    }

    /// Every request to `peer` is void; pieces it owned are open to others again.
    pub fn release(&mut self, peer: PeerKey) {
        for p in self.partial.values_mut() {
            for b in 0..p.slots.len() {
                Self::drop_requester(p, b, peer);
            }
            if p.owner == Some(peer) {
                p.owner = None;
            }
        }
        self.partial
            .retain(|_, p| p.free < p.slots.len() || p.received > 0);
    }

    /// Marks piece `i` as verified or not (after a recheck of data on disk).
    pub fn set_have(&mut self, i: u32, have: bool) {
        self.have.set(i as usize, have);
        if have {
            self.partial.remove(&i);
        }
    }
}

#[cfg(test)]
mod tests;
