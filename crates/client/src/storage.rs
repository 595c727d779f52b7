//! Piece storage: the torrent's files under a download directory, read and written with
//! positional I/O (`pread`/`pwrite`, no mmap, so resident memory stays small), and the SHA-1
//! check of a piece, which callers run on a blocking thread.
//!
//! Paths come from [`metainfo::Info::relative_disk_path`], whose components were checked when
//! the torrent was parsed (no `..`, no absolute paths, no separators), so nothing is written
//! outside the directory.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use metainfo::Info;
use sha1::{Digest, Sha1};

use crate::error::ClientError;

/// Largest single write.
const WRITE_CHUNK: usize = 16 * 1024;

/// How files are created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Allocation {
    /// Files get their full length at once but occupy disk only where data was written.
    #[default]
    Sparse,
    /// Files are filled with zeros up front, so the disk cannot run out mid-download.
    Full,
}

/// The open files of one torrent.
#[derive(Debug)]
pub struct Storage {
    info: Arc<Info>,
    files: Vec<Option<File>>,
    paths: Vec<PathBuf>,
    piece_writer: Mutex<()>,
}

fn io_err(path: &Path, source: io::Error) -> ClientError {
    ClientError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Storage {
    /// Opens (creating when missing) every file of the torrent under `dir`.
    pub fn open(info: Arc<Info>, dir: &Path, allocation: Allocation) -> Result<Self, ClientError> {
        let mut files = Vec::with_capacity(info.files.len());
        let mut paths = Vec::with_capacity(info.files.len());
        for f in &info.files {
            let path = dir.join(info.relative_disk_path(f));
            if f.is_pad() || f.attr.symlink {
                files.push(None);
                paths.push(path);
                continue;
            }
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
            }
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| io_err(&path, e))?;
            let len = file.metadata().map_err(|e| io_err(&path, e))?.len();
            if len < f.length {
                if allocation == Allocation::Full {
                    fill_zeros(&file, len, f.length).map_err(|e| io_err(&path, e))?;
                }
                file.set_len(f.length).map_err(|e| io_err(&path, e))?;
            }
            files.push(Some(file));
            paths.push(path);
        }
        Ok(Self {
            info,
            files,
            paths,
            piece_writer: Mutex::new(()),
        })
    }

    /// The torrent's info dictionary.
    pub fn info(&self) -> &Info {
        &self.info
    }

    fn for_each_slice(
        &self,
        piece: u32,
        begin: u32,
        len: usize,
        mut f: impl FnMut(Option<&File>, u64, std::ops::Range<usize>) -> io::Result<()>,
    ) -> io::Result<()> {
        let start = u64::from(piece) * self.info.piece_length + u64::from(begin);
        let mut at = 0usize;
        for s in self.info.slices(start..start + len as u64) {
            let n = s.len as usize;
            f(self.files[s.file].as_ref(), s.offset, at..at + n)?;
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
        self.for_each_slice(piece, begin, data.len(), |file, offset, r| match file {
            Some(file) => {
                // In calls of at most WRITE_CHUNK: Linux gives a larger write larger page-cache
                // folios, and copying into those measured up to three times slower (with four
                // processes writing at once) than block-sized writes.
                let mut at = offset;
                for chunk in data[r].chunks(WRITE_CHUNK) {
                    file.write_all_at(chunk, at)?;
                    at += chunk.len() as u64;
                }
                Ok(())
            }
            None => Ok(()),
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
            Some(file) => file.read_exact_at(&mut buf[r], offset),
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

    /// Flushes written data to the disk (before a resume snapshot that vouches for it).
    pub fn sync(&self) -> io::Result<()> {
        for f in self.files.iter().flatten() {
            f.sync_data()?;
        }
        Ok(())
    }

    /// `(path, length on disk)` of each real file, for the resume check.
    pub fn file_sizes(&self) -> Vec<u64> {
        self.files
            .iter()
            .map(|f| f.as_ref().and_then(|f| f.metadata().ok()).map_or(0, |m| m.len()))
            .collect()
    }

    /// Where file `i` lives.
    pub fn path(&self, i: usize) -> Option<&Path> {
        self.paths.get(i).map(PathBuf::as_path)
    }
}

fn fill_zeros(file: &File, from: u64, to: u64) -> io::Result<()> {
    let zeros = vec![0u8; 1 << 20];
    let mut at = from;
    while at < to {
        let n = (to - at).min(zeros.len() as u64) as usize;
        file.write_all_at(&zeros[..n], at)?;
        at += n as u64;
    }
    Ok(())
}
