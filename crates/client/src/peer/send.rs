//! What we queue for a peer, and how much. Messages collect in the reader's batch and go to
//! the writer in one piece; the send queue's bytes are capped per peer, because a peer that
//! never reads would otherwise grow our memory without end (each 31-byte ut_metadata request
//! asks for a 16 KiB answer):
//!
//! - optional answers (ut_metadata pieces, block requests) are queued only while the queue
//!   is under half the cap, else refused (BEP 9 `reject`; BEP 6 reject for blocks);
//! - the peer's messages are parsed only while the queue is under three quarters of the cap,
//!   so what they make us say cannot pile up either;
//! - anything that would take the queue past the cap (the peer has not read for that long)
//!   closes the connection.

use std::sync::Arc;
use tokio::time::Instant;

use wire::Message;
use wire::metadata::{METADATA_PIECE_LEN, MetadataMessage};

use super::conn::Conn;
use super::queue::Out;
use crate::counters::Counters;
use crate::torrent::TorrentShared;

/// The smallest cap, whatever the configuration says: room for any one message we send
/// besides the bitfield.
const MIN_SEND_QUEUE: usize = 64 << 10;

/// The send-queue cap of a peer of torrent `t`: the configured one, raised when needed so
/// that our bitfield fits with room to spare.
pub(super) fn cap(t: &TorrentShared) -> usize {
    let bitfield = t.meta.num_pieces.div_ceil(8);
    t.session.config.max_send_queue.max(MIN_SEND_QUEUE + bitfield)
}

impl Conn {
    /// Appends a message to the batch (sent at the next [`Conn::flush`]).
    pub(super) fn send(&mut self, m: Message<'_>) {
        m.write(&mut self.batch);
    }

    /// Bytes in the batch and the send queue.
    fn used(&self) -> usize {
        self.batch.len() + self.out.queued()
    }

    /// True while the peer's messages may be handled: their answers will fit.
    pub(super) fn may_parse(&self) -> bool {
        self.used() < self.send_cap / 4 * 3
    }

    /// True when an optional answer of `len` bytes fits.
    pub(super) fn fits_optional(&self, len: usize) -> bool {
        self.used() + len <= self.send_cap / 2
    }

    /// Hands the batch to the writer; past the cap, the connection is marked to close.
    pub(super) fn flush(&mut self) {
        if self.batch.is_empty() || self.overflowed {
            return;
        }
        let bytes = std::mem::replace(&mut self.batch, Vec::with_capacity(4096));
        if self.out.queued() + bytes.len() > self.send_cap {
            self.overflowed = true;
            Counters::bump(&self.t.session.counters.send_queue_overflows);
            return;
        }
        self.out.push(Out::Bytes(bytes));
        self.last_send = Instant::now();
    }

    /// Queues a request to serve, after the batch (the writer keeps the order).
    pub(super) fn push_block(&mut self, r: wire::BlockRequest) {
        self.flush();
        if !self.overflowed {
            self.out.push(Out::Block(r));
        }
    }

    /// Answers a ut_metadata request (BEP 9) with a piece of the info dictionary, charged to
    /// the upload limits like payload; rejects it when the send queue has no room for it.
    pub(super) fn on_metadata(&mut self, payload: &[u8]) {
        let (Some(id), Ok(MetadataMessage::Request { piece })) =
            (self.metadata_id, MetadataMessage::parse(payload))
        else {
            return;
        };
        let info: Arc<[u8]> = self.t.meta.info_bytes.clone();
        let start = (piece as usize).saturating_mul(METADATA_PIECE_LEN);
        let end = info.len().min(start.saturating_add(METADATA_PIECE_LEN));
        let mut payload = Vec::with_capacity(METADATA_PIECE_LEN + 64);
        if let Some(data) = info.get(start..end).filter(|d| !d.is_empty()) {
            MetadataMessage::Data {
                piece,
                total_size: info.len() as u64,
                data,
            }
            .write(&mut payload);
            let mut framed = Vec::with_capacity(payload.len() + 6);
            Message::Extended {
                id,
                payload: &payload,
            }
            .write(&mut framed);
            if self.fits_optional(framed.len()) {
                self.flush();
                if !self.overflowed {
                    self.out.push(Out::Paced(framed));
                }
                return;
            }
            Counters::bump(&self.t.session.counters.metadata_rejected);
            payload.clear();
        }
        MetadataMessage::Reject { piece }.write(&mut payload);
        self.send(Message::Extended {
            id,
            payload: &payload,
        });
    }
}
