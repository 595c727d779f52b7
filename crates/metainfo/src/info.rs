//! The `info` dictionary: name, piece length, piece hashes, files; v1, v2 or both (BEP 3, 52).

use std::path::PathBuf;

use bencode::Value;

use crate::error::{MetainfoError, PathProblem, invalid, missing};
use crate::files::{self, FileAttr, FileEntry};
use crate::path::{FilePath, check_component};
use crate::read::DictReader;

/// Which hashing schemes a torrent carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// BEP 3: SHA-1 piece hashes.
    V1,
    /// BEP 52: per-file SHA-256 merkle trees only.
    V2,
    /// Both, describing the same piece-aligned data.
    Hybrid,
}

impl Version {
    /// True when the torrent has v1 piece hashes.
    pub fn has_v1(self) -> bool {
        matches!(self, Self::V1 | Self::Hybrid)
    }

    /// True when the torrent has v2 merkle roots.
    pub fn has_v2(self) -> bool {
        matches!(self, Self::V2 | Self::Hybrid)
    }
}

/// The parsed `info` dictionary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    /// Suggested name of the file (single-file) or folder (multi-file); `name.utf-8` wins.
    pub name: String,
    /// Bytes per piece.
    pub piece_length: u64,
    /// SHA-1 of each piece (empty for v2-only torrents).
    pub pieces: Vec<[u8; 20]>,
    /// BEP 27 private flag.
    pub private: bool,
    /// `source`, set by private trackers so that their info-hashes differ from other sites'.
    pub source: Option<String>,
    /// All files, padding files included, in the order of the torrent.
    pub files: Vec<FileEntry>,
    /// True when the torrent describes one file (saved as `name`) rather than a folder.
    pub single_file: bool,
    /// v1, v2 or hybrid.
    pub version: Version,
}

impl Info {
    /// Parses an `info` dictionary.
    pub fn from_value(value: &Value<'_>) -> Result<Self, MetainfoError> {
        let r = DictReader::new(value, "info")?;
        let name = name(&r)?;
        let piece_length = piece_length(&r)?;
        let private = match r.opt_int("private")? {
            None | Some(0) => false,
            Some(1) => true,
            Some(n) => return Err(invalid(r.key("private"), format!("{n}, expected 0 or 1"))),
        };
        let source = r.opt_text("source")?;
        let v1 = v1_part(&r, &name)?;
        let v2 = v2_part(&r)?;
        let (version, files, single_file, pieces) = match (v1, v2) {
            (None, None) => return Err(missing("info.pieces")),
            (Some((files, single, pieces)), None) => (Version::V1, files, single, pieces),
            (None, Some(v2)) => {
                let single = is_single_v2(&v2, &name);
                (Version::V2, align_v2(v2, piece_length)?, single, Vec::new())
            }
            (Some((v1, single, pieces)), Some(v2)) => (
                Version::Hybrid,
                merge_hybrid(v1, v2, piece_length)?,
                single,
                pieces,
            ),
        };
        let info = Self {
            name,
            piece_length,
            pieces,
            private,
            source,
            files,
            single_file,
            version,
        };
        info.check_piece_count()?;
        Ok(info)
    }

    /// Sum of the lengths of the real files (padding excluded).
    pub fn total_size(&self) -> u64 {
        self.files.iter().filter(|f| !f.is_pad()).map(|f| f.length).sum()
    }

    /// Length of the torrent's byte space: the end of the last file, padding included.
    pub fn byte_space_len(&self) -> u64 {
        self.files.iter().map(FileEntry::end).max().unwrap_or(0)
    }

    /// Number of pieces.
    pub fn num_pieces(&self) -> u64 {
        if self.version.has_v1() {
            self.pieces.len() as u64
        } else {
            self.files
                .iter()
                .map(|f| f.length.div_ceil(self.piece_length))
                .sum()
        }
    }

    /// Where a file goes under a download directory: `name` for a single file, else
    /// `name/<path>`. Paths were checked when parsing, so this never leaves the directory.
    pub fn relative_disk_path(&self, file: &FileEntry) -> PathBuf {
        if self.single_file {
            PathBuf::from(&self.name)
        } else {
            PathBuf::from(&self.name).join(file.path.to_path_buf())
        }
    }

    fn check_piece_count(&self) -> Result<(), MetainfoError> {
        if !self.version.has_v1() {
            return Ok(());
        }
        let expected = self.byte_space_len().div_ceil(self.piece_length);
        if self.pieces.len() as u64 != expected {
            let reason = format!(
                "{} hashes for {} bytes, expected {expected}",
                self.pieces.len(),
                self.byte_space_len()
            );
            return Err(invalid("info.pieces", reason));
        }
        Ok(())
    }
}

fn name(r: &DictReader<'_, '_>) -> Result<String, MetainfoError> {
    let key = if r.get("name.utf-8").is_some() {
        "name.utf-8"
    } else {
        "name"
    };
    let raw = r.req_bytes(key)?;
    let unsafe_name = |reason| MetainfoError::UnsafePath {
        key: r.key(key),
        path: String::from_utf8_lossy(raw).into_owned(),
        reason,
    };
    check_component(raw).map_err(unsafe_name)?;
    std::str::from_utf8(raw)
        .map(str::to_owned)
        .map_err(|_| unsafe_name(PathProblem::NotUtf8))
}

