//! Piece storage: the torrent's files under a download directory, read and written with
//! positional I/O (`pread`/`pwrite`, no mmap, so resident memory stays small), and the SHA-1
//! check of a piece, which callers run on a blocking thread.
//!
//! Paths come from [`metainfo::Info::relative_disk_path`], whose components were checked when
//! the torrent was parsed (no `..`, no absolute paths, no separators), so nothing is written
//! outside the directory; a torrent named like the state folder is refused, so nothing is
//! written into the engine's own state either. Handles come from a session-wide
//! [`FilePool`], so a torrent holds no descriptor per file.

mod create;
mod fault;
mod pool;
mod replace;

use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use metainfo::Info;
use sha1::{Digest, Sha1};

use crate::error::ClientError;
use crate::resume::FileStamp;

pub use fault::DiskFaults;
pub use pool::{FilePool, FilePoolStats};
pub use replace::replace_file;

/// Largest single write.
const WRITE_CHUNK: usize = 16 * 1024;
/// Most threads flushing files at once.
const SYNC_THREADS: usize = 8;

/// How files are created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Allocation {
    /// Files get their full length at once but occupy disk only where data was written.
    #[default]
    Sparse,
    /// Files are filled with zeros up front, so the disk cannot run out mid-download.
    Full,
}

/// The files of one torrent.
#[derive(Debug)]
pub struct Storage {
    info: Arc<Info>,
    paths: Vec<PathBuf>,
    /// Which files hold data (not padding, not symlinks).
    real: Vec<bool>,
    /// Files written since the last [`Storage::sync`]: their handles may have been closed
    /// since, and closing does not flush.
    dirty: Vec<AtomicBool>,
    pool: Arc<FilePool>,
    /// This storage's id in the pool.
    owner: u64,
    faults: Option<DiskFaults>,
    found_data: bool,
    piece_writer: Mutex<()>,
    sync_lock: Mutex<()>,
}

