//! The accounting flush's writes: per-(user, torrent) upserts, user totals and torrent
//! counts, in one transaction, each table with as few statements as its database allows.
//!
//! - PostgreSQL: one statement per table and per 20,000 rows, the rows passed as one
//!   array per column (`UNNEST($1::BIGINT[], …)`; `sqlx::Any` binds no arrays, so each is
//!   sent as its text form `{1,2,…}`). A few parameters instead of thousands: nothing to plan
//!   per row, and the statement text never changes, so it is prepared once.
//! - SQLite: multi-row `VALUES` lists of `?` (runs in-process, so statement count costs
//!   little; SQLite has no arrays). Chunks are powers of two, so at most a dozen statement
//!   texts exist and all stay in the prepared-statement cache.
//!
//! Rows go in key order, so that the B-tree pages of one statement are neighbours. A torrent's
//! snatch count grows only by the users whose first `completed` this is ([`super::snatches`]).

use std::fmt::Write as _;

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, Row};

use super::{Db, DbKind, snatches, unix_now};
use crate::error::SiteError;

/// What one flush adds for one (user, torrent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatDelta {
    /// The user.
    pub user_id: i64,
    /// The torrent.
    pub torrent_id: i64,
    /// Credited upload (after double-upload).
    pub uploaded: i64,
    /// Counted download (after freeleech).
    pub downloaded: i64,
    /// Upload as reported.
    pub real_uploaded: i64,
    /// Download as reported.
    pub real_downloaded: i64,
    /// `completed` events.
    pub snatches: i64,
    /// Bytes left at the latest announce.
    pub left: i64,
    /// [`state`](super::stats::state) after the latest announce.
    pub state: i64,
}

impl StatDelta {
    /// The values in the order of the statements' columns (the key first).
    fn columns(&self) -> [i64; 9] {
        [
            self.user_id,
            self.torrent_id,
            self.uploaded,
            self.downloaded,
            self.real_uploaded,
            self.real_downloaded,
            self.snatches,
            self.left,
            self.state,
        ]
    }
}

/// What one flush changes on a torrent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TorrentDelta {
    /// The torrent.
    pub torrent_id: i64,
    /// `completed` events in the batch (a hint: the write counts only the users who had
    /// never completed the torrent before).
    pub completed: i64,
    /// Live seeders now.
    pub seeders: i64,
    /// Live leechers now.
    pub leechers: i64,
}

/// Rows per PostgreSQL statement (bounds the size of one parameter, not the statement count).
pub(super) const PG_CHUNK: usize = 20_000;
/// Largest SQLite chunk: 1024 rows of 10 parameters stay below SQLite's 32766.
pub(super) const SQLITE_CHUNK: usize = 1024;

const UPSERT_SET: &str = "ON CONFLICT (user_id, torrent_id) DO UPDATE SET \
     uploaded = user_torrents.uploaded + excluded.uploaded, \
     downloaded = user_torrents.downloaded + excluded.downloaded, \
     real_uploaded = user_torrents.real_uploaded + excluded.real_uploaded, \
     real_downloaded = user_torrents.real_downloaded + excluded.real_downloaded, \
     snatches = user_torrents.snatches + excluded.snatches, \
     left_bytes = excluded.left_bytes, state = excluded.state, last_seen = excluded.last_seen";

const UPSERT_COLUMNS: &str = "INSERT INTO user_torrents (user_id, torrent_id, uploaded, downloaded, \
     real_uploaded, real_downloaded, snatches, left_bytes, state, last_seen)";

/// A counts update that leaves a torrent's row alone when nothing changed (an update that
/// writes the same values still writes a new row version and its index entries).
const TORRENTS_SET: &str = "UPDATE torrents SET completed = torrents.completed + v.c, seeders = v.s, \
     leechers = v.l FROM {SOURCE} WHERE torrents.id = v.id \
     AND (v.c <> 0 OR torrents.seeders <> v.s OR torrents.leechers <> v.l)";

const USERS_SET: &str = "UPDATE users SET uploaded = users.uploaded + v.up, \
     downloaded = users.downloaded + v.down FROM {SOURCE} WHERE users.id = v.id";

/// Writes one flush: per-(user, torrent) upserts, user totals, torrent counts, all in one
/// transaction (all or nothing, so a failed flush can be retried whole).
/// Seconds a flush mark is kept: far longer than any retry waits.
const MARK_KEEP_SECS: i64 = 24 * 3600;

