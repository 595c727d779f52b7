//! The writing half of a connection: our messages in order, and the blocks the peer asked
//! for, read from storage on a blocking thread (several at a time), charged to the upload
//! limits, unless cancelled or choked meanwhile. Each item's bytes are released from the
//! send queue's count once they are written.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncWriteExt, BufWriter};
use wire::BlockRequest;

use super::queue::{Out, Receiver};
use crate::torrent::{PeerStats, TorrentShared};

/// Requests the peer made that we have not served, cancelled or rejected.
pub(super) type Pending = Arc<Mutex<HashSet<BlockRequest>>>;

/// Most items taken from the queue per round, and most bytes read in one blocking call.
const BATCH: usize = 64;
const READ_BATCH: usize = 256 * 1024;

pub(super) async fn run(
    t: Arc<TorrentShared>,
    half: super::transport::PeerWriter,
    mut rx: Receiver,
    pending: Pending,
    stats: Arc<PeerStats>,
) {
    let mut w = BufWriter::with_capacity(64 * 1024, half);
    let mut items = Vec::with_capacity(BATCH);
    while let Some(first) = rx.recv().await {
        items.push(first);
        while items.len() < BATCH {
            match rx.try_recv() {
                Some(x) => items.push(x),
                None => break,
            }
        }
        let mut blocks = Vec::new();
        // What the blocks collected so far hold in the queue.
        let mut held = 0;
        for item in items.drain(..) {
            let cost = item.cost();
            let (bytes, paced) = match item {
                Out::Block(r) => {
                    blocks.push(r);
                    held += cost;
                    continue;
                }
                Out::Bytes(b) => (b, false),
                Out::Paced(b) => (b, true),
            };
            // Keep the order: blocks asked for before these bytes go first.
            if !serve(&t, &mut w, &pending, &stats, std::mem::take(&mut blocks)).await {
                return;
            }
            rx.release(std::mem::take(&mut held));
            if paced {
                crate::rate::spend(&[&t.up, &t.session.up], bytes.len() as u64).await;
            }
            if w.write_all(&bytes).await.is_err() {
                return;
            }
            rx.release(cost);
        }
        if !serve(&t, &mut w, &pending, &stats, blocks).await || w.flush().await.is_err() {
            return;
        }
        rx.release(held);
    }
}

/// Reads and sends the blocks still pending; false when the connection is gone.
async fn serve(
    t: &Arc<TorrentShared>,
    w: &mut BufWriter<super::transport::PeerWriter>,
    pending: &Pending,
    stats: &PeerStats,
    mut blocks: Vec<BlockRequest>,
) -> bool {
    if let Ok(mut p) = pending.lock() {
        blocks.retain(|r| p.remove(r));
    }
    for group in split(&blocks) {
        let storage = t.storage.clone();
        let group = group.to_vec();
        let read = tokio::task::spawn_blocking(move || {
            let total: usize = group.iter().map(|r| 13 + r.length as usize).sum();
            let mut buf = Vec::with_capacity(total);
            for r in &group {
                wire::write_piece_header(&mut buf, r.index, r.begin, r.length as usize);
                let at = buf.len();
                buf.resize(at + r.length as usize, 0);
                storage.read(r.index, r.begin, &mut buf[at..])?;
            }
            Ok::<_, std::io::Error>((buf, group.iter().map(|r| u64::from(r.length)).sum::<u64>()))
        })
        .await;
        let Ok(Ok((buf, payload))) = read else {
            return false;
        };
        crate::rate::spend(&[&t.up, &t.session.up], payload).await;
        if w.write_all(&buf).await.is_err() {
            return false;
        }
        stats.uploaded.fetch_add(payload, Ordering::Relaxed);
        t.totals.uploaded.fetch_add(payload, Ordering::Relaxed);
    }
    true
}

/// Splits blocks into groups of at most [`READ_BATCH`] bytes.
fn split(all: &[BlockRequest]) -> Vec<&[BlockRequest]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0usize;
    for (i, r) in all.iter().enumerate() {
        if bytes + r.length as usize > READ_BATCH && i > start {
            out.push(&all[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += r.length as usize;
    }
    if start < all.len() {
        out.push(&all[start..]);
    }
    out
}