fn piece_length(r: &DictReader<'_, '_>) -> Result<u64, MetainfoError> {
    let n = r.req_int("piece length")?;
    match u64::try_from(n) {
        Ok(p) if p > 0 && p <= 1 << 30 => Ok(p),
        _ => Err(invalid(
            r.key("piece length"),
            format!("{n}, expected 1 byte to 1 GiB"),
        )),
    }
}

type V1Part = (Vec<FileEntry>, bool, Vec<[u8; 20]>);

fn v1_part(r: &DictReader<'_, '_>, name: &str) -> Result<Option<V1Part>, MetainfoError> {
    let Some(pieces) = r.opt_bytes("pieces")? else {
        return Ok(None);
    };
    if pieces.len() % 20 != 0 {
        return Err(invalid(
            r.key("pieces"),
            format!("{} bytes is not a multiple of 20", pieces.len()),
        ));
    }
    let hashes = pieces
        .chunks_exact(20)
        .map(|c| c.try_into().unwrap_or([0; 20]))
        .collect();
    let (files, single) = match (r.opt_int("length")?, r.opt_list("files")?) {
        (Some(_), Some(_)) => return Err(invalid("info", "has both length and files")),
        (None, None) => return Err(missing("info.length or info.files")),
        (Some(len), None) => {
            let length = u64::try_from(len).map_err(|_| invalid(r.key("length"), "negative"))?;
            let path = FilePath::new(vec![name.to_owned()]).map_err(|reason| MetainfoError::UnsafePath {
                key: "info.name".into(),
                path: name.to_owned(),
                reason,
            })?;
            let attr = FileAttr::default();
            (
                vec![FileEntry {
                    path,
                    length,
                    offset: 0,
                    attr,
                    symlink: None,
                    pieces_root: None,
                }],
                true,
            )
        }
        (None, Some(list)) => (files::v1_files(list)?, false),
    };
    Ok(Some((files, single, hashes)))
}

fn v2_part(r: &DictReader<'_, '_>) -> Result<Option<Vec<FileEntry>>, MetainfoError> {
    let tree = r.get("file tree");
    match (r.opt_int("meta version")?, tree) {
        (None, None) => Ok(None),
        (Some(2), Some(tree)) => {
            let pl = r.req_int("piece length")?;
            if pl < 16384 || pl.count_ones() != 1 {
                let reason = format!("{pl}; v2 needs a power of two of at least 16 KiB");
                return Err(invalid(r.key("piece length"), reason));
            }
            files::v2_files(tree).map(Some)
        }
        (Some(2), None) => Err(missing("info.file tree")),
        (Some(v), _) if v != 2 => Err(invalid(r.key("meta version"), format!("unsupported version {v}"))),
        _ => Err(missing("info.meta version")),
    }
}

/// A v2 torrent is single-file when its tree holds exactly one file named like the torrent.
fn is_single_v2(files: &[FileEntry], name: &str) -> bool {
    matches!(files, [f] if f.path.components() == [name])
}

/// v2 files each start on a piece boundary in the byte space.
fn align_v2(mut files: Vec<FileEntry>, piece_length: u64) -> Result<Vec<FileEntry>, MetainfoError> {
    let mut cursor = 0u64;
    for f in &mut files {
        if f.length > 0 {
            cursor = cursor.div_ceil(piece_length) * piece_length;
        }
        f.offset = cursor;
        cursor = cursor
            .checked_add(f.length)
            .ok_or_else(|| invalid("info.file tree", "total size overflows"))?;
    }
    Ok(files)
}

/// Checks that the v1 list (pads aside) and the v2 tree name the same files, piece-aligned,
/// and copies the merkle roots onto the v1 entries.
fn merge_hybrid(
    mut v1: Vec<FileEntry>,
    v2: Vec<FileEntry>,
    piece_length: u64,
) -> Result<Vec<FileEntry>, MetainfoError> {
    let mismatch = |m: String| MetainfoError::HybridMismatch(m);
    let mut v2_iter = v2.into_iter();
    for f in v1.iter_mut().filter(|f| !f.is_pad()) {
        let other = v2_iter
            .next()
            .ok_or_else(|| mismatch(format!("{} is missing from the file tree", f.path)))?;
        if other.path != f.path || other.length != f.length {
            let m = format!(
                "v1 has {} ({} bytes), v2 has {} ({} bytes)",
                f.path, f.length, other.path, other.length
            );
            return Err(mismatch(m));
        }
        if f.length > 0 && f.offset % piece_length != 0 {
            return Err(mismatch(format!("{} does not start on a piece boundary", f.path)));
        }
        f.pieces_root = other.pieces_root;
    }
    if let Some(extra) = v2_iter.next() {
        return Err(mismatch(format!(
            "{} is missing from the v1 file list",
            extra.path
        )));
    }
    Ok(v1)
}