/// How a batch failed to be written.
#[derive(Debug)]
pub enum WriteFailure {
    /// Nothing was committed: the batch may simply be written again.
    RolledBack(SiteError),
    /// COMMIT got no answer: the batch may or may not be in; [`committed`] tells, by its mark.
    Unknown(SiteError),
}

impl WriteFailure {
    /// The underlying error.
    pub fn into_error(self) -> SiteError {
        match self {
            Self::RolledBack(e) | Self::Unknown(e) => e,
        }
    }
}

/// Whether the flush that wrote `mark` committed.
pub async fn committed(db: &Db, mark: i64) -> Result<bool, SiteError> {
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM flush_marks WHERE id = $1")
        .bind(mark)
        .fetch_one(db.pool())
        .await?
        .try_get(0)?;
    Ok(n > 0)
}

/// Writes one batch in one transaction, with `mark` (a random id) recorded in it.
pub async fn write_batch(
    db: &Db,
    rows: &[StatDelta],
    torrents: &[TorrentDelta],
    mark: i64,
) -> Result<(), WriteFailure> {
    let mut columns: Vec<[i64; 9]> = rows.iter().map(StatDelta::columns).collect();
    columns.sort_unstable();
    // Sorted by user: each user's rows are one run.
    let mut users: Vec<[i64; 3]> = Vec::new();
    for c in &columns {
        match users.last_mut() {
            Some(u) if u[0] == c[0] => {
                u[1] = u[1].saturating_add(c[2]);
                u[2] = u[2].saturating_add(c[3]);
            }
            _ => users.push([c[0], c[2], c[3]]),
        }
    }
    users.retain(|u| u[1] != 0 || u[2] != 0);
    let mut torrents: Vec<[i64; 4]> = torrents
        .iter()
        .map(|t| [t.torrent_id, t.completed, t.seeders, t.leechers])
        .collect();
    torrents.sort_unstable();
    let now = unix_now();
    let rolled_back = |e: SiteError| WriteFailure::RolledBack(e);
    let mut tx = db.pool().begin().await.map_err(|e| rolled_back(e.into()))?;
    let statements = async {
        match db.kind() {
            DbKind::Postgres => postgres(&mut tx, now, &columns, &users, &torrents).await?,
            DbKind::Sqlite => sqlite(&mut tx, now, &columns, &users, &torrents).await?,
        }
        sqlx::query("INSERT INTO flush_marks (id, at) VALUES ($1, $2)")
            .bind(mark)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM flush_marks WHERE at < $1")
            .bind(now - MARK_KEEP_SECS)
            .execute(&mut *tx)
            .await?;
        Ok::<(), SiteError>(())
    };
    statements.await.map_err(rolled_back)?;
    tx.commit().await.map_err(|e| WriteFailure::Unknown(e.into()))
}

/// `{a,b,…}`: a PostgreSQL array literal of column `col` of `rows`.
pub(super) fn pg_array<const N: usize>(rows: &[[i64; N]], col: usize) -> String {
    let mut s = String::with_capacity(rows.len() * 8 + 2);
    s.push('{');
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{}", r[col]);
    }
    s.push('}');
    s
}

/// `UNNEST($1::BIGINT[], …, $n::BIGINT[]) AS v(names…)`.
fn pg_unnest(names: &[&str]) -> String {
    let arrays: Vec<String> = (1..=names.len()).map(|i| format!("${i}::BIGINT[]")).collect();
    format!("UNNEST({}) AS v({})", arrays.join(", "), names.join(", "))
}

fn bind_arrays<'q, const N: usize>(
    mut q: Query<'q, Any, AnyArguments<'q>>,
    rows: &[[i64; N]],
) -> Query<'q, Any, AnyArguments<'q>> {
    for col in 0..N {
        q = q.bind(pg_array(rows, col));
    }
    q
}

