//! A session-wide pool of open file handles, least recently used first out (libtorrent's
//! file pool): a torrent with thousands of files must not hold a descriptor per file, or it
//! fails with "too many open files" long before the disk is the limit.
//!
//! A handle is lent out for one positional read or write and comes back when the
//! [`PooledFile`] drops. Only idle handles are closed to make room; when every handle is lent
//! out, the caller waits for one to come back. Each I/O call holds one handle at a time, so a
//! holder never waits on the pool and the wait always ends.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io;
use std::ops::Deref;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// A file of one torrent's storage: (storage id, index in the torrent's file list).
pub(crate) type FileKey = (u64, usize);

#[derive(Debug)]
struct Entry {
    file: Arc<File>,
    /// When it was last lent out, on the pool's clock; its key in `Inner::lru`.
    used: u64,
}

#[derive(Debug, Default)]
struct Inner {
    open: HashMap<FileKey, Entry>,
    lru: BTreeMap<u64, FileKey>,
    clock: u64,
    /// Handles being opened outside the lock, counted against the cap.
    opening: usize,
    /// Callers waiting for a handle to come back.
    waiting: usize,
}

impl Inner {
    fn touch(&mut self, key: FileKey) -> Option<Arc<File>> {
        self.clock += 1;
        let now = self.clock;
        let e = self.open.get_mut(&key)?;
        self.lru.remove(&e.used);
        e.used = now;
        self.lru.insert(now, key);
        Some(e.file.clone())
    }

    /// Closes the least recently used handle nobody holds. False when all are lent out.
    fn evict_idle(&mut self) -> bool {
        let victim = self
            .lru
            .iter()
            .find(|(_, k)| self.open.get(k).is_some_and(|e| Arc::strong_count(&e.file) == 1))
            .map(|(&used, &k)| (used, k));
        match victim {
            Some((used, k)) => {
                self.lru.remove(&used);
                self.open.remove(&k);
                true
            }
            None => false,
        }
    }
}

/// Counters of a [`FilePool`], for status displays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FilePoolStats {
    /// Most handles the pool may hold.
    pub cap: usize,
    /// Handles open now.
    pub open: usize,
    /// Most handles ever open at once.
    pub peak: usize,
    /// Files opened.
    pub opened: u64,
    /// Idle handles closed to make room for another file.
    pub evicted: u64,
    /// Times a caller waited because every handle was in use.
    pub waits: u64,
}

/// Open files of all the torrents of a session, at most `cap` at a time.
#[derive(Debug)]
pub struct FilePool {
    cap: usize,
    inner: Mutex<Inner>,
    returned: Condvar,
    next_owner: AtomicU64,
    peak: AtomicU64,
    opened: AtomicU64,
    evicted: AtomicU64,
    waits: AtomicU64,
}

/// A handle lent by the pool; given back when dropped.
#[derive(Debug)]
pub(crate) struct PooledFile<'a> {
    file: Option<Arc<File>>,
    pool: &'a FilePool,
}

impl Deref for PooledFile<'_> {
    type Target = File;

    fn deref(&self) -> &File {
        // Always Some until drop takes it.
        self.file
            .as_deref()
            .unwrap_or_else(|| unreachable!("handle used after return"))
    }
}

impl Drop for PooledFile<'_> {
    fn drop(&mut self) {
        // Under the lock, so a caller that just found every handle busy is already waiting
        // and gets the wake-up.
        let g = self.pool.lock();
        self.file = None;
        if g.waiting > 0 {
            self.pool.returned.notify_one();
        }
    }
}

impl FilePool {
    /// A pool of at most `cap` open files (at least one).
    pub fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            inner: Mutex::new(Inner::default()),
            returned: Condvar::new(),
            next_owner: AtomicU64::new(1),
            peak: AtomicU64::new(0),
            opened: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
            waits: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The pool's bookkeeping is updated in single steps; a panic elsewhere leaves it whole.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A fresh id for a storage's files.
    pub(crate) fn register(&self) -> u64 {
        self.next_owner.fetch_add(1, Ordering::Relaxed)
    }

