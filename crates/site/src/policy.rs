//! The tracker's view of the site, answered from memory: passkey → user, and the registered
//! torrents with their promotion flags. The site updates it on every change it makes
//! (sign-up, passkey reset, disable, upload, delete), and reloads it from the database now
//! and then to pick up changes made by other instances.
//!
//! Passkeys are looked up by a SHA-256 fingerprint (so lookup time says nothing about how
//! much of a guess matched) and then compared in constant time; they are never logged.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use tracker::access::{AccessPolicy, AccessRequest, Refusal, UserId};
use tracker_proto::common::InfoHash;

use crate::auth::secret::ct_eq;

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

#[derive(Debug, Clone)]
struct UserEntry {
    passkey: String,
    id: i64,
    disabled: bool,
}

type Fingerprint = [u8; 16];

fn fingerprint(passkey: &str) -> Fingerprint {
    let d = Sha256::digest(passkey.as_bytes());
    let mut f = [0u8; 16];
    f.copy_from_slice(&d[..16]);
    f
}

/// Parses 40 hex digits.
pub fn parse_info_hash(hex: &str) -> Option<InfoHash> {
    let b = hex.as_bytes();
    if b.len() != 40 {
        return None;
    }
    let mut out = [0u8; 20];
    for (i, pair) in b.chunks_exact(2).enumerate() {
        let hi = char::from(pair[0]).to_digit(16)?;
        let lo = char::from(pair[1]).to_digit(16)?;
        out[i] = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(InfoHash(out))
}

/// The site's [`AccessPolicy`].
#[derive(Debug, Default)]
pub struct SitePolicy {
    users: RwLock<HashMap<Fingerprint, UserEntry>>,
    torrents: RwLock<HashMap<InfoHash, TorrentEntry>>,
    /// Bumped by every incremental change, so that a reload that read the database before
    /// the change does not undo it.
    generation: AtomicU64,
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
        let users: HashMap<_, _> = users
            .into_iter()
            .map(|(id, passkey, disabled)| {
                (
                    fingerprint(&passkey),
                    UserEntry {
                        passkey,
                        id,
                        disabled,
                    },
                )
            })
            .collect();
        let torrents: HashMap<_, _> = torrents
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
        let mut u = self.users.write().unwrap_or_else(|e| e.into_inner());
        let mut t = self.torrents.write().unwrap_or_else(|e| e.into_inner());
        if self.generation() != generation {
            return false;
        }
        *u = users;
        *t = torrents;
        true
    }

    fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Adds or updates a user; `old_passkey` (after a reset) stops working at once.
    pub fn set_user(&self, id: i64, passkey: &str, disabled: bool, old_passkey: Option<&str>) {
        let mut u = self.users.write().unwrap_or_else(|e| e.into_inner());
        self.changed();
        if let Some(old) = old_passkey {
            u.remove(&fingerprint(old));
        }
        u.insert(
            fingerprint(passkey),
            UserEntry {
                passkey: passkey.to_owned(),
                id,
                disabled,
            },
        );
    }

    /// Registers or updates a torrent.
    pub fn set_torrent(&self, info_hash: InfoHash, entry: TorrentEntry) {
        let mut t = self.torrents.write().unwrap_or_else(|e| e.into_inner());
        self.changed();
        t.insert(info_hash, entry);
    }

    /// Unregisters a torrent.
    pub fn remove_torrent(&self, info_hash: &InfoHash) {
        let mut t = self.torrents.write().unwrap_or_else(|e| e.into_inner());
        self.changed();
        t.remove(info_hash);
    }

    /// A registered torrent.
    pub fn torrent(&self, info_hash: &InfoHash) -> Option<TorrentEntry> {
        self.torrents
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(info_hash)
            .copied()
    }

    /// The user of a passkey and whether the account is disabled.
    pub fn user(&self, passkey: &str) -> Option<(i64, bool)> {
        let u = self.users.read().unwrap_or_else(|e| e.into_inner());
        let e = u.get(&fingerprint(passkey))?;
        ct_eq(e.passkey.as_bytes(), passkey.as_bytes()).then_some((e.id, e.disabled))
    }

    /// (users, torrents) known.
    pub fn sizes(&self) -> (usize, usize) {
        let u = self.users.read().map(|m| m.len()).unwrap_or(0);
        let t = self.torrents.read().map(|m| m.len()).unwrap_or(0);
        (u, t)
    }

    fn check_user(&self, passkey: Option<&str>) -> Result<UserId, Refusal> {
        let passkey = passkey.ok_or(Refusal::MissingPasskey)?;
        match self.user(passkey) {
            None => Err(Refusal::BadPasskey),
            Some((_, true)) => Err(Refusal::Other("account disabled".into())),
            Some((id, false)) => Ok(UserId(u64::try_from(id).unwrap_or(0))),
        }
    }
}

impl AccessPolicy for SitePolicy {
    fn check_announce(&self, req: &AccessRequest<'_>) -> Result<Option<UserId>, Refusal> {
        let user = self.check_user(req.passkey)?;
        if self.torrent(req.info_hash).is_none() {
            return Err(Refusal::UnregisteredTorrent);
        }
        Ok(Some(user))
    }

    fn check_scrape(&self, info_hash: &InfoHash, passkey: Option<&str>) -> Result<(), Refusal> {
        self.check_user(passkey)?;
        if self.torrent(info_hash).is_none() {
            return Err(Refusal::UnregisteredTorrent);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracker_proto::common::PeerId;

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
