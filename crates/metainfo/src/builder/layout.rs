//! Where each file sits in the byte stream that is cut into pieces, and reading any range of
//! that stream with positional reads.
//!
//! A v1 torrent concatenates its files. Hybrid and v2 torrents start every file on a piece
//! boundary: in hybrid torrents the gap is a BEP 47 padding file of zeros (none after the last
//! file), so each piece belongs to exactly one file.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use super::error::BuildError;
use super::scan::ContentFile;

/// File offsets within the piece stream.
#[derive(Debug)]
pub(crate) struct Layout<'c> {
    files: &'c [ContentFile],
    /// Stream offset of each file.
    starts: Vec<u64>,
    /// Zero bytes after each file (hybrid padding files).
    pads: Vec<u64>,
    piece_length: u64,
    /// Stream length, padding included.
    total: u64,
    num_pieces: usize,
}

impl<'c> Layout<'c> {
    /// Lays out `files`; `aligned` starts each file on a piece boundary.
    pub(crate) fn new(
        files: &'c [ContentFile],
        piece_length: u64,
        aligned: bool,
    ) -> Result<Self, BuildError> {
        let mut starts = Vec::with_capacity(files.len());
        let mut pads = Vec::with_capacity(files.len());
        let mut offset = 0u64;
        let mut overflow = false;
        for (i, file) in files.iter().enumerate() {
            starts.push(offset);
            let tail = file.length() % piece_length;
            let pad = if aligned && tail != 0 && i + 1 < files.len() {
                piece_length - tail
            } else {
                0
            };
            pads.push(pad);
            let next = offset.checked_add(file.length()).and_then(|o| o.checked_add(pad));
            overflow |= next.is_none();
            offset = next.unwrap_or(u64::MAX);
        }
        let num_pieces = offset.div_ceil(piece_length);
        // Piece indices travel as 32-bit integers on the wire; sizes as bencode (i64) integers.
        if overflow || num_pieces > 1 << 32 || i64::try_from(offset).is_err() {
            return Err(BuildError::TooLarge {
                size: offset,
                piece_length,
            });
        }
        let num_pieces = usize::try_from(num_pieces).map_err(|_| BuildError::TooLarge {
            size: offset,
            piece_length,
        })?;
        Ok(Self {
            files,
            starts,
            pads,
            piece_length,
            total: offset,
            num_pieces,
        })
    }

    /// The files, in stream order.
    pub(crate) fn files(&self) -> &'c [ContentFile] {
        self.files
    }

    /// Zero bytes after each file.
    pub(crate) fn pads(&self) -> &[u64] {
        &self.pads
    }

    /// The piece length.
    pub(crate) fn piece_length(&self) -> u64 {
        self.piece_length
    }

    /// Stream length, padding included.
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// Number of pieces.
    pub(crate) fn num_pieces(&self) -> usize {
        self.num_pieces
    }

    /// Stream offset of file `index`.
    pub(crate) fn start(&self, index: usize) -> u64 {
        self.starts[index]
    }

    /// The file that holds stream offset `offset` or, inside padding, the file before it.
    /// Empty files share their offset with the next file and are never returned for it.
    pub(crate) fn owner(&self, offset: u64) -> usize {
        self.starts
            .partition_point(|&start| start <= offset)
            .saturating_sub(1)
    }

    /// Fills `buf` with the stream bytes from `offset`, zeros for padding; returns how many bytes
    /// came from files. Reads past the end of the stream are zeros too.
    pub(crate) fn read(&self, offset: u64, buf: &mut [u8], open: &mut OpenFile) -> Result<u64, BuildError> {
        let end = offset + buf.len() as u64;
        let mut pos = offset;
        let mut read = 0;
        for index in self.owner(offset)..self.files.len() {
            let start = self.starts[index];
            if start >= end {
                break;
            }
            let file = &self.files[index];
            let file_end = start + file.length();
            if pos < start {
                buf[(pos - offset) as usize..(start - offset) as usize].fill(0);
                pos = start;
            }
            let seg_end = file_end.min(end);
            if pos < seg_end {
                let dst = &mut buf[(pos - offset) as usize..(seg_end - offset) as usize];
                read_file(open, index, file, pos - start, dst, seg_end == file_end)?;
                read += seg_end - pos;
                pos = seg_end;
            }
        }
        buf[(pos - offset) as usize..].fill(0);
        Ok(read)
    }
}

/// The file a hashing task has open, kept while the task reads consecutive chunks of it.
///
/// Files are opened by each task rather than all at once, so a torrent of many files never
/// runs into the open-file limit.
#[derive(Debug, Default)]
pub(crate) struct OpenFile {
    current: Option<(usize, File)>,
}

impl OpenFile {
    /// File `index`, opening it unless it is the current one.
    fn get(&mut self, index: usize, file: &ContentFile) -> Result<&File, BuildError> {
        let handle = match self.current.take() {
            Some((open, handle)) if open == index => handle,
            _ => File::open(file.disk_path()).map_err(|e| BuildError::io(file.disk_path(), e))?,
        };
        Ok(&self.current.insert((index, handle)).1)
    }
}

/// Reads `dst.len()` bytes of `file` from `at`; at the end of the file, checks that it has not
/// grown since the scan.
fn read_file(
    open: &mut OpenFile,
    index: usize,
    file: &ContentFile,
    at: u64,
    dst: &mut [u8],
    check_end: bool,
) -> Result<(), BuildError> {
    let changed = || BuildError::FileChanged {
        path: file.disk_path().to_path_buf(),
        expected: file.length(),
    };
    let handle = open.get(index, file)?;
    handle.read_exact_at(dst, at).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => changed(),
        _ => BuildError::io(file.disk_path(), e),
    })?;
    if check_end {
        let meta = handle
            .metadata()
            .map_err(|e| BuildError::io(file.disk_path(), e))?;
        if meta.len() != file.length() {
            return Err(changed());
        }
    }
    Ok(())
}