    /// Lends the handle of file `key` at `path`, opening it (read-write, never creating it:
    /// the storage created its files) when it is not open.
    pub(crate) fn get(&self, key: FileKey, path: &Path) -> io::Result<PooledFile<'_>> {
        let mut g = self.lock();
        loop {
            if let Some(file) = g.touch(key) {
                return Ok(self.lend(file));
            }
            if g.open.len() + g.opening < self.cap {
                break;
            }
            if g.evict_idle() {
                self.evicted.fetch_add(1, Ordering::Relaxed);
                break;
            }
            self.waits.fetch_add(1, Ordering::Relaxed);
            g.waiting += 1;
            g = self.returned.wait(g).unwrap_or_else(|p| p.into_inner());
            g.waiting -= 1;
        }
        g.opening += 1;
        let now_open = (g.open.len() + g.opening) as u64;
        self.peak.fetch_max(now_open, Ordering::Relaxed);
        drop(g);
        // Opened outside the lock: a slow disk must not stall every other torrent's I/O.
        let opened = OpenOptions::new().read(true).write(true).open(path);
        let mut g = self.lock();
        g.opening -= 1;
        let file = match opened {
            Ok(f) => Arc::new(f),
            Err(e) => {
                if g.waiting > 0 {
                    self.returned.notify_one();
                }
                return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display())));
            }
        };
        self.opened.fetch_add(1, Ordering::Relaxed);
        // Another caller may have opened the same file meanwhile: use theirs, close ours.
        if let Some(existing) = g.touch(key) {
            if g.waiting > 0 {
                self.returned.notify_one();
            }
            return Ok(self.lend(existing));
        }
        g.clock += 1;
        let used = g.clock;
        g.lru.insert(used, key);
        g.open.insert(
            key,
            Entry {
                file: file.clone(),
                used,
            },
        );
        Ok(self.lend(file))
    }

    fn lend(&self, file: Arc<File>) -> PooledFile<'_> {
        PooledFile {
            file: Some(file),
            pool: self,
        }
    }

    /// Closes the handles of storage `owner` (it is going away).
    pub(crate) fn forget(&self, owner: u64) {
        let mut g = self.lock();
        let Inner { open, lru, .. } = &mut *g;
        open.retain(|k, e| {
            let keep = k.0 != owner;
            if !keep {
                lru.remove(&e.used);
            }
            keep
        });
        if g.waiting > 0 {
            self.returned.notify_all();
        }
    }

    /// The pool's counters.
    pub fn stats(&self) -> FilePoolStats {
        let open = self.lock().open.len();
        FilePoolStats {
            cap: self.cap,
            open,
            peak: self.peak.load(Ordering::Relaxed) as usize,
            opened: self.opened.load(Ordering::Relaxed),
            evicted: self.evicted.load(Ordering::Relaxed),
            waits: self.waits.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &Path, n: usize) -> Vec<std::path::PathBuf> {
        (0..n)
            .map(|i| {
                let p = dir.join(format!("f{i}"));
                std::fs::write(&p, [i as u8]).unwrap();
                p
            })
            .collect()
    }

    #[test]
    fn the_least_recently_used_idle_handle_is_closed_first() {
        let dir = testkit::TempDir::new("pool-lru");
        let paths = files(dir.path(), 3);
        let pool = FilePool::new(2);
        drop(pool.get((1, 0), &paths[0]).unwrap());
        drop(pool.get((1, 1), &paths[1]).unwrap());
        drop(pool.get((1, 0), &paths[0]).unwrap()); // 1 is now the oldest
        drop(pool.get((1, 2), &paths[2]).unwrap());
        let s = pool.stats();
        assert_eq!((s.open, s.peak, s.opened, s.evicted), (2, 2, 3, 1));
        drop(pool.get((1, 0), &paths[0]).unwrap());
        assert_eq!(pool.stats().opened, 3, "file 0 stayed open");
        drop(pool.get((1, 1), &paths[1]).unwrap());
        assert_eq!(pool.stats().opened, 4, "file 1 had been closed");
        pool.forget(1);
        assert_eq!(pool.stats().open, 0);
    }

    #[test]
    fn a_handle_in_use_is_never_closed_and_a_full_pool_waits_for_one() {
        let dir = testkit::TempDir::new("pool-wait");
        let paths = files(dir.path(), 2);
        let pool = FilePool::new(1);
        let held = pool.get((1, 0), &paths[0]).unwrap();
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| {
                let mut b = [0u8; 1];
                std::os::unix::fs::FileExt::read_exact_at(&*pool.get((1, 1), &paths[1])?, &mut b, 0)?;
                io::Result::Ok(b[0])
            });
            // The waiter cannot get a handle until `held` comes back.
            while pool.stats().waits == 0 {
                std::thread::yield_now();
            }
            assert_eq!(pool.stats().open, 1);
            drop(held);
            assert_eq!(waiter.join().unwrap().unwrap(), 1);
        });
        let s = pool.stats();
        assert_eq!((s.peak, s.evicted), (1, 1));
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let dir = testkit::TempDir::new("pool-missing");
        let pool = FilePool::new(1);
        let err = pool.get((1, 0), &dir.path().join("gone")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("gone"), "{err}");
        assert_eq!(pool.stats().open, 0);
    }
}