/// Adds the path to an I/O error's message, keeping its kind.
fn at_path(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

impl Storage {
    /// Creates the torrent's files under `dir` where missing or short (without keeping them
    /// open: handles come from `pool` when data moves).
    pub fn open(
        info: Arc<Info>,
        dir: &Path,
        allocation: Allocation,
        pool: Arc<FilePool>,
    ) -> Result<Self, ClientError> {
        create::check_name(&info)?;
        let mut paths = Vec::with_capacity(info.files.len());
        let mut real = Vec::with_capacity(info.files.len());
        let mut found_data = false;
        for f in &info.files {
            let path = dir.join(info.relative_disk_path(f));
            let has_data = !f.is_pad() && !f.attr.symlink;
            if has_data {
                found_data |= create::create(&path, f.length, allocation)?;
            }
            paths.push(path);
            real.push(has_data);
        }
        Ok(Self {
            dirty: real.iter().map(|_| AtomicBool::new(false)).collect(),
            owner: pool.register(),
            info,
            paths,
            real,
            pool,
            faults: None,
            found_data,
            piece_writer: Mutex::new(()),
            sync_lock: Mutex::new(()),
        })
    }

    /// Writes go through `faults` (a seam for tests and drills of disk-full handling).
    pub fn with_faults(mut self, faults: Option<DiskFaults>) -> Self {
        self.faults = faults;
        self
    }

    /// The torrent's info dictionary.
    pub fn info(&self) -> &Info {
        &self.info
    }

    /// True when some file already held data before [`Storage::open`] (so a hash check may
    /// find pieces).
    pub fn found_data(&self) -> bool {
        self.found_data
    }

    /// Calls `f(file, offset in file, range of the buffer)` for each file slice of a block;
    /// `file` is `None` for padding. One handle is held at a time.
    fn for_each_slice(
        &self,
        piece: u32,
        begin: u32,
        len: usize,
        mut f: impl FnMut(Option<(usize, &std::fs::File)>, u64, std::ops::Range<usize>) -> io::Result<()>,
    ) -> io::Result<()> {
        let start = u64::from(piece) * self.info.piece_length + u64::from(begin);
        let mut at = 0usize;
        for s in self.info.slices(start..start + len as u64) {
            let n = s.len as usize;
            if self.real[s.file] {
                let path = &self.paths[s.file];
                let file = self.pool.get((self.owner, s.file), path)?;
                f(Some((s.file, &file)), s.offset, at..at + n).map_err(|e| at_path(path, e))?;
            } else {
                f(None, s.offset, at..at + n)?;
            }
            at += n;
        }
        if at != len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "block outside the torrent",
            ));
        }
        Ok(())
    }

    /// Writes a block (padding files are skipped).
    pub fn write(&self, piece: u32, begin: u32, data: &[u8]) -> io::Result<()> {
        self.for_each_slice(piece, begin, data.len(), |file, offset, r| {
            let Some((i, file)) = file else { return Ok(()) };
            if let Some(faults) = &self.faults {
                faults.charge(r.len() as u64)?;
            }
            // In calls of at most WRITE_CHUNK: Linux gives a larger write larger page-cache
            // folios, and copying into those measured up to three times slower (with four
            // processes writing at once) than block-sized writes.
            let mut at = offset;
            for chunk in data[r].chunks(WRITE_CHUNK) {
                file.write_all_at(chunk, at)?;
                at += chunk.len() as u64;
            }
            // Marked after the write, so a sync that clears the mark comes after the data.
            self.dirty[i].store(true, Ordering::Release);
            Ok(())
        })
    }

    /// Writes a whole piece, one piece at a time: concurrent writers to one file only queue
    /// on the kernel's inode lock, spinning while they wait.
    pub fn write_piece(&self, piece: u32, data: &[u8]) -> io::Result<()> {
        let _one = self.piece_writer.lock().unwrap_or_else(|p| p.into_inner());
        self.write(piece, 0, data)
    }

    /// Reads a block (padding files read as zeros).
    pub fn read(&self, piece: u32, begin: u32, buf: &mut [u8]) -> io::Result<()> {
        let len = buf.len();
        self.for_each_slice(piece, begin, len, |file, offset, r| match file {
            Some((_, file)) => file.read_exact_at(&mut buf[r], offset),
            None => {
                buf[r].fill(0);
                Ok(())
            }
        })
    }

    /// True when `data` is piece `piece`, by its SHA-1.
    pub fn piece_matches(&self, piece: u32, data: &[u8]) -> bool {
        let expected = self.info.pieces.get(piece as usize);
        let len = self.info.piece_len(u64::from(piece));
        match (expected, len) {
            (Some(expected), Some(len)) if len == data.len() as u64 => {
                Sha1::digest(data).as_slice() == expected
            }
            _ => false,
        }
    }

    /// Reads piece `piece` back and checks its SHA-1. Blocking: call from a blocking thread.
    pub fn check_piece(&self, piece: u32) -> io::Result<bool> {
        let Some(expected) = self.info.pieces.get(piece as usize) else {
            return Ok(false);
        };
        let Some(len) = self.info.piece_len(u64::from(piece)) else {
            return Ok(false);
        };
        let mut hasher = Sha1::new();
        let mut buf = vec![0u8; (256 * 1024).min(len as usize)];
        let mut done = 0u64;
        while done < len {
            let n = (len - done).min(buf.len() as u64) as usize;
            self.read(piece, done as u32, &mut buf[..n])?;
            hasher.update(&buf[..n]);
            done += n as u64;
        }
        Ok(hasher.finalize().as_slice() == expected)
    }

    /// Flushes written data to the disk (before a resume snapshot that vouches for it). Only
    /// files written since the last sync are touched; `fsync` flushes a file's data whichever
    /// descriptor wrote it, so a handle closed in between loses nothing.
    pub fn sync(&self) -> io::Result<()> {
        // One sync at a time: a second one must not return (and a snapshot vouch for data)
        // while the first still flushes files whose marks it already cleared.
        let _one = self.sync_lock.lock().unwrap_or_else(|p| p.into_inner());
        let dirty: Vec<usize> = (0..self.dirty.len())
            .filter(|&i| self.dirty[i].swap(false, Ordering::AcqRel))
            .collect();
        let next = AtomicUsize::new(0);
        let failed = Mutex::new(None);
        let work = || {
            while let Some(&i) = dirty.get(next.fetch_add(1, Ordering::Relaxed)) {
                if let Err(e) = self.sync_file(i) {
                    self.dirty[i].store(true, Ordering::Release);
                    failed.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
                }
            }
        };
        // Several at once: fsyncs issued together share the file system's journal commits
        // (thousands of small files sync about ten times faster with eight threads).
        std::thread::scope(|scope| {
            for _ in 1..dirty.len().min(SYNC_THREADS) {
                scope.spawn(work);
            }
            work();
        });
        match failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn sync_file(&self, i: usize) -> io::Result<()> {
        let path = &self.paths[i];
        let file = self.pool.get((self.owner, i), path)?;
        file.sync_data().map_err(|e| at_path(path, e))
    }

    /// Size and modification time of each file (zeros for padding, symlinks and missing
    /// files), which the resume snapshot records.
    pub fn file_stamps(&self) -> Vec<FileStamp> {
        self.paths
            .iter()
            .zip(&self.real)
            .map(|(path, &real)| match real {
                true => std::fs::metadata(path)
                    .map(|m| FileStamp::of(&m))
                    .unwrap_or_default(),
                false => FileStamp::default(),
            })
            .collect()
    }

    /// Where file `i` lives.
    pub fn path(&self, i: usize) -> Option<&Path> {
        self.paths.get(i).map(PathBuf::as_path)
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        self.pool.forget(self.owner);
    }
}
