//! The database: one [`Db`] over SQLite or PostgreSQL through `sqlx::Any`, with the schema
//! applied from embedded migrations (one dialect each: `migrations/sqlite`,
//! `migrations/postgres`). Queries are written once in the common subset of both dialects:
//! `$N` placeholders, 64-bit integers everywhere, 0/1 integers for flags, aggregates cast
//! to `BIGINT` (PostgreSQL's `SUM` is otherwise `NUMERIC`).
//!
//! - [`users`]: accounts, passkeys, roles, totals.
//! - [`codes`]: e-mailed sign-up codes.
//! - [`sessions`]: login sessions (only a hash of each token is stored).
//! - [`torrents`]: the catalogue; [`search`]: browsing and searching it.
//! - [`stats`]: per (user, torrent) traffic, peer state and snatches, written by the flush
//!   through [`batch`] (a snatch counted once per user: [`snatches`]), and the traffic
//!   outliers shown to admins.

pub mod batch;
pub mod codes;
pub mod search;
pub mod sessions;
pub mod snatches;
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
    /// The PostgreSQL URL, for a LISTEN connection beside the pool (None for SQLite).
    listen_url: Option<std::sync::Arc<str>>,
}

/// The migrations of each dialect, in order: (version, description, SQLite, PostgreSQL).
/// Applied files are never edited (deployed databases check their checksums): a change is
/// a new file.
const MIGRATIONS: [(i64, &str, &str, &str); 4] = [
    (
        1,
        "init",
        include_str!("../../migrations/sqlite/0001_init.sql"),
        include_str!("../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "catalogue search",
        include_str!("../../migrations/sqlite/0002_catalogue_search.sql"),
        include_str!("../../migrations/postgres/0002_catalogue_search.sql"),
    ),
    (
        3,
        "flush marks",
        include_str!("../../migrations/sqlite/0003_flush_marks.sql"),
        include_str!("../../migrations/postgres/0003_flush_marks.sql"),
    ),
    (
        4,
        "snatches once per user",
        include_str!("../../migrations/sqlite/0004_snatch_once.sql"),
        include_str!("../../migrations/postgres/0004_snatch_once.sql"),
    ),
];

fn migrator(kind: DbKind) -> Migrator {
    let migrations = MIGRATIONS
        .iter()
        .map(|&(version, description, sqlite, postgres)| {
            let sql = match kind {
                DbKind::Sqlite => sqlite,
                DbKind::Postgres => postgres,
            };
            Migration::new(
                version,
                Cow::Borrowed(description),
                MigrationType::Simple,
                Cow::Borrowed(sql),
                false,
            )
        })
        .collect();
    Migrator {
        migrations: Cow::Owned(migrations),
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
            // A database that is down answers pages with an error in seconds, not after half a minute.
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |conn, _meta| {
                let init = match (kind, &search_path) {
                    // WAL lets readers run beside the writer; NORMAL sync is safe with WAL
                    // (a crash loses at most the last transactions, never the file). Pages
                    // are read through a memory map and a 16 MiB cache rather than one
                    // pread each: a flush touches thousands of B-tree pages at random.
                    // Checkpoints every 32 MiB of WAL rather than 4 MiB: flushes rewrite
                    // the same pages, and a checkpoint copies each page once.
                    (DbKind::Sqlite, _) => Some(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                         PRAGMA cache_size = -16384; PRAGMA mmap_size = 1073741824; \
                         PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 8192"
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
        let listen_url = (kind == DbKind::Postgres).then(|| url.into());
        Ok(Self {
            pool,
            kind,
            listen_url,
        })
    }

    /// Applies the embedded migrations that are not applied yet.
    pub async fn migrate(&self) -> Result<(), SiteError> {
        migrator(self.kind).run(&self.pool).await?;
        Ok(())
    }

    /// The URL a LISTEN connection needs (PostgreSQL only; it may hold a password, so it
    /// is never logged).
    pub fn listen_url(&self) -> Option<&str> {
        self.listen_url.as_deref()
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::db::torrents::{ListQuery, list};

    /// A database of the first schema, with data, takes the later migrations: its torrents
    /// are searchable and counted, its accounting rows kept.
    async fn upgrade(db: &Db) {
        let mut first = migrator(db.kind());
        first.migrations = Cow::Owned(first.migrations[..1].to_vec());
        first.run(db.pool()).await.unwrap();
        sqlx::query(
            "INSERT INTO users (nick, nick_key, email, pwd_hash, passkey, created_at) \
             VALUES ('old', 'old', 'old@x', 'h', 'pk', 0)",
        )
        .execute(db.pool())
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO torrents (info_hash, info, name, title, category, labels, description, search, \
             size, file_count, files, uploader_id, created_at) VALUES \
             ('aa', $1, 'n', 'Old Crème', 'movie', '', '', 'old crème n movie', 1, 1, '[]', 1, 0), \
             ('bb', $1, 'm', 'Other', 'tv', '', '', 'other m tv', 1, 1, '[]', 1, 0)",
        )
        .bind(b"de".to_vec())
        .execute(db.pool())
        .await
        .unwrap();
        sqlx::query("INSERT INTO user_torrents (user_id, torrent_id, uploaded, state, last_seen) VALUES (1, 1, 7, 2, 0)")
            .execute(db.pool())
            .await
            .unwrap();
        db.migrate().await.unwrap();
        let search = |q: &str| ListQuery {
            q: q.into(),
            page: 1,
            per_page: 10,
            ..ListQuery::default()
        };
        let found = list(db, &search("crème")).await.unwrap();
        assert_eq!(found.rows.len(), 1);
        assert_eq!(found.rows[0].title, "Old Crème");
        assert_eq!(list(db, &search("")).await.unwrap().total, 2);
        let kept: i64 =
            sqlx::query_scalar("SELECT uploaded FROM user_torrents WHERE user_id = 1 AND torrent_id = 1")
                .fetch_one(db.pool())
                .await
                .unwrap();
        assert_eq!(kept, 7);
        // Migrating again is a no-op.
        db.migrate().await.unwrap();
    }

    #[tokio::test]
    async fn upgrade_sqlite() {
        let dir = testkit::TempDir::new("migrate");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display());
        let db = Db::connect(&url, 1, None).await.unwrap();
        upgrade(&db).await;
        db.close().await;
    }

    #[tokio::test]
    async fn upgrade_postgres() {
        let Ok(url) = std::env::var("NEXSUJ_TEST_PG") else {
            eprintln!("db::tests::upgrade_postgres: skipped: NEXSUJ_TEST_PG not set");
            return;
        };
        let schema = format!("m{}_{}", std::process::id(), unix_now() % 100_000);
        let db = Db::connect(&url, 1, Some(&schema)).await.unwrap();
        upgrade(&db).await;
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(db.pool())
            .await
            .unwrap();
        db.close().await;
    }
}
