//! Passwords: argon2id (the RFC 9106 recommended variant) with a random salt, hashed and
//! verified on a blocking thread so that a login never stalls the async workers.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

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

/// Hashes a password (on a blocking thread).
pub async fn hash(pwd: String) -> Result<String, SiteError> {
    let salt = random_bytes::<16>()?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(&salt).map_err(|e| SiteError::Password(e.to_string()))?;
        hasher()
            .hash_password(pwd.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| SiteError::Password(e.to_string()))
    })
    .await
    .map_err(|e| SiteError::Task(e.to_string()))?
}

/// Whether `pwd` matches the stored PHC string (on a blocking thread).
pub async fn verify(pwd: String, phc: String) -> Result<bool, SiteError> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&phc).map_err(|e| SiteError::Password(e.to_string()))?;
        Ok(hasher().verify_password(pwd.as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(|e| SiteError::Task(e.to_string()))?
}

/// A hash of a random password, verified against when an e-mail is unknown so that a
/// failed login takes as long whether or not the account exists.
pub async fn decoy_hash() -> Result<String, SiteError> {
    hash(crate::auth::secret::new_token()?).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_and_verify() {
        let h = hash("Correct horse 1".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("Correct horse 1".into(), h.clone()).await.unwrap());
        assert!(!verify("wrong".into(), h).await.unwrap());
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
