//! The tracker's view of the site, answered from memory: passkey → user, and the registered
//! torrents with their promotion flags. The site updates it on every change it makes
//! (sign-up, passkey reset, disable, upload, delete), and reloads it from the database now
//! and then to pick up changes made by other instances.
//!
//! Passkeys are not kept: users are found by the SHA-256 digest of their passkey. Equal
//! digests mean equal passkeys, and a lookup's time depends only on the digest, which says
//! nothing about how much of a guess matched. Both maps sit behind one lock, taken once per
//! announce.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{OnceLock, RwLock, RwLockReadGuard};

use ids::InfoHash;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tracker::access::{AccessPolicy, AccessRequest, Refusal, UserId};

use crate::sync::Change;

/// A registered torrent as the accounting needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TorrentEntry {
    /// Its id in the catalogue.
    pub id: i64,
    /// Downloads are not counted.
    pub freeleech: bool,
    /// Uploads count twice.
    pub double_upload: bool,
}

#[derive(Debug, Clone, Copy)]
struct UserEntry {
    id: i64,
    disabled: bool,
}

/// SHA-256 of a passkey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PasskeyDigest([u8; 32]);

impl PasskeyDigest {
    fn of(passkey: &str) -> Self {
        Self(Sha256::digest(passkey.as_bytes()).into())
    }
}

impl Hash for PasskeyDigest {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut head = [0u8; 8];
        head.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(head));
    }
}

/// Uses a [`PasskeyDigest`]'s first eight bytes as its hash: digests are uniform, and the map
/// holds only digests of passkeys the site made, so no one can crowd a bucket.
#[derive(Debug, Default, Clone, Copy)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// What the policy knows.
#[derive(Debug, Default)]
struct Caches {
    users: HashMap<PasskeyDigest, UserEntry, BuildHasherDefault<DigestHasher>>,
    torrents: HashMap<InfoHash, TorrentEntry>,
}

/// Parses 40 hex digits.
pub fn parse_info_hash(hex: &str) -> Option<InfoHash> {
    ids::hex::decode(hex).map(InfoHash)
}

/// The site's [`AccessPolicy`].
#[derive(Debug, Default)]
pub struct SitePolicy {
    caches: RwLock<Caches>,
    /// Bumped by every incremental change, so that a reload that read the database before
    /// the change does not undo it.
    generation: AtomicU64,
    /// Where this instance's changes go to reach the other instances' caches (set when the
    /// database is PostgreSQL; see [`crate::sync`]).
    outbox: OnceLock<mpsc::Sender<Change>>,
}

impl SitePolicy {
    /// An empty policy (every announce refused until [`load`](Self::load)).
    pub fn new() -> Self {
        Self::default()
    }

    /// The generation to pass to [`load`](Self::load), read before reading the database.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Replaces everything with a fresh read of the database, unless an incremental change
    /// happened since `generation` was read (then the caller's snapshot may be stale and is
    /// dropped; the next reload will do). Returns whether it was applied.
    pub fn load(
        &self,
        generation: u64,
        users: Vec<(i64, String, bool)>,
        torrents: Vec<(i64, String, bool, bool)>,
    ) -> bool {
        let users = users
            .into_iter()
            .map(|(id, passkey, disabled)| (PasskeyDigest::of(&passkey), UserEntry { id, disabled }))
            .collect();
        let torrents = torrents
            .into_iter()
            .filter_map(|(id, hex, freeleech, double_upload)| {
                Some((
                    parse_info_hash(&hex)?,
                    TorrentEntry {
                        id,
                        freeleech,
                        double_upload,
                    },
                ))
            })
            .collect();
        let mut c = self.caches.write().unwrap_or_else(|e| e.into_inner());
        if self.generation() != generation {
            return false;
        }
        *c = Caches { users, torrents };
        true
    }

