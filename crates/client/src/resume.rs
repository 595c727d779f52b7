//! Resume state: which pieces are verified, kept so that a restart fetches nothing twice and
//! trusts nothing unverified.
//!
//! - A snapshot (`<dir>/.nexsuj/<info-hash>.resume`, bencoded) is written atomically: data
//!   files are fsynced first, then the snapshot goes to a temp file, is fsynced and renamed
//!   over the old one, and the directory is fsynced. Whatever it lists is on disk.
//! - Between snapshots each verified piece is appended to a journal (`.journal`, 4 bytes per
//!   piece). The journal is not fsynced, so after a crash its pieces are hash-checked again
//!   before they count; after `kill -9` the page cache still holds their data and they pass.
//! - A snapshot names its torrent (info-hash and piece count) and records each file's size
//!   and modification time. Pieces of a file that changed since (another program wrote it,
//!   or the snapshot is forged and never saw it) are hash-checked instead of trusted, and a
//!   snapshot of the first format, which recorded sizes only, vouches for nothing.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use bencode::{Value, write_bytes, write_int};
use metainfo::Info;
use wire::Bitfield;

/// The folder under a download directory that holds the engine's state. No torrent may be
/// named like it (see [`crate::storage`]).
pub const STATE_DIR: &str = ".nexsuj";

/// The snapshot format written now.
const FORMAT: i64 = 2;

/// What a file looked like when a snapshot was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileStamp {
    /// Length in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch (0 when unknown).
    pub mtime_ns: i64,
}

impl FileStamp {
    /// The stamp of a file's metadata.
    pub fn of(m: &Metadata) -> Self {
        let mtime_ns = match m.modified().map(|t| t.duration_since(UNIX_EPOCH)) {
            Ok(Ok(d)) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
            Ok(Err(before)) => -i64::try_from(before.duration().as_nanos()).unwrap_or(i64::MAX),
            Err(_) => 0,
        };
        Self {
            size: m.len(),
            mtime_ns,
        }
    }
}

/// What a previous run left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumed {
    /// Pieces the snapshot vouches for.
    pub trusted: Bitfield,
    /// Pieces to hash-check again before they count: the journal's (verified once, maybe
    /// not on disk), and the snapshot's pieces of files that changed since it was written.
    pub to_check: Vec<u32>,
}

/// The resume files of one torrent.
#[derive(Debug)]
pub struct ResumeStore {
    snapshot: PathBuf,
    journal_path: PathBuf,
    journal: Mutex<Option<File>>,
    info_hash: ids::InfoHash,
}

fn decode_stamps(v: &Value<'_>) -> Option<Vec<FileStamp>> {
    v.as_list()?
        .iter()
        .map(|f| match f.as_list()? {
            [size, mtime] => Some(FileStamp {
                size: u64::try_from(size.as_int()?).ok()?,
                mtime_ns: mtime.as_int()?,
            }),
            _ => None,
        })
        .collect()
}

impl ResumeStore {
    /// The store for a torrent downloading into `dir`.
    pub fn new(dir: &Path, info_hash: ids::InfoHash) -> Self {
        let base = dir.join(STATE_DIR);
        let hex = info_hash.to_hex();
        Self {
            snapshot: base.join(format!("{hex}.resume")),
            journal_path: base.join(format!("{hex}.journal")),
            journal: Mutex::new(None),
            info_hash,
        }
    }

    /// Reads the snapshot and journal, given the files as they are now. `None` when there is
    /// no usable snapshot (absent, unreadable, or for another torrent).
    pub fn load(&self, info: &Info, now: &[FileStamp]) -> Option<Resumed> {
        let num_pieces = info.num_pieces() as usize;
        let bytes = std::fs::read(&self.snapshot).ok()?;
        let root = bencode::decode(&bytes).ok()?;
        if root.get(b"info_hash").and_then(Value::as_bytes)? != self.info_hash.0 {
            return None;
        }
        let pieces = root.get(b"pieces").and_then(Value::as_bytes)?;
        let claimed = Bitfield::from_bytes(pieces, num_pieces).ok()?;
        let mut trusted = Bitfield::new(num_pieces);
        let mut check = Bitfield::new(num_pieces);
        if root.get(b"version").and_then(Value::as_int) == Some(FORMAT) {
            let n = root.get(b"num_pieces").and_then(Value::as_int)?;
            let then = decode_stamps(root.get(b"files")?)?;
            if usize::try_from(n).ok()? != num_pieces || then.len() != now.len() {
                return None;
            }
            trusted = claimed;
            for (i, _) in then.iter().zip(now).enumerate().filter(|(_, (a, b))| a != b) {
                for p in info.file_pieces(i) {
                    if trusted.set(p as usize, false) {
                        check.set(p as usize, true);
                    }
                }
            }
        } else {
            // The first format: sizes only, which sparse files always match.
            check = claimed;
        }
        let journal = std::fs::read(&self.journal_path).unwrap_or_default();
        for c in journal.chunks_exact(4) {
            let i = u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize;
            if i < num_pieces && !trusted.get(i) {
                check.set(i, true);
            }
        }
        let to_check = check.ones().map(|i| i as u32).collect();
        Some(Resumed { trusted, to_check })
    }

