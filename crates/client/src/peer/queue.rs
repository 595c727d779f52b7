//! A peer's send queue, from its reader task to its writer task, counted in bytes: what a
//! peer makes us queue stays in memory until it reads, so the reader checks the count
//! against the peer's cap before it queues more (see `Conn::flush`) and stops parsing the
//! peer's messages while the queue is full.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::{Notify, mpsc};
use wire::BlockRequest;

use crate::torrent::PeerStats;

/// What the reader hands the writer.
#[derive(Debug)]
pub(super) enum Out {
    /// Bytes of framed messages.
    Bytes(Vec<u8>),
    /// Framed messages charged to the upload limits before they go out, like blocks
    /// (ut_metadata pieces: 16 KiB answers to 31-byte requests).
    Paced(Vec<u8>),
    /// Serve this request if it is still in the pending set.
    Block(BlockRequest),
}

/// What a queued block request counts: its memory, not the block it becomes (the writer
/// reads blocks from storage as it sends them, a bounded batch at a time).
pub(super) const BLOCK_COST: usize = std::mem::size_of::<Out>();

impl Out {
    /// Bytes held while it waits in the queue.
    pub(super) fn cost(&self) -> usize {
        match self {
            Self::Bytes(b) | Self::Paced(b) => b.len(),
            Self::Block(_) => BLOCK_COST,
        }
    }
}

/// The count (kept in the peer's stats, where snapshots read it) and the writer's signal.
#[derive(Debug)]
struct Shared {
    stats: Arc<PeerStats>,
    drained: Notify,
}

/// The reader's end.
#[derive(Debug)]
pub(super) struct Sender {
    tx: mpsc::UnboundedSender<Out>,
    shared: Arc<Shared>,
}

/// The writer's end: it reports each item's bytes as released once they left the queue.
#[derive(Debug)]
pub(super) struct Receiver {
    rx: mpsc::UnboundedReceiver<Out>,
    shared: Arc<Shared>,
}

pub(super) fn channel(stats: Arc<PeerStats>) -> (Sender, Receiver) {
    let (tx, rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        stats,
        drained: Notify::new(),
    });
    (
        Sender {
            tx,
            shared: shared.clone(),
        },
        Receiver { rx, shared },
    )
}

impl Sender {
    /// Bytes queued and not yet released by the writer.
    pub(super) fn queued(&self) -> usize {
        self.shared.stats.send_queue.load(Ordering::Acquire) as usize
    }

    /// Queues `item`; the caller has checked that it fits.
    pub(super) fn push(&self, item: Out) {
        let cost = item.cost() as u64;
        let stats = &self.shared.stats;
        let now = stats.send_queue.fetch_add(cost, Ordering::AcqRel) + cost;
        stats.send_queue_peak.fetch_max(now, Ordering::Relaxed);
        if self.tx.send(item).is_err() {
            // The writer is gone (the connection is closing): nothing is queued after all.
            stats.send_queue.fetch_sub(cost, Ordering::AcqRel);
        }
    }

    /// Returns once the writer has released bytes since the last call (at once if it did
    /// meanwhile: a release while nobody waits is remembered).
    pub(super) async fn drained(&self) {
        self.shared.drained.notified().await;
    }
}

impl Receiver {
    pub(super) async fn recv(&mut self) -> Option<Out> {
        self.rx.recv().await
    }

    pub(super) fn try_recv(&mut self) -> Option<Out> {
        self.rx.try_recv().ok()
    }

    /// `cost` bytes left the queue (sent, or handed to the socket's buffer).
    pub(super) fn release(&self, cost: usize) {
        if cost > 0 {
            self.shared
                .stats
                .send_queue
                .fetch_sub(cost as u64, Ordering::AcqRel);
            self.shared.drained.notify_one();
        }
    }
}
