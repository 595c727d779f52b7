//! Checking data on disk against a torrent's hashes: SHA-1 pieces for v1 and hybrid torrents,
//! merkle piece layers and roots for v2-only ones. Pieces are checked in parallel (rayon).

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sha1::{Digest, Sha1};

use crate::merkle;
use crate::torrent::Torrent;

/// Why verification could not run (bad data is a result, not an error).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A file exists but could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// What verification found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Pieces checked.
    pub num_pieces: u64,
    /// Pieces whose data does not match, in order.
    pub bad_pieces: Vec<u64>,
    /// Indices (into `info.files`) of present files touched by a bad piece.
    pub bad_files: Vec<usize>,
    /// Indices of files that do not exist.
    pub missing_files: Vec<usize>,
    /// Indices of files whose size on disk differs from the torrent's.
    pub wrong_size_files: Vec<usize>,
}

impl VerifyReport {
    /// True when every piece matched and every file has its size.
    pub fn is_ok(&self) -> bool {
        self.bad_pieces.is_empty() && self.missing_files.is_empty() && self.wrong_size_files.is_empty()
    }
}

/// Roughly how many bytes one parallel task checks.
const TASK_BYTES: u64 = 8 << 20;

/// Checks the content under `dir` (the folder that holds the torrent's file or folder).
/// `progress` receives the number of bytes checked, from any thread.
pub fn verify(
    torrent: &Torrent,
    dir: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<VerifyReport, VerifyError> {
    let info = &torrent.info;
    let mut report = VerifyReport {
        num_pieces: info.num_pieces(),
        ..Default::default()
    };
    let mut handles = Vec::with_capacity(info.files.len());
    for (i, f) in info.files.iter().enumerate() {
        if f.is_pad() || f.attr.symlink {
            handles.push(None);
            continue;
        }
        let path = dir.join(info.relative_disk_path(f));
        match File::open(&path) {
            Ok(file) => {
                let len = file
                    .metadata()
                    .map_err(|source| VerifyError::Io {
                        path: path.clone(),
                        source,
                    })?
                    .len();
                if len != f.length {
                    report.wrong_size_files.push(i);
                }
                handles.push(Some((file, path)));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                report.missing_files.push(i);
                handles.push(None);
            }
            Err(source) => return Err(VerifyError::Io { path, source }),
        }
    }
    let per_task = (TASK_BYTES / info.piece_length).max(1);
    let tasks = report.num_pieces.div_ceil(per_task);
    let bad: Vec<Vec<u64>> = (0..tasks)
        .into_par_iter()
        .map(|t| {
            let pieces = t * per_task..((t + 1) * per_task).min(report.num_pieces);
            check_pieces(torrent, &handles, pieces, progress)
        })
        .collect::<Result<_, _>>()?;
    report.bad_pieces = bad.into_iter().flatten().collect();
    let mut touched: Vec<usize> = report
        .bad_pieces
        .iter()
        .flat_map(|&p| info.piece_slices(p))
        .map(|s| s.file)
        .filter(|&i| !info.files[i].is_pad() && handles[i].is_some())
        .collect();
    touched.sort_unstable();
    touched.dedup();
    report.bad_files = touched;
    Ok(report)
}

type Handles = [Option<(File, PathBuf)>];

fn check_pieces(
    torrent: &Torrent,
    handles: &Handles,
    pieces: std::ops::Range<u64>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<u64>, VerifyError> {
    let info = &torrent.info;
    let mut buf = vec![0u8; usize::try_from(info.piece_length).unwrap_or(usize::MAX)];
    let mut bad = Vec::new();
    for p in pieces {
        let Some(len) = info.piece_len(p) else { break };
        let data = &mut buf[..len as usize];
        let complete = read_piece(torrent, handles, p, data)?;
        if !complete || !piece_matches(torrent, p, data) {
            bad.push(p);
        }
        progress(len);
    }
    Ok(bad)
}

/// Fills `data` with piece `p`; returns false when a file is missing or too short.
fn read_piece(torrent: &Torrent, handles: &Handles, p: u64, data: &mut [u8]) -> Result<bool, VerifyError> {
    let info = &torrent.info;
    let mut at = 0usize;
    let mut complete = true;
    for s in info.piece_slices(p) {
        let out = &mut data[at..at + s.len as usize];
        at += s.len as usize;
        if info.files[s.file].is_pad() {
            out.fill(0);
            continue;
        }
        let Some((file, path)) = &handles[s.file] else {
            complete = false;
            continue;
        };
        let n = read_full_at(file, out, s.offset).map_err(|source| VerifyError::Io {
            path: path.clone(),
            source,
        })?;
        if n < out.len() {
            complete = false;
        }
    }
    Ok(complete)
}

fn read_full_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<usize> {
    let mut total = 0;
    while !buf.is_empty() {
        match file.read_at(buf, offset) {
            Ok(0) => break,
            Ok(n) => {
                total += n;
                offset += n as u64;
                buf = &mut buf[n..];
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(total)
}

fn piece_matches(torrent: &Torrent, p: u64, data: &[u8]) -> bool {
    let info = &torrent.info;
    if info.version.has_v1() {
        let digest: [u8; 20] = Sha1::digest(data).into();
        return info.pieces.get(p as usize) == Some(&digest);
    }
    let Some(start) = info.piece_range(p).map(|r| r.start) else {
        return false;
    };
    let Some(file) = info.file_at(start).map(|i| &info.files[i]) else {
        return false;
    };
    let Some(root) = file.pieces_root else {
        return false;
    };
    if file.length <= info.piece_length {
        return merkle::small_file_root(data) == root;
    }
    let index_in_file = ((start - file.offset) / info.piece_length) as usize;
    let expected = torrent
        .piece_layers
        .get(&root)
        .and_then(|layer| layer.get(index_in_file));
    expected == Some(&merkle::piece_hash_v2(data, info.piece_length))
}
