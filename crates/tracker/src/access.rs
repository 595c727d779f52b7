//! Who may announce what. A tracker consults one [`AccessPolicy`] per announce and scrape;
//! the public modes (open, allow-list, deny-list) live here, and a private-tracker site
//! plugs in its own policy (passkey → user, registered torrents) without the tracker knowing
//! the site exists. Policies answer from memory: no I/O on the announce path.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use ids::{InfoHash, PeerId};

use crate::config::{AccessSection, Mode};
pub use crate::error::Refusal;
use crate::error::{ConfigError, ListError};

/// A user of a private tracker, as the policy knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub u64);

/// What a policy sees of a request.
#[derive(Debug, Clone, Copy)]
pub struct AccessRequest<'a> {
    /// The torrent.
    pub info_hash: &'a InfoHash,
    /// The peer's id (for client rules).
    pub peer_id: &'a PeerId,
    /// The passkey from `auth_key`/`passkey`, the path `/announce/<passkey>` or BEP 41 URL data.
    pub passkey: Option<&'a str>,
}

/// Decides whether an announce may go ahead, and for whom.
pub trait AccessPolicy: Send + Sync {
    /// `Ok(None)` for an anonymous (public) announce, `Ok(Some(user))` for a private one.
    fn check_announce(&self, req: &AccessRequest<'_>) -> Result<Option<UserId>, Refusal>;

    /// Whether a scrape of `info_hash` may be answered.
    fn check_scrape(&self, info_hash: &InfoHash, passkey: Option<&str>) -> Result<(), Refusal>;
}

/// Which torrents a public tracker serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListMode {
    /// Every torrent.
    #[default]
    Open,
    /// Only the listed ones.
    Allow,
    /// All but the listed ones.
    Deny,
}

/// A public tracker's policy: open, allow-list or deny-list of info-hashes (reloadable from a
/// file without a restart), plus a deny-list of client peer-id prefixes (BEP 20: `-XX1234-`).
#[derive(Debug)]
pub struct PublicPolicy {
    mode: ListMode,
    list_file: Option<PathBuf>,
    hashes: RwLock<HashSet<InfoHash>>,
    denied_clients: Vec<Vec<u8>>,
}

impl PublicPolicy {
    /// The policy an `[access]` section asks for; `allow` and `deny` need a `list_file`.
    pub fn from_config(access: &AccessSection) -> Result<Self, crate::Error> {
        if access.mode != Mode::Open && access.list_file.is_none() {
            return Err(ConfigError::ListFileMissing { mode: access.mode }.into());
        }
        Ok(Self::new(
            access.mode.into(),
            access.list_file.clone(),
            access.denied_clients.clone(),
        )?)
    }

    /// A policy; `list_file` (one hex info-hash per line, `#` comments) is read now for the
    /// allow and deny modes.
    pub fn new(
        mode: ListMode,
        list_file: Option<PathBuf>,
        denied_clients: Vec<String>,
    ) -> Result<Self, ListError> {
        let policy = Self {
            mode,
            list_file,
            hashes: RwLock::new(HashSet::new()),
            denied_clients: denied_clients.into_iter().map(String::into_bytes).collect(),
        };
        policy.reload()?;
        Ok(policy)
    }

    /// Re-reads the list file (on SIGHUP, say); on error the old list stays in force.
    pub fn reload(&self) -> Result<usize, ListError> {
        let Some(path) = &self.list_file else { return Ok(0) };
        let set = read_hash_list(path)?;
        let n = set.len();
        if let Ok(mut guard) = self.hashes.write() {
            *guard = set;
        }
        Ok(n)
    }

    fn listed(&self, h: &InfoHash) -> bool {
        self.hashes.read().map(|set| set.contains(h)).unwrap_or(false)
    }

    fn torrent_allowed(&self, h: &InfoHash) -> bool {
        match self.mode {
            ListMode::Open => true,
            ListMode::Allow => self.listed(h),
            ListMode::Deny => !self.listed(h),
        }
    }
}

