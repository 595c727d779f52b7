//! Finding the files of a new torrent and choosing its piece length, before any hashing.

use std::fs;
use std::path::{Path, PathBuf};

use super::error::BuildError;

/// The smallest piece length: one BEP 52 block, 16 KiB.
pub const MIN_PIECE_LENGTH: u64 = 16 * 1024;

/// The largest piece length that is chosen automatically: 16 MiB.
pub const MAX_AUTO_PIECE_LENGTH: u64 = 16 * 1024 * 1024;

/// The automatic piece length keeps the number of pieces at or below this (until it reaches
/// [`MAX_AUTO_PIECE_LENGTH`]).
pub const TARGET_PIECE_COUNT: u64 = 1500;

/// One regular file that goes into the torrent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentFile {
    disk_path: PathBuf,
    path: Vec<String>,
    length: u64,
}

impl ContentFile {
    /// Where the file is read from.
    pub fn disk_path(&self) -> &Path {
        &self.disk_path
    }

    /// The file's path inside the torrent, one element per component, below the torrent's
    /// name; empty for a single-file torrent.
    pub fn path(&self) -> &[String] {
        &self.path
    }

    /// The size in bytes when it was scanned.
    pub fn length(&self) -> u64 {
        self.length
    }
}

/// The files found by [`TorrentBuilder::scan`](super::TorrentBuilder::scan), in torrent order
/// (paths compared component by component, as bytes), with the piece length to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedContent {
    root: PathBuf,
    name: String,
    single_file: bool,
    files: Vec<ContentFile>,
    total_size: u64,
    piece_length: u64,
}

impl ScannedContent {
    /// The file or directory that was scanned.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The torrent's `name`: the file or directory name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// True when the root is a single file (a `length` torrent, not a `files` one).
    pub fn is_single_file(&self) -> bool {
        self.single_file
    }

    /// Every file, in torrent order.
    pub fn files(&self) -> &[ContentFile] {
        &self.files
    }

    /// The sum of the file sizes: the number of bytes that hashing will read.
    pub fn total_size(&self) -> u64 {
        self.total_size
    }

    /// The piece length in bytes, given or chosen automatically.
    pub fn piece_length(&self) -> u64 {
        self.piece_length
    }
}

/// The smallest power of two of at least 16 KiB giving at most [`TARGET_PIECE_COUNT`] pieces
/// for `total_size` bytes, capped at [`MAX_AUTO_PIECE_LENGTH`].
pub fn auto_piece_length(total_size: u64) -> u64 {
    let mut length = MIN_PIECE_LENGTH;
    while length < MAX_AUTO_PIECE_LENGTH && total_size.div_ceil(length) > TARGET_PIECE_COUNT {
        length *= 2;
    }
    length
}

/// Checks a piece length given by the caller: a power of two of at least 16 KiB (and, to be
/// written at all, one that fits in a bencode integer).
pub(crate) fn check_piece_length(length: u64) -> Result<u64, BuildError> {
    if length >= MIN_PIECE_LENGTH && length.is_power_of_two() && i64::try_from(length).is_ok() {
        Ok(length)
    } else {
        Err(BuildError::BadPieceLength { got: length })
    }
}

/// Scans `root` (a file or a directory) and settles the piece length.
pub(crate) fn scan(root: &Path, piece_length: Option<u64>) -> Result<ScannedContent, BuildError> {
    let piece_length = piece_length.map(check_piece_length).transpose()?;
    let meta = fs::metadata(root).map_err(|e| BuildError::io(root, e))?;
    let name = torrent_name(root)?;
    let single_file = meta.is_file();
    let mut files = Vec::new();
    if single_file {
        files.push(ContentFile {
            disk_path: root.to_path_buf(),
            path: Vec::new(),
            length: meta.len(),
        });
    } else if meta.is_dir() {
        walk(root, &mut Vec::new(), &mut files)?;
        files.sort_by(|a, b| a.path.cmp(&b.path));
    }
    if files.is_empty() {
        return Err(BuildError::NoFiles {
            path: root.to_path_buf(),
        });
    }
    let total_size = files
        .iter()
        .try_fold(0u64, |sum, f| sum.checked_add(f.length))
        .filter(|&total| i64::try_from(total).is_ok())
        .ok_or(BuildError::TooLarge {
            size: u64::MAX,
            piece_length: piece_length.unwrap_or(0),
        })?;
    if total_size == 0 {
        return Err(BuildError::EmptyContent {
            path: root.to_path_buf(),
        });
    }
    Ok(ScannedContent {
        root: root.to_path_buf(),
        name,
        single_file,
        files,
        total_size,
        piece_length: piece_length.unwrap_or_else(|| auto_piece_length(total_size)),
    })
}

/// The last component of `root`, resolving `.` and the like through the real path.
fn torrent_name(root: &Path) -> Result<String, BuildError> {
    let resolved;
    let file_name = match root.file_name() {
        Some(name) => name,
        None => {
            resolved = fs::canonicalize(root).map_err(|e| BuildError::io(root, e))?;
            resolved.file_name().ok_or_else(|| BuildError::NoName {
                path: root.to_path_buf(),
            })?
        }
    };
    match file_name.to_str() {
        Some(name) => Ok(name.to_owned()),
        None => Err(BuildError::NonUtf8Path {
            path: root.to_path_buf(),
        }),
    }
}

/// Collects the regular files under `dir` (following symlinks to files, skipping symlinks to
/// directories, which could loop, and every other kind of entry).
fn walk(dir: &Path, prefix: &mut Vec<String>, out: &mut Vec<ContentFile>) -> Result<(), BuildError> {
    for entry in fs::read_dir(dir).map_err(|e| BuildError::io(dir, e))? {
        let entry = entry.map_err(|e| BuildError::io(dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| BuildError::io(&path, e))?;
        let length = if kind.is_dir() {
            None
        } else if kind.is_file() {
            Some(entry.metadata().map_err(|e| BuildError::io(&path, e))?.len())
        } else if kind.is_symlink() {
            match fs::metadata(&path) {
                Ok(target) if target.is_file() => Some(target.len()),
                // Dangling links and links to directories or devices are left out.
                _ => continue,
            }
        } else {
            continue;
        };
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            return Err(BuildError::NonUtf8Path { path });
        };
        prefix.push(name);
        match length {
            Some(length) => out.push(ContentFile {
                disk_path: path,
                path: prefix.clone(),
                length,
            }),
            None => walk(&path, prefix, out)?,
        }
        prefix.pop();
    }
    Ok(())
}
