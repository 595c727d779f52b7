//! Login sessions. The cookie carries a random token; only its SHA-256 is stored, so a copy
//! of the database opens no sessions.

use sqlx::Row;

use super::{Db, unix_now};
use crate::error::SiteError;

/// Stores a session for `user_id` under `token_hash`, valid `ttl_secs`.
pub async fn create(db: &Db, token_hash: &str, user_id: i64, ttl_secs: i64) -> Result<(), SiteError> {
    sqlx::query("INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)")
        .bind(token_hash)
        .bind(user_id)
        .bind(unix_now() + ttl_secs)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// The user of a live session.
pub async fn user_of(db: &Db, token_hash: &str) -> Result<Option<i64>, SiteError> {
    let row = sqlx::query("SELECT user_id FROM sessions WHERE token_hash = $1 AND expires_at > $2")
        .bind(token_hash)
        .bind(unix_now())
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// Ends a session.
pub async fn delete(db: &Db, token_hash: &str) -> Result<(), SiteError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Drops expired sessions.
pub async fn purge_expired(db: &Db) -> Result<u64, SiteError> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(unix_now())
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected())
}