    fn read(&self) -> RwLockReadGuard<'_, Caches> {
        self.caches.read().unwrap_or_else(|e| e.into_inner())
    }

    fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Adds or updates a user; `old_passkey` (after a reset) stops working at once, here
    /// and (through the outbox) on every other instance.
    pub fn set_user(&self, id: i64, passkey: &str, disabled: bool, old_passkey: Option<&str>) {
        {
            let mut c = self.caches.write().unwrap_or_else(|e| e.into_inner());
            self.changed();
            if let Some(old) = old_passkey {
                c.users.remove(&PasskeyDigest::of(old));
            }
            c.users
                .insert(PasskeyDigest::of(passkey), UserEntry { id, disabled });
        }
        self.tell_others(Change::User(id));
    }

    /// Registers or updates a torrent.
    pub fn set_torrent(&self, info_hash: InfoHash, entry: TorrentEntry) {
        self.apply_torrent(info_hash, Some(entry));
        self.tell_others(Change::Torrent(info_hash));
    }

    /// Unregisters a torrent.
    pub fn remove_torrent(&self, info_hash: &InfoHash) {
        self.apply_torrent(*info_hash, None);
        self.tell_others(Change::Torrent(*info_hash));
    }

    /// Sends this instance's changes to `outbox` from now on.
    pub fn set_outbox(&self, outbox: mpsc::Sender<Change>) {
        let _ = self.outbox.set(outbox);
    }

    fn tell_others(&self, change: Change) {
        if let Some(outbox) = self.outbox.get() {
            // Full (the database is down or slow): the others catch up at their next reload.
            if outbox.try_send(change).is_err() {
                tracing::warn!(?change, "cache change not sent to the other instances");
            }
        }
    }

    /// Another instance's change to a user, as the database has it now: every passkey of
    /// user `id` is replaced by `now` (none when the user is gone).
    pub fn apply_user(&self, id: i64, now: Option<(&str, bool)>) {
        let mut c = self.caches.write().unwrap_or_else(|e| e.into_inner());
        self.changed();
        c.users.retain(|_, u| u.id != id);
        if let Some((passkey, disabled)) = now {
            c.users
                .insert(PasskeyDigest::of(passkey), UserEntry { id, disabled });
        }
    }

    /// A torrent registered, changed (`Some`) or removed (`None`), without telling others.
    pub fn apply_torrent(&self, info_hash: InfoHash, entry: Option<TorrentEntry>) {
        let mut c = self.caches.write().unwrap_or_else(|e| e.into_inner());
        self.changed();
        match entry {
            Some(e) => c.torrents.insert(info_hash, e),
            None => c.torrents.remove(&info_hash),
        };
    }

    /// A registered torrent.
    pub fn torrent(&self, info_hash: &InfoHash) -> Option<TorrentEntry> {
        self.read().torrents.get(info_hash).copied()
    }

    /// The registered torrent of each info-hash, in order (one lock for a whole batch).
    pub fn torrents_of<'a>(&self, hashes: impl Iterator<Item = &'a InfoHash>) -> Vec<Option<TorrentEntry>> {
        let c = self.read();
        hashes.map(|h| c.torrents.get(h).copied()).collect()
    }

    /// The user of a passkey and whether the account is disabled.
    pub fn user(&self, passkey: &str) -> Option<(i64, bool)> {
        let digest = PasskeyDigest::of(passkey);
        self.read().users.get(&digest).map(|e| (e.id, e.disabled))
    }

    /// (users, torrents) known.
    pub fn sizes(&self) -> (usize, usize) {
        let c = self.read();
        (c.users.len(), c.torrents.len())
    }

    /// The user of an announce or scrape, then whether the torrent is registered: one lock.
    fn check(&self, passkey: Option<&str>, info_hash: &InfoHash) -> Result<UserId, Refusal> {
        let passkey = passkey.ok_or(Refusal::MissingPasskey)?;
        let digest = PasskeyDigest::of(passkey);
        let c = self.read();
        let user = match c.users.get(&digest) {
            None => return Err(Refusal::BadPasskey),
            Some(UserEntry { disabled: true, .. }) => {
                return Err(Refusal::Other("account disabled".into()));
            }
            Some(UserEntry { id, .. }) => UserId(u64::try_from(*id).unwrap_or(0)),
        };
        if !c.torrents.contains_key(info_hash) {
            return Err(Refusal::UnregisteredTorrent);
        }
        Ok(user)
    }
}

impl AccessPolicy for SitePolicy {
    fn check_announce(&self, req: &AccessRequest<'_>) -> Result<Option<UserId>, Refusal> {
        self.check(req.passkey, req.info_hash).map(Some)
    }

    fn check_scrape(&self, info_hash: &InfoHash, passkey: Option<&str>) -> Result<(), Refusal> {
        self.check(passkey, info_hash).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ids::PeerId;

    fn req<'a>(h: &'a InfoHash, id: &'a PeerId, pk: Option<&'a str>) -> AccessRequest<'a> {
        AccessRequest {
            info_hash: h,
            peer_id: id,
            passkey: pk,
        }
    }

    #[test]
    fn passkeys_torrents_and_disabled_users() {
        let p = SitePolicy::new();
        let h = InfoHash([1; 20]);
        let id = PeerId([b'x'; 20]);
        let pk = "0123456789abcdef0123456789abcdef";
        assert!(p.load(
            p.generation(),
            vec![(7, pk.into(), false)],
            vec![(1, h.to_string(), false, false)]
        ));
        assert_eq!(p.check_announce(&req(&h, &id, Some(pk))), Ok(Some(UserId(7))));
        assert_eq!(
            p.check_announce(&req(&h, &id, None)),
            Err(Refusal::MissingPasskey)
        );
        assert_eq!(
            p.check_announce(&req(&h, &id, Some("nope"))),
            Err(Refusal::BadPasskey)
        );
        let other = InfoHash([2; 20]);
        assert_eq!(
            p.check_announce(&req(&other, &id, Some(pk))),
            Err(Refusal::UnregisteredTorrent)
        );
        let new_pk = "ffffffffffffffffffffffffffffffff";
        p.set_user(7, new_pk, false, Some(pk));
        assert_eq!(
            p.check_announce(&req(&h, &id, Some(pk))),
            Err(Refusal::BadPasskey)
        );
        p.set_user(7, new_pk, true, None);
        assert_eq!(
            p.check_announce(&req(&h, &id, Some(new_pk))),
            Err(Refusal::Other("account disabled".into()))
        );
        assert_eq!(
            p.check_scrape(&h, Some(new_pk)),
            Err(Refusal::Other("account disabled".into()))
        );
    }

    #[test]
    fn stale_reload_does_not_undo_a_change() {
        let p = SitePolicy::new();
        let generation = p.generation();
        p.set_user(1, "aa", false, None);
        assert!(!p.load(generation, vec![], vec![]));
        assert_eq!(p.user("aa"), Some((1, false)));
    }
}
