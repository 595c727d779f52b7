//! Parallel piece hashing: rayon tasks over runs of consecutive pieces, each reading its range
//! chunk by chunk into a reused buffer, so memory stays flat whatever the content size.
//!
//! One read feeds both hashes of a hybrid torrent: SHA-1 over the piece with its padding (v1)
//! and SHA-256 over the 16 KiB blocks of file data (v2).

use rayon::prelude::*;
use sha1::{Digest, Sha1};

use super::error::BuildError;
use super::layout::{Layout, OpenFile};
use crate::merkle::{self, BLOCK_LEN, Hash256};

/// Bytes read and hashed per call: a multiple of [`BLOCK_LEN`] small enough to stay in cache.
const CHUNK_LEN: usize = 1024 * 1024;

/// Bytes of content per rayon task (at least one piece): large enough to amortise the task,
/// small enough to balance the threads.
const TASK_LEN: u64 = 4 * 1024 * 1024;

/// The hashes of every piece, in order.
#[derive(Debug, Default)]
pub(crate) struct PieceHashes {
    /// SHA-1 of each piece (v1 and hybrid), padding included.
    pub(crate) v1: Vec<[u8; 20]>,
    /// v2 and hybrid: the piece-layer hash of each piece of a file larger than one piece, or
    /// the `pieces root` of a file that fits in one piece.
    pub(crate) v2: Vec<Hash256>,
}

/// The v2 hashes of one non-empty file.
#[derive(Debug)]
pub(crate) struct FileRoot<'h> {
    /// The file's `pieces root`.
    pub(crate) root: Hash256,
    /// Its piece layer; empty for a file that fits in one piece.
    pub(crate) layer: &'h [Hash256],
}

