//! Per (user, torrent) traffic, peer state and snatches, written by the accounting flush in
//! one transaction of multi-row statements (Ocelot's model; see [`super::batch`]), and read
//! by profiles and detail pages.

use sqlx::Row;

pub use super::batch::{StatDelta, TorrentDelta, WriteFailure, committed, write_batch};
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

/// A (user, torrent) whose reported upload is more than all the other users together
/// downloaded of that torrent: on a private tracker every peer is a user, so the excess
/// came from nowhere (a client that lies, or a counter gone wrong).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Outlier {
    /// The user.
    pub user_id: i64,
    /// Their nick.
    pub nick: String,
    /// The torrent.
    pub torrent_id: i64,
    /// Its title.
    pub title: String,
    /// Upload the user reported on it (before double upload).
    pub uploaded: i64,
    /// What every other user reported downloading of it (before freeleech).
    pub others_downloaded: i64,
}

/// The (user, torrent) pairs seen since `since` whose upload exceeds the others' download
/// by more than `slack` bytes (reports lag each other by a flush or two), largest excess
/// first. Scans the recent rows: it serves the admin page, not every request.
pub async fn outliers(db: &Db, since: i64, slack: i64, limit: i64) -> Result<Vec<Outlier>, SiteError> {
    let rows = sqlx::query(
        "SELECT ut.user_id, u.nick, ut.torrent_id, t.title, ut.real_uploaded, \
         CAST(d.down - ut.real_downloaded AS BIGINT) \
         FROM user_torrents ut \
         JOIN (SELECT torrent_id, CAST(SUM(real_downloaded) AS BIGINT) AS down FROM user_torrents \
               WHERE torrent_id IN (SELECT torrent_id FROM user_torrents \
                                    WHERE last_seen > $1 AND real_uploaded > $2) \
               GROUP BY torrent_id) d ON d.torrent_id = ut.torrent_id \
         JOIN users u ON u.id = ut.user_id JOIN torrents t ON t.id = ut.torrent_id \
         WHERE ut.last_seen > $1 AND ut.real_uploaded > $2 \
         AND ut.real_uploaded - (d.down - ut.real_downloaded) > $2 \
         ORDER BY ut.real_uploaded - (d.down - ut.real_downloaded) DESC, ut.user_id LIMIT $3",
    )
    .bind(since)
    .bind(slack)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Outlier {
                user_id: r.try_get(0)?,
                nick: r.try_get(1)?,
                torrent_id: r.try_get(2)?,
                title: r.try_get(3)?,
                uploaded: r.try_get(4)?,
                others_downloaded: r.try_get(5)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(SiteError::from)
}
