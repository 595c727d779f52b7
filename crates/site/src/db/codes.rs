//! Sign-up codes: six digits mailed to an address, valid ten minutes, five tries.

use super::{Db, unix_now};
use crate::error::SiteError;

/// How long a code is valid, in seconds.
pub const CODE_TTL_SECS: i64 = 600;
/// Wrong guesses allowed before a code is void.
pub const MAX_TRIES: i64 = 5;

/// Why a code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// It matches (the caller consumes it once the account exists).
    Ok,
    /// No code was sent to this address, or it expired or was used up.
    Expired,
    /// It does not match (a try is counted).
    Wrong,
}

/// Stores a fresh code for `email`, replacing any earlier one.
pub async fn put(db: &Db, email: &str, code: &str) -> Result<(), SiteError> {
    sqlx::query(
        "INSERT INTO signup_codes (email, code, expires_at, tries) VALUES ($1, $2, $3, 0) \
         ON CONFLICT (email) DO UPDATE SET code = excluded.code, expires_at = excluded.expires_at, tries = 0",
    )
    .bind(email)
    .bind(code)
    .bind(unix_now() + CODE_TTL_SECS)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Checks a code, counting a try whether or not it matches (a right one is consumed by the
/// caller once the account exists). `matches` compares in constant time.
///
/// The try is counted and the code read in one statement, so parallel guesses each use up a
/// try of their own and none gets past the last: reading, comparing and counting in three
/// steps let every guess in flight read the same count.
pub async fn check(
    db: &Db,
    email: &str,
    code: &str,
    matches: impl Fn(&str, &str) -> bool,
) -> Result<CodeCheck, SiteError> {
    let stored: Option<String> = sqlx::query_scalar(
        "UPDATE signup_codes SET tries = tries + 1 \
         WHERE email = $1 AND expires_at >= $2 AND tries < $3 RETURNING code",
    )
    .bind(email)
    .bind(unix_now())
    .bind(MAX_TRIES)
    .fetch_optional(db.pool())
    .await?;
    Ok(match stored {
        None => CodeCheck::Expired,
        Some(stored) if matches(&stored, code) => CodeCheck::Ok,
        Some(_) => CodeCheck::Wrong,
    })
}

/// Forgets the code of an address (after a successful sign-up).
pub async fn consume(db: &Db, email: &str) -> Result<(), SiteError> {
    sqlx::query("DELETE FROM signup_codes WHERE email = $1")
        .bind(email)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Drops expired codes.
pub async fn purge_expired(db: &Db) -> Result<u64, SiteError> {
    let done = sqlx::query("DELETE FROM signup_codes WHERE expires_at < $1")
        .bind(unix_now())
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected())
}