impl AccessPolicy for PublicPolicy {
    fn check_announce(&self, req: &AccessRequest<'_>) -> Result<Option<UserId>, Refusal> {
        if self.denied_clients.iter().any(|p| req.peer_id.0.starts_with(p)) {
            return Err(Refusal::BannedClient);
        }
        if !self.torrent_allowed(req.info_hash) {
            return Err(Refusal::UnregisteredTorrent);
        }
        Ok(None)
    }

    fn check_scrape(&self, info_hash: &InfoHash, _passkey: Option<&str>) -> Result<(), Refusal> {
        if self.torrent_allowed(info_hash) {
            Ok(())
        } else {
            Err(Refusal::UnregisteredTorrent)
        }
    }
}

/// Reads one 40-digit hex info-hash per line; blank lines and `#` comments are skipped, and a
/// malformed line is an error naming its number (a typo must not silently open a torrent).
pub fn read_hash_list(path: &Path) -> Result<HashSet<InfoHash>, ListError> {
    let text = std::fs::read_to_string(path).map_err(|error| ListError::Read {
        path: path.to_owned(),
        error,
    })?;
    let mut set = HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let hash = ids::hex::decode::<20>(line).ok_or_else(|| ListError::BadLine {
            path: path.to_owned(),
            line: i + 1,
            text: line.to_owned(),
        })?;
        set.insert(InfoHash(hash));
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req<'a>(h: &'a InfoHash, id: &'a PeerId) -> AccessRequest<'a> {
        AccessRequest {
            info_hash: h,
            peer_id: id,
            passkey: None,
        }
    }

    fn temp_list(name: &str, text: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("nexsuj-access-{name}-{}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn open_allows_everything_but_banned_clients() {
        let p = PublicPolicy::new(ListMode::Open, None, vec!["-XX".into()]).unwrap();
        let h = InfoHash([1; 20]);
        assert_eq!(
            p.check_announce(&req(&h, &PeerId(*b"-LT2080-aaaaaaaaaaaa"))),
            Ok(None)
        );
        assert_eq!(
            p.check_announce(&req(&h, &PeerId(*b"-XX0001-aaaaaaaaaaaa"))),
            Err(Refusal::BannedClient)
        );
        assert_eq!(p.check_scrape(&h, None), Ok(()));
    }

    #[test]
    fn allow_and_deny_lists_reload_without_restart() {
        let a = InfoHash([0xab; 20]);
        let b = InfoHash([0xcd; 20]);
        let id = PeerId([b'x'; 20]);
        let path = temp_list("allow", &format!("# allowed\n{}\n\n", "ab".repeat(20)));
        let allow = PublicPolicy::new(ListMode::Allow, Some(path.clone()), vec![]).unwrap();
        assert!(allow.check_announce(&req(&a, &id)).is_ok());
        assert_eq!(
            allow.check_announce(&req(&b, &id)),
            Err(Refusal::UnregisteredTorrent)
        );
        std::fs::write(&path, format!("{}  # now b\n", "CD".repeat(20))).unwrap();
        assert_eq!(allow.reload().unwrap(), 1);
        assert!(allow.check_announce(&req(&b, &id)).is_ok());
        assert_eq!(allow.check_scrape(&a, None), Err(Refusal::UnregisteredTorrent));
        let deny = PublicPolicy::new(ListMode::Deny, Some(path.clone()), vec![]).unwrap();
        assert!(deny.check_announce(&req(&a, &id)).is_ok());
        assert_eq!(
            deny.check_announce(&req(&b, &id)),
            Err(Refusal::UnregisteredTorrent)
        );
        // A bad line is refused and the old list stays.
        std::fs::write(&path, "not-a-hash\n").unwrap();
        let err = deny.reload().unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
        assert_eq!(
            deny.check_announce(&req(&b, &id)),
            Err(Refusal::UnregisteredTorrent)
        );
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn refusals_read_as_failure_reasons() {
        assert_eq!(
            Refusal::UnregisteredTorrent.to_string(),
            "torrent not registered with this tracker"
        );
        assert_eq!(Refusal::BadPasskey.to_string(), "unknown or disabled passkey");
    }
}