    /// Writes a snapshot atomically and empties the journal. Call after syncing the data,
    /// with the stamps of the files as synced.
    pub fn save(&self, have: &Bitfield, stamps: &[FileStamp]) -> io::Result<()> {
        let dir = self.snapshot.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let mut out = Vec::with_capacity(have.as_bytes().len() + 64 * stamps.len() + 128);
        // Keys in sorted order, as bencode requires.
        out.push(b'd');
        write_bytes(&mut out, b"files");
        out.push(b'l');
        for s in stamps {
            out.push(b'l');
            write_int(&mut out, i64::try_from(s.size).unwrap_or(i64::MAX));
            write_int(&mut out, s.mtime_ns);
            out.push(b'e');
        }
        out.push(b'e');
        write_bytes(&mut out, b"info_hash");
        write_bytes(&mut out, &self.info_hash.0);
        write_bytes(&mut out, b"num_pieces");
        write_int(&mut out, i64::try_from(have.len()).unwrap_or(i64::MAX));
        write_bytes(&mut out, b"pieces");
        write_bytes(&mut out, have.as_bytes());
        write_bytes(&mut out, b"version");
        write_int(&mut out, FORMAT);
        out.push(b'e');
        crate::storage::replace_file(&self.snapshot, &out, 0o666)?;
        let mut journal = self
            .journal
            .lock()
            .map_err(|_| io::Error::other("journal lock poisoned"))?;
        *journal = None;
        File::create(&self.journal_path)?;
        Ok(())
    }

    /// Records a verified piece in the journal.
    pub fn append(&self, piece: u32) -> io::Result<()> {
        let mut journal = self
            .journal
            .lock()
            .map_err(|_| io::Error::other("journal lock poisoned"))?;
        if journal.is_none() {
            if let Some(dir) = self.journal_path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            *journal = Some(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.journal_path)?,
            );
        }
        match journal.as_mut() {
            Some(f) => f.write_all(&piece.to_be_bytes()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ten 16 KiB pieces over two files: `a` holds pieces 0–2, `b` pieces 2–9.
    fn two_files(dir: &Path) -> Info {
        testkit::write_files(dir, &[("t/a", 40_000), ("t/b", 120_000)]);
        let bytes = metainfo::builder::TorrentBuilder::new(dir.join("t"))
            .piece_length(Some(16 * 1024))
            .build(&|_| {})
            .unwrap();
        metainfo::Torrent::from_bytes(&bytes).unwrap().info
    }

    fn stamp(size: u64, mtime_ns: i64) -> FileStamp {
        FileStamp { size, mtime_ns }
    }

    #[test]
    fn snapshot_then_journal() {
        let dir = testkit::TempDir::new("resume");
        let info = two_files(dir.path());
        let now = [stamp(40_000, 1), stamp(120_000, 2)];
        let store = ResumeStore::new(dir.path(), ids::InfoHash([7; 20]));
        assert_eq!(store.load(&info, &now), None);
        let mut have = Bitfield::new(10);
        have.set(1, true);
        have.set(5, true);
        store.save(&have, &now).unwrap();
        store.append(4).unwrap();
        store.append(1).unwrap();
        store.append(99).unwrap();
        let r = store.load(&info, &now).unwrap();
        assert_eq!(r.trusted, have);
        assert_eq!(r.to_check, vec![4]);
        assert_eq!(
            ResumeStore::new(dir.path(), ids::InfoHash([8; 20])).load(&info, &now),
            None
        );
        assert_eq!(store.load(&info, &now[..1]), None, "another file list");
        store.save(&have, &now).unwrap();
        assert!(store.load(&info, &now).unwrap().to_check.is_empty());
    }

    #[test]
    fn pieces_of_a_file_changed_since_the_snapshot_are_checked_not_trusted() {
        let dir = testkit::TempDir::new("resume-stale");
        let info = two_files(dir.path());
        let then = [stamp(40_000, 1), stamp(120_000, 2)];
        let store = ResumeStore::new(dir.path(), ids::InfoHash([7; 20]));
        let mut have = Bitfield::new(10);
        for i in [0, 2, 5] {
            have.set(i, true);
        }
        store.save(&have, &then).unwrap();
        // `b` was written since (same size, new time): its pieces 2 and 5 are checked.
        let r = store.load(&info, &[then[0], stamp(120_000, 3)]).unwrap();
        assert_eq!(r.trusted.ones().collect::<Vec<_>>(), vec![0]);
        assert_eq!(r.to_check, vec![2, 5]);
        // `a` was truncated: its pieces 0 and 2.
        let r = store.load(&info, &[stamp(0, 1), then[1]]).unwrap();
        assert_eq!(r.trusted.ones().collect::<Vec<_>>(), vec![5]);
        assert_eq!(r.to_check, vec![0, 2]);
    }

    #[test]
    fn a_snapshot_without_file_stamps_vouches_for_nothing() {
        let dir = testkit::TempDir::new("resume-old");
        let info = two_files(dir.path());
        let store = ResumeStore::new(dir.path(), ids::InfoHash([7; 20]));
        // The first format: info-hash, pieces and sizes only (here: every piece claimed).
        let mut old = b"d9:info_hash20:".to_vec();
        old.extend_from_slice(&[7; 20]);
        old.extend_from_slice(b"6:pieces2:\xff\xc05:sizesli40000ei120000eee");
        std::fs::create_dir_all(dir.path().join(STATE_DIR)).unwrap();
        std::fs::write(&store.snapshot, old).unwrap();
        let r = store.load(&info, &[stamp(40_000, 1), stamp(120_000, 2)]).unwrap();
        assert_eq!(r.trusted.count(), 0);
        assert_eq!(r.to_check, (0..10).collect::<Vec<u32>>());
    }
}
