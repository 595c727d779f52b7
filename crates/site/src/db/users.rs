//! Accounts: sign-up, lookups, passkeys, roles and the totals shown on profiles.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Db, unix_now};
use crate::error::SiteError;

/// An account as the site uses it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct User {
    /// Its id.
    pub id: i64,
    /// The nick as typed at sign-up.
    pub nick: String,
    /// The e-mail address (lowercase).
    pub email: String,
    /// 0 unknown, 1 male, 2 female, as the seed's `sex` integer.
    pub sex: i64,
    /// 32 hex digits; never logged.
    #[serde(skip)]
    pub passkey: String,
    /// Admins may delete torrents and disable users.
    pub is_admin: bool,
    /// A disabled account can neither log in nor announce.
    pub disabled: bool,
    /// Credited upload in bytes.
    pub uploaded: i64,
    /// Counted download in bytes.
    pub downloaded: i64,
    /// Unix seconds.
    pub created_at: i64,
}

/// A new account's fields.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    /// The nick.
    pub nick: &'a str,
    /// The e-mail (lowercased by the caller).
    pub email: &'a str,
    /// The argon2id PHC string.
    pub pwd_hash: &'a str,
    /// The seed's `sex`.
    pub sex: i64,
    /// A fresh passkey.
    pub passkey: &'a str,
}

const COLUMNS: &str = "id, nick, email, sex, passkey, is_admin, disabled, uploaded, downloaded, created_at";

fn from_row(r: &AnyRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: r.try_get(0)?,
        nick: r.try_get(1)?,
        email: r.try_get(2)?,
        sex: r.try_get(3)?,
        passkey: r.try_get(4)?,
        is_admin: r.try_get::<i64, _>(5)? != 0,
        disabled: r.try_get::<i64, _>(6)? != 0,
        uploaded: r.try_get(7)?,
        downloaded: r.try_get(8)?,
        created_at: r.try_get(9)?,
    })
}

/// The key a nick is unique under: `Alice` and `alice` are the same nick.
pub fn nick_key(nick: &str) -> String {
    nick.to_ascii_lowercase()
}

/// Creates an account (never an admin: admins are named by the operator, see
/// [`crate::admin`]). A duplicate nick or e-mail is a unique violation (the caller checks
/// [`super::is_unique_violation`]).
pub async fn insert(db: &Db, u: &NewUser<'_>) -> Result<User, SiteError> {
    let sql = format!(
        "INSERT INTO users (nick, nick_key, email, pwd_hash, sex, passkey, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(u.nick)
        .bind(nick_key(u.nick))
        .bind(u.email)
        .bind(u.pwd_hash)
        .bind(u.sex)
        .bind(u.passkey)
        .bind(unix_now())
        .fetch_one(db.pool())
        .await?;
    Ok(from_row(&row)?)
}

/// Whether a nick (in any case) is taken.
pub async fn nick_taken(db: &Db, nick: &str) -> Result<bool, SiteError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE nick_key = $1")
        .bind(nick_key(nick))
        .fetch_one(db.pool())
        .await?;
    Ok(n > 0)
}

/// Whether an e-mail address is taken.
pub async fn email_taken(db: &Db, email: &str) -> Result<bool, SiteError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(db.pool())
        .await?;
    Ok(n > 0)
}

/// The account with this id.
pub async fn by_id(db: &Db, id: i64) -> Result<Option<User>, SiteError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(db.pool()).await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// The account with this nick (any case).
pub async fn by_nick(db: &Db, nick: &str) -> Result<Option<User>, SiteError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE nick_key = $1");
    let row = sqlx::query(&sql)
        .bind(nick_key(nick))
        .fetch_optional(db.pool())
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// The account and its password hash, for a login.
pub async fn credentials(db: &Db, email: &str) -> Result<Option<(User, String)>, SiteError> {
    let sql = format!("SELECT {COLUMNS}, pwd_hash FROM users WHERE email = $1");
    let Some(row) = sqlx::query(&sql).bind(email).fetch_optional(db.pool()).await? else {
        return Ok(None);
    };
    Ok(Some((from_row(&row)?, row.try_get(10)?)))
}

/// Replaces a user's passkey.
pub async fn set_passkey(db: &Db, id: i64, passkey: &str) -> Result<(), SiteError> {
    sqlx::query("UPDATE users SET passkey = $1 WHERE id = $2")
        .bind(passkey)
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Makes the account with this e-mail an admin, or no longer one; `None` if there is no
/// such account. One statement: nothing to race with.
pub async fn set_admin(db: &Db, email: &str, admin: bool) -> Result<Option<User>, SiteError> {
    let sql = format!("UPDATE users SET is_admin = $1 WHERE email = $2 RETURNING {COLUMNS}");
    let row = sqlx::query(&sql)
        .bind(i64::from(admin))
        .bind(email)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// Enables or disables an account; a disabled one also loses its sessions.
pub async fn set_disabled(db: &Db, id: i64, disabled: bool) -> Result<bool, SiteError> {
    let mut tx = db.pool().begin().await?;
    let done = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
        .bind(i64::from(disabled))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if disabled {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(done.rows_affected() > 0)
}

/// Every account's (id, passkey, disabled), for the tracker's in-memory cache.
pub async fn all_passkeys(db: &Db) -> Result<Vec<(i64, String, bool)>, SiteError> {
    let rows = sqlx::query("SELECT id, passkey, disabled FROM users")
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get::<i64, _>(2)? != 0)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(SiteError::from)
}

/// Accounts in id order, for the admin page.
pub async fn list(db: &Db, limit: i64, offset: i64) -> Result<Vec<User>, SiteError> {
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY id LIMIT $1 OFFSET $2");
    let rows = sqlx::query(&sql)
        .bind(limit)
        .bind(offset)
        .fetch_all(db.pool())
        .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}
