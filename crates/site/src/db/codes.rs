//! Sign-up codes: six digits mailed to an address, valid ten minutes, five tries.

use sqlx::Row;

use super::{Db, unix_now};
use crate::error::SiteError;

/// How long a code is valid, in seconds.
pub const CODE_TTL_SECS: i64 = 600;
/// Wrong guesses allowed before a code is void.
pub const MAX_TRIES: i64 = 5;

/// Why a code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// It matches: the code is consumed.
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

/// Checks a code; a wrong one counts a try, a right one is consumed. `matches` compares in
/// constant time.
pub async fn check(
    db: &Db,
    email: &str,
    code: &str,
    matches: impl Fn(&str, &str) -> bool,
) -> Result<CodeCheck, SiteError> {
    let row = sqlx::query("SELECT code, expires_at, tries FROM signup_codes WHERE email = $1")
        .bind(email)
        .fetch_optional(db.pool())
        .await?;
    let Some(row) = row else {
        return Ok(CodeCheck::Expired);
    };
    let (stored, expires_at, tries): (String, i64, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    if expires_at < unix_now() || tries >= MAX_TRIES {
        return Ok(CodeCheck::Expired);
    }
    if !matches(&stored, code) {
        sqlx::query("UPDATE signup_codes SET tries = tries + 1 WHERE email = $1")
            .bind(email)
            .execute(db.pool())
            .await?;
        return Ok(CodeCheck::Wrong);
    }
    Ok(CodeCheck::Ok)
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
