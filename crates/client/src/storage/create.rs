//! Creating a torrent's files, and the one name a torrent may not have.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use metainfo::Info;

use super::Allocation;
use crate::error::ClientError;
use crate::resume::STATE_DIR;

fn io_err(path: &Path, source: io::Error) -> ClientError {
    ClientError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Refuses a torrent whose files would land in the state folder: every disk path starts with
/// the torrent's name, so a torrent named `.nexsuj` could write another torrent's resume file
/// (and declare it complete). Compared without case, for case-insensitive file systems.
pub(super) fn check_name(info: &Info) -> Result<(), ClientError> {
    if info.name.eq_ignore_ascii_case(STATE_DIR) {
        return Err(ClientError::ReservedName(info.name.clone()));
    }
    Ok(())
}

/// Creates the file at `path` (and its folders) when missing, and extends it to `length`
/// when short. Returns whether it already held data.
pub(super) fn create(path: &Path, length: u64, allocation: Allocation) -> Result<bool, ClientError> {
    // A stat first: a complete file is not opened at all, so adding a seeded torrent of
    // thousands of files costs no descriptors.
    let before = match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => {
            let e = io::Error::new(io::ErrorKind::InvalidInput, "not a regular file");
            return Err(io_err(path, e));
        }
        Ok(m) if m.len() >= length => return Ok(m.len() > 0),
        Ok(m) => m.len(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
        Err(e) => return Err(io_err(path, e)),
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| io_err(path, e))?;
    if allocation == Allocation::Full {
        fill_zeros(&file, before, length).map_err(|e| io_err(path, e))?;
    }
    file.set_len(length).map_err(|e| io_err(path, e))?;
    Ok(before > 0)
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
