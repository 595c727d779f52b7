//! The transfer half of a peer's protocol state: serving its requests, taking its blocks
//! (written to storage straight from the receive buffer, hashed off the async threads once a
//! piece is complete) and keeping a queue of requests to it whose depth follows its rate.

use std::sync::atomic::Ordering;
use tokio::time::Instant;

use wire::{BLOCK_LEN, BlockRequest, Message};

use super::closed::Closed;
use super::conn::{Conn, MAX_PENDING, MAX_QUEUE, MIN_QUEUE};
use super::queue::BLOCK_COST;
use crate::picker::{Arrival, PeerKey};
use crate::torrent::{Held, PeerCmd, PieceBuf, Put, State};

/// Records a block that is in its piece's buffer or on disk: the endgame twin is cancelled.
/// When the block completed its piece, returns the piece's
/// buffer (`None` inside when its blocks are on disk).
fn recorded(
    s: &mut State,
    r: &BlockRequest,
    key: PeerKey,
    cancel: Option<PeerKey>,
) -> Option<Option<PieceBuf>> {
    let complete = s.picker.block_written(r, key);
    if let Some(other) = cancel.and_then(|c| s.peers.get(&c)) {
        let _ = other.cmd.send(PeerCmd::Cancel(*r));
    }
    complete.then(|| s.assembly.take(r.index))
}

impl Conn {
    pub(super) fn on_request(&mut self, r: BlockRequest) {
        let (ok, choking) = {
            let s = self.t.lock();
            let piece_len = s.picker.piece_len(r.index);
            let valid = (r.index as usize) < self.t.meta.num_pieces
                && s.picker.have().get(r.index as usize)
                && u64::from(r.begin) + u64::from(r.length) <= piece_len;
            let choking = s.peers.get(&self.key).is_none_or(|e| e.am_choking);
            (valid, choking)
        };
        let room = self.fits_optional(BLOCK_COST);
        let queued = self.pending.lock().map(|mut p| {
            if !ok || choking || !room || p.len() >= MAX_PENDING {
                return false;
            }
            p.insert(r)
        });
        if queued.unwrap_or(false) {
            self.push_block(r);
        } else if self.fast {
            self.send(Message::Reject(r));
        }
    }

    pub(super) fn on_block(&mut self, index: u32, begin: u32, data: &[u8]) -> Result<(), Closed> {
        let r = BlockRequest {
            index,
            begin,
            length: data.len() as u32,
        };
        self.outstanding.remove(&r);
        let len = data.len() as u64;
        self.last_block = Instant::now();
        self.slow_start += 1;
        // Usually one lock: the block is copied into its piece's buffer and recorded.
        let (done, cancel) = {
            let mut guard = self.t.lock();
            let s = &mut *guard;
            let Arrival::Write { cancel } = s.picker.block_arrived(&r, self.key) else {
                drop(guard);
                self.t.add_wasted(len);
                return Ok(());
            };
            let piece_len = s.picker.piece_len(index) as usize;
            match s.assembly.put(index, piece_len, begin, data) {
                Put::Stored => (Some(recorded(s, &r, self.key, cancel)), None),
                Put::Direct => (None, Some(cancel)),
            }
        };
        let done = match (done, cancel) {
            (Some(done), _) => done,
            (None, cancel) => {
                // No buffer for this piece: the block goes to disk from the receive buffer.
                if let Err(e) = self.t.storage.write(index, begin, data) {
                    let (request, data, from) = (r, data.to_vec(), self.key);
                    self.t.write_failed(Held::Block { request, data, from }, &e);
                    return Err(Closed::DiskWrite(e));
                }
                recorded(&mut self.t.lock(), &r, self.key, cancel.flatten())
            }
        };
        // It sends again: no longer snubbed.
        self.flags().set_snubbed(false);
        self.stats.downloaded.fetch_add(len, Ordering::Relaxed);
        self.t.totals.downloaded.fetch_add(len, Ordering::Relaxed);
        if let Some(buffer) = done {
            self.t.check_piece(index, buffer);
        }
        Ok(())
    }

    fn queue_depth(&self) -> usize {
        let rate = self.stats.down_rate.load(Ordering::Relaxed);
        let cap = self.reqq.min(MAX_QUEUE);
        if rate == 0 {
            // No rate measured yet: slow start, one more request per block received, so a
            // fast peer reaches full depth within a few round trips.
            return self.slow_start.clamp(MIN_QUEUE.min(cap), cap);
        }
        // About three seconds of data in flight: enough to keep the pipe full even with peers
        // that serve requests in pulses (transmission), few enough that a slow peer does not
        // sit on blocks others could send.
        ((rate * 3 / u64::from(BLOCK_LEN)) as usize).clamp(MIN_QUEUE.min(cap), cap)
    }

    pub(super) fn fill_requests(&mut self) {
        let flags = self.flags();
        if flags.peer_choking() || !flags.am_interested() || flags.snubbed() {
            return;
        }
        let depth = self.queue_depth();
        // Requests go out in batches of an eighth of the queue: fewer, fuller messages for
        // both sides to process, while the peer still holds most of the queue.
        if self.outstanding.len() + (depth / 8).max(1) > depth {
            return;
        }
        let mut reqs = Vec::new();
        let still_interested = {
            let mut s = self.t.lock();
            let s = &mut *s;
            let Some(e) = s.peers.get(&self.key) else { return };
            s.picker
                .pick(self.key, &e.pieces, depth - self.outstanding.len(), &mut reqs);
            !reqs.is_empty() || !self.outstanding.is_empty() || s.picker.is_interesting(&e.pieces)
        };
        for r in reqs {
            self.send(Message::Request(r));
            self.outstanding.insert(r);
        }
        if !still_interested {
            self.set_interest(false);
        }
    }

    pub(super) fn release_all(&mut self) {
        let mut s = self.t.lock();
        for r in self.outstanding.drain() {
            s.picker.cancel(&r, self.key);
        }
    }
}
