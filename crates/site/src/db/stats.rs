//! Per (user, torrent) traffic, peer state and snatches, written by the accounting flush in
//! one transaction of multi-row statements (Ocelot's model), and read by profiles and
//! detail pages.

use std::collections::BTreeMap;

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, Row};

use super::{Db, unix_now};
use crate::error::SiteError;

/// Peer state of a user on a torrent.
pub mod state {
    /// Not in the swarm (stopped, or never announced).
    pub const GONE: i64 = 0;
    /// Downloading.
    pub const LEECHING: i64 = 1;
    /// Seeding.
    pub const SEEDING: i64 = 2;
}

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
    /// [`state`] after the latest announce.
    pub state: i64,
}

/// What one flush changes on a torrent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TorrentDelta {
    /// The torrent.
    pub torrent_id: i64,
    /// New snatches.
    pub completed: i64,
    /// Live seeders now.
    pub seeders: i64,
    /// Live leechers now.
    pub leechers: i64,
}

/// Rows per multi-row statement (11 parameters each stays far below both databases' limits).
const CHUNK: usize = 400;

fn values_list(rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            s.push_str(&format!("${}", r * cols + c + 1));
        }
        s.push(')');
    }
    s
}

fn bind_all<'q>(mut q: Query<'q, Any, AnyArguments<'q>>, values: &[i64]) -> Query<'q, Any, AnyArguments<'q>> {
    for v in values {
        q = q.bind(*v);
    }
    q
}

/// Writes one flush: per-(user, torrent) upserts, user totals, torrent counts, all in one
/// transaction (all or nothing, so a failed flush can be retried whole).
pub async fn write_batch(db: &Db, rows: &[StatDelta], torrents: &[TorrentDelta]) -> Result<(), SiteError> {
    let now = unix_now();
    let mut tx = db.pool().begin().await?;
    for chunk in rows.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO user_torrents (user_id, torrent_id, uploaded, downloaded, real_uploaded, \
             real_downloaded, snatches, left_bytes, state, last_seen, snatched_at) VALUES {} \
             ON CONFLICT (user_id, torrent_id) DO UPDATE SET \
             uploaded = user_torrents.uploaded + excluded.uploaded, \
             downloaded = user_torrents.downloaded + excluded.downloaded, \
             real_uploaded = user_torrents.real_uploaded + excluded.real_uploaded, \
             real_downloaded = user_torrents.real_downloaded + excluded.real_downloaded, \
             snatches = user_torrents.snatches + excluded.snatches, \
             left_bytes = excluded.left_bytes, state = excluded.state, last_seen = excluded.last_seen, \
             snatched_at = COALESCE(user_torrents.snatched_at, excluded.snatched_at)",
            values_list(chunk.len(), 11)
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = bind_all(
                q,
                &[
                    r.user_id,
                    r.torrent_id,
                    r.uploaded,
                    r.downloaded,
                    r.real_uploaded,
                    r.real_downloaded,
                    r.snatches,
                    r.left,
                    r.state,
                    now,
                ],
            );
            q = q.bind((r.snatches > 0).then_some(now));
        }
        q.execute(&mut *tx).await?;
    }
    let mut per_user: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for r in rows {
        let e = per_user.entry(r.user_id).or_default();
        e.0 = e.0.saturating_add(r.uploaded);
        e.1 = e.1.saturating_add(r.downloaded);
    }
    let users: Vec<[i64; 3]> = per_user.into_iter().map(|(id, (u, d))| [id, u, d]).collect();
    for chunk in users.chunks(CHUNK) {
        let sql = format!(
            "UPDATE users SET uploaded = users.uploaded + v.column2, downloaded = users.downloaded + v.column3 \
             FROM (VALUES {}) AS v WHERE users.id = v.column1",
            values_list(chunk.len(), 3)
        );
        let flat: Vec<i64> = chunk.iter().flatten().copied().collect();
        bind_all(sqlx::query(&sql), &flat).execute(&mut *tx).await?;
    }
    for chunk in torrents.chunks(CHUNK) {
        let sql = format!(
            "UPDATE torrents SET completed = torrents.completed + v.column2, seeders = v.column3, \
             leechers = v.column4 FROM (VALUES {}) AS v WHERE torrents.id = v.column1",
            values_list(chunk.len(), 4)
        );
        let flat: Vec<i64> = chunk
            .iter()
            .flat_map(|t| [t.torrent_id, t.completed, t.seeders, t.leechers])
            .collect();
        bind_all(sqlx::query(&sql), &flat).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A user's activity counts for the profile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Activity {
    /// Torrents being seeded now.
    pub seeding: i64,
    /// Torrents being downloaded now.
    pub leeching: i64,
    /// Torrents completed at least once.
    pub snatched: i64,
}

/// Counts a user's activity; "now" means an announce within `active_secs`.
pub async fn activity(db: &Db, user_id: i64, active_secs: i64) -> Result<Activity, SiteError> {
    let row = sqlx::query(
        "SELECT \
         CAST(COALESCE(SUM(CASE WHEN state = 2 AND last_seen > $2 THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN state = 1 AND last_seen > $2 THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN snatches > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM user_torrents WHERE user_id = $1",
    )
    .bind(user_id)
    .bind(unix_now() - active_secs)
    .fetch_one(db.pool())
    .await?;
    Ok(Activity {
        seeding: row.try_get(0)?,
        leeching: row.try_get(1)?,
        snatched: row.try_get(2)?,
    })
}

/// One line of a user's per-torrent history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserTorrent {
    /// The torrent.
    pub torrent_id: i64,
    /// Its title.
    pub title: String,
    /// Credited upload.
    pub uploaded: i64,
    /// Counted download.
    pub downloaded: i64,
    /// Completed at least once.
    pub snatched: bool,
    /// `seeding`, `leeching` or `inactive`.
    pub state: &'static str,
}

/// A user's torrents, most recently active first.
pub async fn user_torrents(
    db: &Db,
    user_id: i64,
    active_secs: i64,
    limit: i64,
) -> Result<Vec<UserTorrent>, SiteError> {
    let rows = sqlx::query(
        "SELECT ut.torrent_id, t.title, ut.uploaded, ut.downloaded, ut.snatches, \
         CASE WHEN ut.last_seen > $2 THEN ut.state ELSE 0 END \
         FROM user_torrents ut JOIN torrents t ON t.id = ut.torrent_id \
         WHERE ut.user_id = $1 ORDER BY ut.last_seen DESC LIMIT $3",
    )
    .bind(user_id)
    .bind(unix_now() - active_secs)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(UserTorrent {
                torrent_id: r.try_get(0)?,
                title: r.try_get(1)?,
                uploaded: r.try_get(2)?,
                downloaded: r.try_get(3)?,
                snatched: r.try_get::<i64, _>(4)? > 0,
                state: match r.try_get::<i64, _>(5)? {
                    state::SEEDING => "seeding",
                    state::LEECHING => "leeching",
                    _ => "inactive",
                },
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(SiteError::from)
}

/// Nicks of the users seeding a torrent now.
pub async fn seeders_of(
    db: &Db,
    torrent_id: i64,
    active_secs: i64,
    limit: i64,
) -> Result<Vec<String>, SiteError> {
    let nicks = sqlx::query_scalar(
        "SELECT u.nick FROM user_torrents ut JOIN users u ON u.id = ut.user_id \
         WHERE ut.torrent_id = $1 AND ut.state = 2 AND ut.last_seen > $2 ORDER BY u.nick LIMIT $3",
    )
    .bind(torrent_id)
    .bind(unix_now() - active_secs)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(nicks)
}