/// Hashes every piece of `layout` on the current rayon pool; `progress` gets the number of
/// file bytes hashed after each chunk.
pub(crate) fn hash_pieces(
    layout: &Layout<'_>,
    want_v1: bool,
    want_v2: bool,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<PieceHashes, BuildError> {
    let n = layout.num_pieces();
    let mut out = PieceHashes {
        v1: if want_v1 { vec![[0; 20]; n] } else { Vec::new() },
        v2: if want_v2 { vec![[0; 32]; n] } else { Vec::new() },
    };
    let per_task = usize::try_from((TASK_LEN / layout.piece_length()).max(1)).unwrap_or(1);
    let job = |state: &mut TaskState, task: usize, v1: &mut [[u8; 20]], v2: &mut [Hash256]| {
        state.run(layout, task * per_task, v1, v2, progress)
    };
    match (want_v1, want_v2) {
        (true, false) => out
            .v1
            .par_chunks_mut(per_task)
            .enumerate()
            .try_for_each_init(TaskState::new, |st, (task, v1)| job(st, task, v1, &mut [])),
        (false, true) => out
            .v2
            .par_chunks_mut(per_task)
            .enumerate()
            .try_for_each_init(TaskState::new, |st, (task, v2)| job(st, task, &mut [], v2)),
        _ => out
            .v1
            .par_chunks_mut(per_task)
            .zip(out.v2.par_chunks_mut(per_task))
            .enumerate()
            .try_for_each_init(TaskState::new, |st, (task, (v1, v2))| job(st, task, v1, v2)),
    }?;
    Ok(out)
}

/// The `pieces root` and piece layer of each file (`None` for empty files), from the v2 piece
/// hashes of an aligned layout.
pub(crate) fn file_roots<'h>(layout: &Layout<'_>, v2: &'h [Hash256]) -> Vec<Option<FileRoot<'h>>> {
    let piece_length = layout.piece_length();
    let files = layout.files();
    let mut out = Vec::with_capacity(files.len());
    for (index, file) in files.iter().enumerate() {
        let first = (layout.start(index) / piece_length) as usize;
        let count = file.length().div_ceil(piece_length) as usize;
        out.push(match v2.get(first..first + count) {
            Some(layer) if file.length() > piece_length => Some(FileRoot {
                root: merkle::root_from_piece_layer(layer, piece_length),
                layer,
            }),
            Some([root]) => Some(FileRoot {
                root: *root,
                layer: &[],
            }),
            _ => None,
        });
    }
    out
}

/// Per-thread scratch space, reused from task to task.
struct TaskState {
    buf: Vec<u8>,
    blocks: Vec<Hash256>,
    sha1: Sha1,
    open: OpenFile,
}

/// The piece being hashed and, for v2, the file that holds it (stream offsets).
struct Cursor {
    piece: usize,
    end: u64,
    /// End of the file data within the piece.
    data_end: u64,
    /// End of the whole file.
    file_end: u64,
    file_length: u64,
}

impl TaskState {
    fn new() -> Self {
        Self {
            buf: Vec::new(),
            blocks: Vec::new(),
            sha1: Sha1::new(),
            open: OpenFile::default(),
        }
    }

    /// Hashes the pieces from `first` on, as many as `v1` or `v2` holds.
    fn run(
        &mut self,
        layout: &Layout<'_>,
        first: usize,
        v1: &mut [[u8; 20]],
        v2: &mut [Hash256],
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(), BuildError> {
        let piece_length = layout.piece_length();
        let count = v1.len().max(v2.len());
        let end = ((first + count) as u64 * piece_length).min(layout.total());
        let mut pos = first as u64 * piece_length;
        let mut cursor = Cursor::at(layout, first, !v2.is_empty());
        while pos < end {
            // Without v1 hashes the padding after a file is never read: it could be most of
            // the layout when many small files have large pieces.
            let stop = if v1.is_empty() { cursor.file_end } else { end };
            let chunk_end = (pos + CHUNK_LEN as u64).min(end).min(stop).max(pos);
            let len = (chunk_end - pos) as usize;
            if self.buf.len() < len {
                self.buf.resize(len, 0);
            }
            let read = layout.read(pos, &mut self.buf[..len], &mut self.open)?;
            let chunk_start = pos;
            while pos < chunk_end {
                let take_end = cursor.end.min(chunk_end);
                let bytes = &self.buf[(pos - chunk_start) as usize..(take_end - chunk_start) as usize];
                if !v1.is_empty() {
                    self.sha1.update(bytes);
                }
                if !v2.is_empty() && pos < cursor.data_end {
                    let data = &bytes[..(take_end.min(cursor.data_end) - pos) as usize];
                    merkle::append_block_hashes(data, &mut self.blocks);
                }
                pos = take_end;
                if pos == cursor.end {
                    self.finish_piece(&cursor, first, piece_length, v1, v2);
                    cursor = Cursor::at(layout, cursor.piece + 1, !v2.is_empty());
                }
            }
            if v1.is_empty() && pos >= cursor.file_end && pos < cursor.end {
                // A v2-only file ended inside its last piece: skip the rest of the piece.
                self.finish_piece(&cursor, first, piece_length, v1, v2);
                pos = cursor.end;
                cursor = Cursor::at(layout, cursor.piece + 1, !v2.is_empty());
            }
            if read > 0 {
                progress(read);
            }
        }
        Ok(())
    }

    /// Stores the hashes of the piece under `cursor` and resets the hashers.
    fn finish_piece(
        &mut self,
        cursor: &Cursor,
        first: usize,
        piece_length: u64,
        v1: &mut [[u8; 20]],
        v2: &mut [Hash256],
    ) {
        let slot = cursor.piece - first;
        if let Some(out) = v1.get_mut(slot) {
            *out = self.sha1.finalize_reset().into();
        }
        if let Some(out) = v2.get_mut(slot) {
            let width = if cursor.file_length > piece_length {
                (piece_length / BLOCK_LEN as u64) as usize
            } else {
                self.blocks.len()
            };
            *out = merkle::merkle_root(&self.blocks, width);
            self.blocks.clear();
        }
    }
}

impl Cursor {
    /// The cursor at the start of `piece`; `v2` looks up the file that owns it.
    fn at(layout: &Layout<'_>, piece: usize, v2: bool) -> Self {
        let start = piece as u64 * layout.piece_length();
        let end = (start + layout.piece_length()).min(layout.total());
        if !v2 {
            return Self {
                piece,
                end,
                data_end: end,
                file_end: layout.total(),
                file_length: 0,
            };
        }
        let owner = layout.owner(start);
        let file_length = layout.files().get(owner).map_or(0, |f| f.length());
        let file_end = layout.start(owner) + file_length;
        Self {
            piece,
            end,
            data_end: file_end.min(end),
            file_end,
            file_length,
        }
    }
}
