//! The database: one [`Db`] over SQLite or PostgreSQL through `sqlx::Any`, with the schema
//! applied from embedded migrations (one dialect each: `migrations/sqlite`,
//! `migrations/postgres`). Queries are written once in the common subset of both dialects:
//! `$N` placeholders, 64-bit integers everywhere, 0/1 integers for flags, aggregates cast
//! to `BIGINT` (PostgreSQL's `SUM` is otherwise `NUMERIC`).
//!
//! - [`users`]: accounts, passkeys, roles, totals.
//! - [`codes`]: e-mailed sign-up codes.
//! - [`sessions`]: login sessions (only a hash of each token is stored).
//! - [`torrents`]: the catalogue.
//! - [`stats`]: per (user, torrent) traffic, peer state and snatches, written by the flush.

pub mod codes;
pub mod sessions;
pub mod stats;
pub mod torrents;
pub mod users;

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Executor};

use crate::error::SiteError;

/// Which database a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    /// An embedded SQLite file (WAL mode).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A connection pool and the dialect behind it.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    kind: DbKind,
}

const SQLITE_INIT: &str = include_str!("../../migrations/sqlite/0001_init.sql");
const POSTGRES_INIT: &str = include_str!("../../migrations/postgres/0001_init.sql");

fn migrator(kind: DbKind) -> Migrator {
    let sql = match kind {
        DbKind::Sqlite => SQLITE_INIT,
        DbKind::Postgres => POSTGRES_INIT,
    };
    let init = Migration::new(
        1,
        Cow::Borrowed("init"),
        MigrationType::Simple,
        Cow::Borrowed(sql),
        false,
    );
    Migrator {
        migrations: Cow::Owned(vec![init]),
        ..Migrator::DEFAULT
    }
}

impl Db {
    /// Connects to `url` (`sqlite://…` or `postgres://…`) with up to `max_connections`.
    /// For PostgreSQL, `schema` (if any) is created and put first on every connection's
    /// `search_path`, so that several sites (or tests) can share one database.
    pub async fn connect(url: &str, max_connections: u32, schema: Option<&str>) -> Result<Self, SiteError> {
        install_default_drivers();
        let kind = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            DbKind::Postgres
        } else if url.starts_with("sqlite:") {
            DbKind::Sqlite
        } else {
            return Err(SiteError::Config(format!(
                "database_url must start with sqlite: or postgres:// (got {:?})",
                url.split(':').next().unwrap_or("")
            )));
        };
        if let Some(s) = schema {
            if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(SiteError::Config(format!("invalid schema name {s:?}")));
            }
        }
        let search_path = schema.map(|s| format!("CREATE SCHEMA IF NOT EXISTS {s}; SET search_path TO {s}"));
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                let init = match (kind, &search_path) {
                    // WAL lets readers run beside the writer; NORMAL sync is safe with WAL
                    // (a crash loses at most the last transactions, never the file).
                    (DbKind::Sqlite, _) => Some(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000"
                            .to_owned(),
                    ),
                    (DbKind::Postgres, Some(sp)) => Some(sp.clone()),
                    (DbKind::Postgres, None) => None,
                };
                Box::pin(async move {
                    if let Some(sql) = init {
                        conn.execute(sql.as_str()).await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        Ok(Self { pool, kind })
    }

    /// Applies the embedded migrations that are not applied yet.
    pub async fn migrate(&self) -> Result<(), SiteError> {
        migrator(self.kind).run(&self.pool).await?;
        Ok(())
    }

    /// The pool, for queries.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// SQLite or PostgreSQL.
    pub fn kind(&self) -> DbKind {
        self.kind
    }

    /// Closes every connection (waits for those in use).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Reads a site setting.
    pub async fn setting(&self, name: &str) -> Result<Option<String>, SiteError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.0))
    }

    /// Stores a setting unless one exists; returns the value in force.
    pub async fn setting_or_insert(&self, name: &str, value: &str) -> Result<String, SiteError> {
        sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(self.setting(name).await?.unwrap_or_else(|| value.to_owned()))
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Whether a database error is a unique-constraint violation (a duplicate nick, e-mail,
/// passkey or info-hash inserted by a concurrent request).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.kind() == sqlx::error::ErrorKind::UniqueViolation
                || db
                    .code()
                    .is_some_and(|c| c == "23505" || c == "2067" || c == "1555")
                || db.message().contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}

/// Converts a byte count for storage (counters never reach 2^63 in practice).
pub fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
