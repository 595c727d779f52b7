//! The torrent catalogue: insert, look up, delete, promotion flags (browse and search are in
//! [`super::search`]).

use sqlx::Row;
use sqlx::any::AnyRow;

pub use super::search::{COUNT_CAP, ListPage, ListQuery, Sort, list};
use super::{Db, to_i64, unix_now};
use crate::error::SiteError;

/// One torrent as lists and detail pages show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TorrentRow {
    /// Its id.
    pub id: i64,
    /// Hex SHA-1 of the stored (rewritten) info dictionary.
    pub info_hash: String,
    /// `info.name`.
    pub name: String,
    /// The uploader's title.
    pub title: String,
    /// The category (`type` at upload).
    pub category: String,
    /// Labels, comma separated.
    pub labels: String,
    /// Total bytes of the files.
    pub size: i64,
    /// Number of files.
    pub file_count: i64,
    /// The uploader's id.
    pub uploader_id: i64,
    /// The uploader's nick.
    pub uploader: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Downloads do not count against ratio.
    pub freeleech: bool,
    /// Uploads count twice.
    pub double_upload: bool,
    /// Seeders at the last flush.
    pub seeders: i64,
    /// Leechers at the last flush.
    pub leechers: i64,
    /// Completed downloads (snatches).
    pub completed: i64,
}

/// A new catalogue entry.
#[derive(Debug, Clone)]
pub struct NewTorrent<'a> {
    /// Hex info-hash of `info`.
    pub info_hash: &'a str,
    /// The rewritten info dictionary, exactly as served in downloads.
    pub info: &'a [u8],
    /// `info.name`.
    pub name: &'a str,
    /// Title.
    pub title: &'a str,
    /// Category.
    pub category: &'a str,
    /// Labels, comma separated.
    pub labels: &'a str,
    /// Description.
    pub description: &'a str,
    /// Total size.
    pub size: u64,
    /// Files as JSON `[[path, length], …]`.
    pub files_json: &'a str,
    /// Number of files.
    pub file_count: usize,
    /// Uploader.
    pub uploader_id: i64,
}

/// The columns [`summary`] reads, from `torrents t JOIN users u`.
pub(crate) const SUMMARY: &str = "t.id, t.info_hash, t.name, t.title, t.category, t.labels, t.size, t.file_count, \
     t.uploader_id, u.nick, t.created_at, t.freeleech, t.double_upload, t.seeders, t.leechers, t.completed";

/// A [`TorrentRow`] from the [`SUMMARY`] columns.
pub(crate) fn summary(r: &AnyRow) -> Result<TorrentRow, sqlx::Error> {
    Ok(TorrentRow {
        id: r.try_get(0)?,
        info_hash: r.try_get(1)?,
        name: r.try_get(2)?,
        title: r.try_get(3)?,
        category: r.try_get(4)?,
        labels: r.try_get(5)?,
        size: r.try_get(6)?,
        file_count: r.try_get(7)?,
        uploader_id: r.try_get(8)?,
        uploader: r.try_get(9)?,
        created_at: r.try_get(10)?,
        freeleech: r.try_get::<i64, _>(11)? != 0,
        double_upload: r.try_get::<i64, _>(12)? != 0,
        seeders: r.try_get(13)?,
        leechers: r.try_get(14)?,
        completed: r.try_get(15)?,
    })
}

/// Lowercase text searched by [`list`] (triggers copy it into the search indexes).
pub fn search_text(title: &str, name: &str, labels: &str, category: &str) -> String {
    format!("{title} {name} {labels} {category}").to_lowercase()
}

/// Adds a torrent; a duplicate info-hash is a unique violation.
pub async fn insert(db: &Db, t: &NewTorrent<'_>) -> Result<i64, SiteError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO torrents (info_hash, info, name, title, category, labels, description, search, \
         size, file_count, files, uploader_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
    )
    .bind(t.info_hash)
    .bind(t.info)
    .bind(t.name)
    .bind(t.title)
    .bind(t.category)
    .bind(t.labels)
    .bind(t.description)
    .bind(search_text(t.title, t.name, t.labels, t.category))
    .bind(to_i64(t.size))
    .bind(to_i64(t.file_count as u64))
    .bind(t.files_json)
    .bind(t.uploader_id)
    .bind(unix_now())
    .fetch_one(db.pool())
    .await?;
    Ok(id)
}

/// The id of the torrent with this info-hash.
pub async fn id_by_hash(db: &Db, info_hash: &str) -> Result<Option<i64>, SiteError> {
    let id = sqlx::query_scalar("SELECT id FROM torrents WHERE info_hash = $1")
        .bind(info_hash)
        .fetch_optional(db.pool())
        .await?;
    Ok(id)
}

/// One torrent's summary.
pub async fn by_id(db: &Db, id: i64) -> Result<Option<TorrentRow>, SiteError> {
    let sql =
        format!("SELECT {SUMMARY} FROM torrents t JOIN users u ON u.id = t.uploader_id WHERE t.id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(db.pool()).await?;
    Ok(row.as_ref().map(summary).transpose()?)
}

/// The description and the file list (JSON) of a torrent.
pub async fn details(db: &Db, id: i64) -> Result<Option<(String, String)>, SiteError> {
    let row = sqlx::query("SELECT description, files FROM torrents WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row
        .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
        .transpose()?)
}

/// The stored info bytes and name, for a download.
pub async fn info_bytes(db: &Db, id: i64) -> Result<Option<(Vec<u8>, String)>, SiteError> {
    let row = sqlx::query("SELECT info, name FROM torrents WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row
        .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
        .transpose()?)
}

/// Deletes a torrent (its per-user stats go with it); false if there was none.
pub async fn delete(db: &Db, id: i64) -> Result<Option<String>, SiteError> {
    let mut tx = db.pool().begin().await?;
    sqlx::query("DELETE FROM user_torrents WHERE torrent_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let hash: Option<String> = sqlx::query_scalar("DELETE FROM torrents WHERE id = $1 RETURNING info_hash")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(hash)
}

/// Sets the promotion flags of a torrent.
pub async fn set_flags(db: &Db, id: i64, freeleech: bool, double_upload: bool) -> Result<bool, SiteError> {
    let done = sqlx::query("UPDATE torrents SET freeleech = $1, double_upload = $2 WHERE id = $3")
        .bind(i64::from(freeleech))
        .bind(i64::from(double_upload))
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Every torrent's (id, hex info-hash, freeleech, double upload), for the tracker's cache.
pub async fn all_registered(db: &Db) -> Result<Vec<(i64, String, bool, bool)>, SiteError> {
    let rows = sqlx::query("SELECT id, info_hash, freeleech, double_upload FROM torrents")
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get::<i64, _>(2)? != 0,
                r.try_get::<i64, _>(3)? != 0,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(SiteError::from)
}
