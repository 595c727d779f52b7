//! Passwords: argon2id (the RFC 9106 recommended variant) with a random salt, hashed and
//! verified on a blocking thread so that a login never stalls the async workers, and never
//! more at once than [`Passwords`] allows.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::auth::secret::random_bytes;
use crate::error::SiteError;

/// Shortest password accepted.
pub const MIN_LEN: usize = 8;
/// Longest password accepted (hashing cost grows with it).
pub const MAX_LEN: usize = 256;

fn hasher() -> Argon2<'static> {
    // 19 MiB, 2 passes, 1 lane: OWASP's argon2id baseline.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Why a password is refused at sign-up, worded for the user; `None` if it is acceptable.
pub fn weakness(pwd: &str, nick: &str, email: &str) -> Option<String> {
    let n = pwd.chars().count();
    if n < MIN_LEN {
        return Some(format!("password must have at least {MIN_LEN} characters"));
    }
    if pwd.len() > MAX_LEN {
        return Some(format!("password must have at most {MAX_LEN} bytes"));
    }
    let kinds = [
        pwd.chars().any(|c| c.is_ascii_lowercase()),
        pwd.chars().any(|c| c.is_ascii_uppercase()),
        pwd.chars().any(|c| c.is_ascii_digit()),
        pwd.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if kinds.iter().filter(|k| **k).count() < 2 {
        return Some("password must mix at least two of: lowercase, uppercase, digits, symbols".into());
    }
    let lower = pwd.to_lowercase();
    let local = email.split('@').next().unwrap_or("").to_lowercase();
    if lower == nick.to_lowercase() || (!local.is_empty() && lower == local) {
        return Some("password must not be your nick or e-mail".into());
    }
    let distinct: std::collections::HashSet<char> = pwd.chars().collect();
    if distinct.len() < 4 {
        return Some("password is too repetitive".into());
    }
    None
}

/// Hashes and verifies passwords on the blocking pool, at most a configured number at once:
/// each argon2id run holds 19 MiB, so without a bound a client sending logins in parallel
/// could pin gigabytes. A caller takes a [`HashPermit`] first and is refused (503) when none
/// is free, rather than queueing work the client may have given up on.
#[derive(Debug)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against when an e-mail is unknown so that a
    /// failed login takes as long whether or not the account exists.
    decoy: String,
    counters: Arc<HashCounters>,
}

/// What the hashing pool did (for `/site/metrics`).
#[derive(Debug, Default)]
pub struct HashCounters {
    /// Hashes and verifications running now.
    pub running: AtomicU64,
    /// The most that ever ran at once (stays at or below the configured bound).
    pub peak: AtomicU64,
    /// Hashes and verifications done.
    pub done: AtomicU64,
    /// Requests refused because every slot was taken.
    pub busy: AtomicU64,
}

/// A slot on the hashing pool. It moves onto the blocking thread and is released when the
/// work ends there, so a client that hangs up mid-login does not free it early.
#[derive(Debug)]
pub struct HashPermit {
    _slot: OwnedSemaphorePermit,
}

impl Passwords {
    /// A pool running at most `max` (at least one) hashes at once.
    pub async fn new(max: usize) -> Result<Self, SiteError> {
        let counters = Arc::new(HashCounters::default());
        let pwd = crate::auth::secret::new_token()?;
        let decoy = run_blocking(counters.clone(), move || hash_now(&pwd, salt()?)).await?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(max.max(1))),
            decoy,
            counters,
        })
    }

    /// A free slot, or `None` (counted as busy) when all are taken.
    pub fn try_permit(&self) -> Option<HashPermit> {
        match self.permits.clone().try_acquire_owned() {
            Ok(slot) => Some(HashPermit { _slot: slot }),
            Err(_) => {
                self.counters.busy.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Hashes a password with a fresh salt.
    pub async fn hash(&self, permit: HashPermit, pwd: String) -> Result<String, SiteError> {
        let salt = salt()?;
        run_blocking(self.counters.clone(), move || {
            let _held = permit;
            hash_now(&pwd, salt)
        })
        .await
    }

    /// Whether `pwd` matches the stored PHC string; with `None` (no such account) it is
    /// checked against the decoy, which never matches, taking as long.
    pub async fn verify(
        &self,
        permit: HashPermit,
        pwd: String,
        phc: Option<String>,
    ) -> Result<bool, SiteError> {
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.decoy.clone());
        let ok = run_blocking(self.counters.clone(), move || {
            let _held = permit;
            verify_now(&pwd, &phc)
        })
        .await?;
        Ok(ok && known)
    }

    /// The pool's counters.
    pub fn counters(&self) -> &HashCounters {
        &self.counters
    }
}

fn salt() -> Result<[u8; 16], SiteError> {
    random_bytes::<16>()
}

/// Runs `work` on the blocking pool, counting it as running meanwhile.
async fn run_blocking<T: Send + 'static>(
    counters: Arc<HashCounters>,
    work: impl FnOnce() -> Result<T, SiteError> + Send + 'static,
) -> Result<T, SiteError> {
    tokio::task::spawn_blocking(move || {
        let now = counters.running.fetch_add(1, Ordering::SeqCst) + 1;
        counters.peak.fetch_max(now, Ordering::SeqCst);
        let out = work();
        counters.running.fetch_sub(1, Ordering::SeqCst);
        counters.done.fetch_add(1, Ordering::Relaxed);
        out
    })
    .await
    .map_err(|e| SiteError::Task(e.to_string()))?
}

fn hash_now(pwd: &str, salt: [u8; 16]) -> Result<String, SiteError> {
    let salt = SaltString::encode_b64(&salt).map_err(|e| SiteError::Password(e.to_string()))?;
    hasher()
        .hash_password(pwd.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| SiteError::Password(e.to_string()))
}

fn verify_now(pwd: &str, phc: &str) -> Result<bool, SiteError> {
    let parsed = PasswordHash::new(phc).map_err(|e| SiteError::Password(e.to_string()))?;
    Ok(hasher().verify_password(pwd.as_bytes(), &parsed).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_and_verify() {
        let p = Passwords::new(1).await.unwrap();
        let h = p
            .hash(p.try_permit().unwrap(), "Correct horse 1".into())
            .await
            .unwrap();
        assert!(h.starts_with("$argon2id$"));
        let permit = p.try_permit().unwrap();
        assert!(p.try_permit().is_none(), "one slot, taken");
        assert!(
            p.verify(permit, "Correct horse 1".into(), Some(h.clone()))
                .await
                .unwrap()
        );
        let permit = p.try_permit().expect("the slot is free again");
        assert!(!p.verify(permit, "wrong".into(), Some(h)).await.unwrap());
        let permit = p.try_permit().unwrap();
        assert!(
            !p.verify(permit, "anything".into(), None).await.unwrap(),
            "the decoy never matches"
        );
        let c = p.counters();
        assert_eq!(c.busy.load(Ordering::Relaxed), 1);
        assert_eq!(c.peak.load(Ordering::Relaxed), 1);
        assert_eq!(
            c.done.load(Ordering::Relaxed),
            5,
            "decoy, hash and three verifications"
        );
    }

    #[test]
    fn weak_passwords() {
        assert!(weakness("short1", "bob", "b@x.org").is_some());
        assert!(weakness("alllowercase", "bob", "b@x.org").is_some());
        assert!(weakness("Bobbybob1", "bobbybob1", "b@x.org").is_some());
        assert!(weakness("aaaaaaa1", "bob", "b@x.org").is_some());
        assert!(weakness("Tr0ub4dor&3", "bob", "b@x.org").is_none());
    }
}