async fn postgres(
    conn: &mut AnyConnection,
    now: i64,
    columns: &[[i64; 9]],
    users: &[[i64; 3]],
    torrents: &[[i64; 4]],
) -> Result<(), SiteError> {
    let upsert = format!(
        "{UPSERT_COLUMNS} SELECT u, t, up, down, rup, rdown, sn, lb, st, $10 FROM {} {UPSERT_SET}",
        pg_unnest(&["u", "t", "up", "down", "rup", "rdown", "sn", "lb", "st"])
    );
    for chunk in columns.chunks(PG_CHUNK) {
        bind_arrays(sqlx::query(&upsert), chunk)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    }
    let first = snatches::mark_first_postgres(conn, now, &snatches::completed_pairs(columns)).await?;
    let torrents = snatches::count_first(torrents, &first);
    let users_sql = USERS_SET.replace("{SOURCE}", &pg_unnest(&["id", "up", "down"]));
    for chunk in users.chunks(PG_CHUNK) {
        bind_arrays(sqlx::query(&users_sql), chunk)
            .execute(&mut *conn)
            .await?;
    }
    let torrents_sql = TORRENTS_SET.replace("{SOURCE}", &pg_unnest(&["id", "c", "s", "l"]));
    for chunk in torrents.chunks(PG_CHUNK) {
        bind_arrays(sqlx::query(&torrents_sql), chunk)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Splits `n` rows into chunks of [`SQLITE_CHUNK`], then powers of two.
pub(super) fn sqlite_chunks(mut n: usize) -> Vec<usize> {
    let mut sizes = Vec::new();
    while n > 0 {
        let size = if n >= SQLITE_CHUNK {
            SQLITE_CHUNK
        } else {
            1 << n.ilog2()
        };
        sizes.push(size);
        n -= size;
    }
    sizes
}

/// `row, row, …`: a row is `(?, ?, …)` of positional parameters, which SQLite binds by index
/// (sqlx looks each numbered `$N` up by name in a linear list: quadratic over thousands).
pub(super) fn sqlite_values(rows: usize, row: &str) -> String {
    vec![row; rows].join(", ")
}

/// `(?, ?, …)` with `n` parameters.
fn sqlite_row(n: usize) -> String {
    format!("({})", vec!["?"; n].join(", "))
}

/// Runs `sql(values)` over `rows` in chunks, binding each row's values in order.
async fn sqlite_each<const N: usize>(
    conn: &mut AnyConnection,
    rows: &[[i64; N]],
    row: &str,
    sql: impl Fn(&str) -> String,
) -> Result<(), SiteError> {
    let mut start = 0;
    let mut texts: Vec<(usize, String)> = Vec::new();
    for size in sqlite_chunks(rows.len()) {
        if !texts.iter().any(|(s, _)| *s == size) {
            texts.push((size, sql(&sqlite_values(size, row))));
        }
        let text = texts
            .iter()
            .find(|(s, _)| *s == size)
            .map_or("", |(_, t)| t.as_str());
        let mut q = sqlx::query(text);
        for r in &rows[start..start + size] {
            for v in r {
                q = q.bind(*v);
            }
        }
        q.execute(&mut *conn).await?;
        start += size;
    }
    Ok(())
}

async fn sqlite(
    conn: &mut AnyConnection,
    now: i64,
    columns: &[[i64; 9]],
    users: &[[i64; 3]],
    torrents: &[[i64; 4]],
) -> Result<(), SiteError> {
    // A plain VALUES list (a SELECT over it costs a quarter more per row): the nine columns
    // and last_seen.
    let rows: Vec<[i64; 10]> = columns
        .iter()
        .map(|c| [c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], now])
        .collect();
    sqlite_each(conn, &rows, &sqlite_row(10), |values| {
        format!("{UPSERT_COLUMNS} VALUES {values} {UPSERT_SET}")
    })
    .await?;
    let first = snatches::mark_first_sqlite(conn, now, &snatches::completed_pairs(columns)).await?;
    let torrents = snatches::count_first(torrents, &first);
    sqlite_each(conn, users, &sqlite_row(3), |values| {
        USERS_SET.replace(
            "{SOURCE}",
            &format!("(SELECT column1 AS id, column2 AS up, column3 AS down FROM (VALUES {values})) AS v"),
        )
    })
    .await?;
    sqlite_each(conn, &torrents, &sqlite_row(4), |values| {
        TORRENTS_SET.replace(
            "{SOURCE}",
            &format!(
                "(SELECT column1 AS id, column2 AS c, column3 AS s, column4 AS l FROM (VALUES {values})) AS v"
            ),
        )
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_few_sizes_and_cover_every_row() {
        for n in [0, 1, 2, 3, 1023, 1024, 1025, 5000, 90_001] {
            let sizes = sqlite_chunks(n);
            assert_eq!(sizes.iter().sum::<usize>(), n);
            assert!(sizes.iter().all(|s| s.is_power_of_two() && *s <= SQLITE_CHUNK));
        }
    }

    #[test]
    fn literals() {
        assert_eq!(pg_array(&[[1, -2], [3, 4]], 1), "{-2,4}");
        assert_eq!(pg_array::<2>(&[], 0), "{}");
        assert_eq!(sqlite_values(2, &sqlite_row(2)), "(?, ?), (?, ?)");
        assert_eq!(
            pg_unnest(&["a", "b"]),
            "UNNEST($1::BIGINT[], $2::BIGINT[]) AS v(a, b)"
        );
    }
}
