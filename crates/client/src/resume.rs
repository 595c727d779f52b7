//! Resume state: which pieces are verified, kept so that a restart fetches nothing twice and
//! trusts nothing unverified.
//!
//! - A snapshot (`<dir>/.nexsuj/<info-hash>.resume`, bencoded) is written atomically: data
//!   files are fsynced first, then the snapshot goes to a temp file, is fsynced and renamed
//!   over the old one, and the directory is fsynced. Whatever it lists is on disk.
//! - Between snapshots each verified piece is appended to a journal (`.journal`, 4 bytes per
//!   piece). The journal is not fsynced, so after a crash its pieces are hash-checked again
//!   before they count; after `kill -9` the page cache still holds their data and they pass.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use bencode::{Value, write_bytes, write_int};
use wire::Bitfield;

/// What a previous run left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumed {
    /// Pieces the snapshot vouches for.
    pub trusted: Bitfield,
    /// Pieces the journal names: verified once, to be hash-checked again before they count.
    pub to_check: Vec<u32>,
}

/// The resume files of one torrent.
#[derive(Debug)]
pub struct ResumeStore {
    snapshot: PathBuf,
    journal_path: PathBuf,
    journal: Mutex<Option<File>>,
    info_hash: [u8; 20],
}

impl ResumeStore {
    /// The store for a torrent downloading into `dir`.
    pub fn new(dir: &Path, info_hash: [u8; 20]) -> Self {
        let base = dir.join(".nexsuj");
        let hex: String = info_hash.iter().map(|b| format!("{b:02x}")).collect();
        Self {
            snapshot: base.join(format!("{hex}.resume")),
            journal_path: base.join(format!("{hex}.journal")),
            journal: Mutex::new(None),
            info_hash,
        }
    }

    /// Reads the snapshot and journal. `None` when there is no usable snapshot (absent,
    /// unreadable, for another torrent, or the files on disk do not have the sizes it saw).
    pub fn load(&self, num_pieces: usize, file_sizes: &[u64]) -> Option<Resumed> {
        let bytes = std::fs::read(&self.snapshot).ok()?;
        let root = bencode::decode(&bytes).ok()?;
        if root.get(b"info_hash").and_then(Value::as_bytes)? != self.info_hash {
            return None;
        }
        let sizes: Vec<u64> = root
            .get(b"sizes")
            .and_then(Value::as_list)?
            .iter()
            .map(|v| v.as_int().and_then(|n| u64::try_from(n).ok()))
            .collect::<Option<_>>()?;
        if sizes != file_sizes {
            return None;
        }
        let pieces = root.get(b"pieces").and_then(Value::as_bytes)?;
        let trusted = Bitfield::from_bytes(pieces, num_pieces).ok()?;
        let journal = std::fs::read(&self.journal_path).unwrap_or_default();
        let to_check = journal
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .filter(|&i| (i as usize) < num_pieces && !trusted.get(i as usize))
            .collect();
        Some(Resumed { trusted, to_check })
    }

    /// Writes a snapshot atomically and empties the journal. Call after syncing the data.
    pub fn save(&self, have: &Bitfield, file_sizes: &[u64]) -> io::Result<()> {
        let dir = self.snapshot.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let mut out = Vec::with_capacity(have.as_bytes().len() + 128);
        out.push(b'd');
        write_bytes(&mut out, b"info_hash");
        write_bytes(&mut out, &self.info_hash);
        write_bytes(&mut out, b"pieces");
        write_bytes(&mut out, have.as_bytes());
        write_bytes(&mut out, b"sizes");
        out.push(b'l');
        for &s in file_sizes {
            write_int(&mut out, i64::try_from(s).unwrap_or(i64::MAX));
        }
        out.extend_from_slice(b"ee");
        let tmp = self.snapshot.with_extension("resume.tmp");
        let mut f = File::create(&tmp)?;
        f.write_all(&out)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &self.snapshot)?;
        File::open(dir)?.sync_all()?;
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

    #[test]
    fn snapshot_then_journal() {
        let dir = testkit::TempDir::new("resume");
        let store = ResumeStore::new(dir.path(), [7; 20]);
        assert_eq!(store.load(10, &[5]), None);
        let mut have = Bitfield::new(10);
        have.set(1, true);
        store.save(&have, &[5]).unwrap();
        store.append(4).unwrap();
        store.append(1).unwrap();
        store.append(99).unwrap();
        let r = store.load(10, &[5]).unwrap();
        assert_eq!(r.trusted, have);
        assert_eq!(r.to_check, vec![4]);
        assert_eq!(store.load(10, &[6]), None, "file size changed");
        assert_eq!(ResumeStore::new(dir.path(), [8; 20]).load(10, &[5]), None);
        store.save(&have, &[5]).unwrap();
        assert!(store.load(10, &[5]).unwrap().to_check.is_empty());
    }
}
