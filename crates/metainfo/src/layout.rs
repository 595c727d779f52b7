//! Mapping between pieces and file ranges. In v1 and hybrid torrents the files (padding
//! included) sit back to back; in v2-only torrents each file starts on a piece boundary and
//! its last piece is short.

use std::ops::Range;

use crate::info::Info;

/// A run of bytes of one file that belongs to a piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileSlice {
    /// Index into [`Info::files`].
    pub file: usize,
    /// Offset inside that file.
    pub offset: u64,
    /// Number of bytes.
    pub len: u64,
}

impl Info {
    /// The bytes of piece `index` in the torrent's byte space, or `None` past the last piece.
    pub fn piece_range(&self, index: u64) -> Option<Range<u64>> {
        if index >= self.num_pieces() {
            return None;
        }
        let start = index * self.piece_length;
        let limit = if self.version.has_v1() {
            self.byte_space_len()
        } else {
            // v2: a piece never spans files; it ends with its file.
            self.files[self.file_at(start)?].end()
        };
        Some(start..(start + self.piece_length).min(limit))
    }

    /// Length of piece `index` in bytes (the last piece of a file or torrent may be short).
    pub fn piece_len(&self, index: u64) -> Option<u64> {
        self.piece_range(index).map(|r| r.end - r.start)
    }

    /// The index of the non-empty file holding byte `offset` of the byte space.
    pub fn file_at(&self, offset: u64) -> Option<usize> {
        let i = self.files.partition_point(|f| f.end() <= offset);
        (i < self.files.len() && self.files[i].offset <= offset).then_some(i)
    }

    /// The file slices that make up piece `index`, in order (padding files included).
    pub fn piece_slices(&self, index: u64) -> Vec<FileSlice> {
        let Some(range) = self.piece_range(index) else {
            return Vec::new();
        };
        self.slices(range)
    }

    /// The file slices covering `range` of the byte space, in order.
    pub fn slices(&self, range: Range<u64>) -> Vec<FileSlice> {
        let mut out = Vec::new();
        let Some(mut i) = self.file_at(range.start) else {
            return out;
        };
        let mut pos = range.start;
        while pos < range.end && i < self.files.len() {
            let f = &self.files[i];
            if f.length > 0 && f.offset <= pos && pos < f.end() {
                let len = f.end().min(range.end) - pos;
                out.push(FileSlice {
                    file: i,
                    offset: pos - f.offset,
                    len,
                });
                pos += len;
            }
            i += 1;
            if let Some(next) = self.files.get(i) {
                pos = pos.max(next.offset.min(range.end));
            }
        }
        out
    }

    /// The pieces that hold any byte of file `index` (empty for empty files).
    pub fn file_pieces(&self, index: usize) -> Range<u64> {
        let Some(f) = self.files.get(index) else {
            return 0..0;
        };
        if f.length == 0 {
            return 0..0;
        }
        f.offset / self.piece_length..f.end().div_ceil(self.piece_length)
    }
}

#[cfg(test)]
mod tests {
    use crate::files::{FileAttr, FileEntry};
    use crate::info::{Info, Version};
    use crate::path::FilePath;

    fn file(name: &str, offset: u64, length: u64, pad: bool) -> FileEntry {
        let path = FilePath::new(vec![name.into()]).unwrap();
        let attr = FileAttr {
            pad,
            ..FileAttr::default()
        };
        FileEntry {
            path,
            length,
            offset,
            attr,
            symlink: None,
            pieces_root: None,
        }
    }

    fn info(files: Vec<FileEntry>, version: Version, pieces: usize) -> Info {
        Info {
            name: "t".into(),
            piece_length: 16,
            pieces: vec![[0; 20]; pieces],
            private: false,
            source: None,
            files,
            single_file: false,
            version,
        }
    }

    #[test]
    fn v1_pieces_span_files() {
        // a: 0..10, empty: 10..10, b: 10..40 → pieces 0..16, 16..32, 32..40
        let i = info(
            vec![
                file("a", 0, 10, false),
                file("e", 10, 0, false),
                file("b", 10, 30, false),
            ],
            Version::V1,
            3,
        );
        assert_eq!(i.num_pieces(), 3);
        assert_eq!(i.piece_range(2), Some(32..40));
        assert_eq!(i.piece_range(3), None);
        let s = i.piece_slices(0);
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].file, s[0].offset, s[0].len), (0, 0, 10));
        assert_eq!((s[1].file, s[1].offset, s[1].len), (2, 0, 6));
        assert_eq!(i.file_pieces(0), 0..1);
        assert_eq!(i.file_pieces(1), 0..0);
        assert_eq!(i.file_pieces(2), 0..3);
        assert_eq!(i.file_at(10), Some(2));
    }

    #[test]
    fn v2_pieces_end_with_their_file() {
        // a: 0..20 (pieces 0, 1), b: 32..37 (piece 2)
        let i = info(
            vec![file("a", 0, 20, false), file("b", 32, 5, false)],
            Version::V2,
            0,
        );
        assert_eq!(i.num_pieces(), 3);
        assert_eq!(i.piece_range(1), Some(16..20));
        assert_eq!(i.piece_range(2), Some(32..37));
        assert_eq!(
            i.piece_slices(2),
            vec![super::FileSlice {
                file: 1,
                offset: 0,
                len: 5
            }]
        );
        assert_eq!(i.file_at(25), None);
    }

    #[test]
    fn hybrid_pads_are_slices_too() {
        let i = info(
            vec![
                file("a", 0, 20, false),
                file(".pad", 20, 12, true),
                file("b", 32, 5, false),
            ],
            Version::Hybrid,
            3,
        );
        let s = i.piece_slices(1);
        assert_eq!(
            s.iter().map(|s| (s.file, s.len)).collect::<Vec<_>>(),
            vec![(0, 4), (1, 12)]
        );
        assert_eq!(i.total_size(), 25);
    }
}
