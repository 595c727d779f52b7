//! Disk write errors (a full disk, above all). Throwing away a piece that could not be
//! written and fetching it again only loops while the disk stays full, so instead the torrent
//! pauses: its peers are disconnected and no new ones admitted (nothing more is requested),
//! the data that could not be written is held in memory, and a retry task writes it again
//! with exponential backoff. When the held data is on disk the torrent resumes; what was
//! written before the error is kept throughout.

use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use wire::BlockRequest;

use super::{Checked, Event, PeerCmd, PieceBuf, TorrentShared};
use crate::config::Timing;
use crate::picker::PeerKey;
use crate::snapshot::DiskStatus;

/// Data whose write failed, kept until a retry writes it.
#[derive(Debug)]
pub(crate) enum Held {
    /// A piece assembled in memory and verified.
    Piece(u32, PieceBuf),
    /// A block of a piece assembled on disk, as `from` sent it.
    Block {
        request: BlockRequest,
        data: Vec<u8>,
        from: PeerKey,
    },
}

impl Held {
    fn len(&self) -> u64 {
        match self {
            Held::Piece(_, b) => b.bytes().len() as u64,
            Held::Block { data, .. } => data.len() as u64,
        }
    }
}

/// A torrent's disk-error state, part of its [`State`](super::State).
#[derive(Debug, Default)]
pub(crate) struct DiskState {
    /// The error that paused the torrent; `None` while it runs.
    fault: Option<String>,
    held: Vec<Held>,
    /// Bytes a retry took out of `held` and is writing now: still held, as far as anyone
    /// looking is concerned (a snapshot during a retry saw nothing held).
    retrying: u64,
    /// Failed retries since the pause (the backoff exponent).
    failed_retries: u32,
    write_errors: u64,
    retries: u64,
}

impl DiskState {
    /// True while a disk error keeps the torrent from downloading: no peer may connect.
    pub fn paused(&self) -> bool {
        self.fault.is_some()
    }

    /// What snapshots show.
    pub fn status(&self) -> DiskStatus {
        DiskStatus {
            paused: self.paused(),
            error: self.fault.clone(),
            write_errors: self.write_errors,
            retries: self.retries,
            held_bytes: self.held.iter().map(Held::len).sum::<u64>() + self.retrying,
        }
    }
}

/// The wait before retry number `failed + 1`: the minimum, doubled per failed retry, at most
/// the maximum.
pub(crate) fn backoff(timing: &Timing, failed: u32) -> Duration {
    timing
        .disk_retry_min
        .saturating_mul(1 << failed.min(20))
        .min(timing.disk_retry_max.max(timing.disk_retry_min))
}

/// How a retry ended.
enum Retry {
    /// Everything held is on disk.
    Done,
    /// A write failed again.
    Failed(io::Error),
}

impl TorrentShared {
    /// A write failed: holds its data and pauses the torrent (once), starting the retries.
    pub(crate) fn write_failed(self: &Arc<Self>, held: Held, e: &io::Error) {
        if let Held::Block { data, .. } = &held {
            // Received and kept, as any block that reaches its buffer or the disk.
            self.totals
                .downloaded
                .fetch_add(data.len() as u64, Ordering::Relaxed);
        }
        let mut s = self.lock();
        s.disk.write_errors += 1;
        s.disk.held.push(held);
        if s.disk.fault.is_some() {
            return;
        }
        let why = format!("paused: disk write failed ({e}); retrying");
        tracing::error!(name = %self.meta.info.name, error = %e, "disk write failed: torrent paused");
        s.disk.fault = Some(why.clone());
        s.disk.failed_retries = 0;
        s.error = Some(why);
        for p in s.peers.values() {
            let _ = p.cmd.send(PeerCmd::Close);
        }
        drop(s);
        self.runtime.spawn(tracing::Instrument::instrument(
            retry_loop(self.clone()),
            self.span.clone(),
        ));
    }
}

/// Retries the held writes with backoff until they succeed or the torrent stops.
async fn retry_loop(t: Arc<TorrentShared>) {
    loop {
        let failed = t.lock().disk.failed_retries;
        tokio::select! {
            _ = tokio::time::sleep(backoff(&t.session.config.timing, failed)) => {}
            // The torrent stopped: what is held goes with it (those pieces were never had).
            _ = t.events.closed() => return,
        }
        let t2 = t.clone();
        let Ok(outcome) = tokio::task::spawn_blocking(move || write_held(&t2)).await else {
            return;
        };
        let mut s = t.lock();
        s.disk.retries += 1;
        match outcome {
            Retry::Failed(e) => {
                s.disk.failed_retries += 1;
                let why = format!("paused: disk write failed ({e}); retrying");
                s.disk.fault = Some(why.clone());
                s.error = Some(why);
            }
            // Writes that failed during the retry were held meanwhile: go again.
            Retry::Done if !s.disk.held.is_empty() => {}
            Retry::Done => {
                tracing::info!(name = %t.meta.info.name, "disk writes succeed again: torrent resumed");
                if s.error == s.disk.fault {
                    s.error = None;
                }
                s.disk.fault = None;
                return;
            }
        }
    }
}

/// Writes the held data in order (blocking). Each write that succeeds is finished at once
/// (journalled and reported, or recorded in the picker); the first failure puts it and the
/// rest back.
fn write_held(t: &Arc<TorrentShared>) -> Retry {
    let mut held = {
        let mut s = t.lock();
        let taken = std::mem::take(&mut s.disk.held);
        s.disk.retrying = taken.iter().map(Held::len).sum();
        taken.into_iter()
    };
    while let Some(h) = held.next() {
        let written = match &h {
            Held::Piece(piece, buf) => t.storage.write_piece(*piece, buf.bytes()),
            Held::Block { request, data, .. } => t.storage.write(request.index, request.begin, data),
        };
        if let Err(e) = written {
            let mut s = t.lock();
            s.disk.held.push(h);
            s.disk.held.extend(held);
            s.disk.retrying = 0;
            return Retry::Failed(e);
        }
        match h {
            Held::Piece(piece, buffer) => {
                if let Err(e) = t.resume.append(piece) {
                    t.lock().error = Some(format!("resume journal: {e}"));
                }
                t.event(Event::PieceChecked {
                    piece,
                    outcome: Checked::Good,
                    buffer: Some(buffer),
                });
            }
            Held::Block { request, from, .. } => {
                let complete = {
                    let mut s = t.lock();
                    s.picker
                        .block_written(&request, from)
                        .then(|| s.assembly.take(request.index))
                };
                if let Some(buffer) = complete {
                    t.check_piece(request.index, buffer);
                }
            }
        }
    }
    t.lock().disk.retrying = 0;
    Retry::Done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retry_wait_doubles_up_to_the_maximum() {
        let timing = Timing {
            disk_retry_min: Duration::from_secs(10),
            disk_retry_max: Duration::from_secs(60),
            ..Timing::default()
        };
        let waits: Vec<u64> = (0..5).map(|n| backoff(&timing, n).as_secs()).collect();
        assert_eq!(waits, [10, 20, 40, 60, 60]);
        assert_eq!(backoff(&timing, u32::MAX).as_secs(), 60);
    }
}
