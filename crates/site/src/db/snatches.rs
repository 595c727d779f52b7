//! A snatch counts once per (user, torrent): a client can send `event=completed` again (after
//! a restart, or on purpose), and every one of them used to add to the torrent's count. The
//! flush marks the first snatch of each (user, torrent) by dating it (`snatched_at`, set only
//! where it is still NULL, with the rows that changed returned), and the torrent's count grows
//! by those only. On PostgreSQL two flushes racing for the same row serialise on its lock and
//! the second sees the date already set, so even concurrent instances count it once.

use std::collections::HashMap;

use sqlx::AnyConnection;

use super::batch::{PG_CHUNK, SQLITE_CHUNK, pg_array, sqlite_chunks, sqlite_values};
use crate::error::SiteError;

/// The (user, torrent) pairs of a batch's rows that had a `completed` event.
pub(super) fn completed_pairs(columns: &[[i64; 9]]) -> Vec<[i64; 2]> {
    columns
        .iter()
        .filter(|c| c[6] > 0)
        .map(|c| [c[0], c[1]])
        .collect()
}

/// The torrents' rows with their count increments replaced by their first snatches.
pub(super) fn count_first(torrents: &[[i64; 4]], first: &[i64]) -> Vec<[i64; 4]> {
    let mut per_torrent: HashMap<i64, i64> = HashMap::new();
    for t in first {
        *per_torrent.entry(*t).or_default() += 1;
    }
    torrents
        .iter()
        .map(|t| [t[0], per_torrent.get(&t[0]).copied().unwrap_or(0), t[2], t[3]])
        .collect()
}

/// Dates the first snatch of each pair that has none yet; returns their torrents' ids.
pub(super) async fn mark_first_postgres(
    conn: &mut AnyConnection,
    now: i64,
    pairs: &[[i64; 2]],
) -> Result<Vec<i64>, SiteError> {
    const SQL: &str = "UPDATE user_torrents SET snatched_at = $3 \
         FROM UNNEST($1::BIGINT[], $2::BIGINT[]) AS v(u, t) \
         WHERE user_torrents.user_id = v.u AND user_torrents.torrent_id = v.t \
         AND user_torrents.snatched_at IS NULL RETURNING user_torrents.torrent_id";
    let mut first = Vec::new();
    for chunk in pairs.chunks(PG_CHUNK) {
        let ids: Vec<i64> = sqlx::query_scalar(SQL)
            .bind(pg_array(chunk, 0))
            .bind(pg_array(chunk, 1))
            .bind(now)
            .fetch_all(&mut *conn)
            .await?;
        first.extend(ids);
    }
    Ok(first)
}

/// [`mark_first_postgres`] for SQLite (row values instead of arrays).
pub(super) async fn mark_first_sqlite(
    conn: &mut AnyConnection,
    now: i64,
    pairs: &[[i64; 2]],
) -> Result<Vec<i64>, SiteError> {
    let mut first = Vec::new();
    let mut start = 0;
    for size in sqlite_chunks(pairs.len()) {
        debug_assert!(size <= SQLITE_CHUNK);
        let sql = format!(
            "UPDATE user_torrents SET snatched_at = ? WHERE snatched_at IS NULL \
             AND (user_id, torrent_id) IN (VALUES {}) RETURNING torrent_id",
            sqlite_values(size, "(?, ?)")
        );
        let mut q = sqlx::query_scalar(&sql).bind(now);
        for p in &pairs[start..start + size] {
            q = q.bind(p[0]).bind(p[1]);
        }
        let ids: Vec<i64> = q.fetch_all(&mut *conn).await?;
        first.extend(ids);
        start += size;
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_first_snatches_count() {
        let columns = [
            [1, 10, 0, 0, 0, 0, 2, 0, 2],
            [2, 10, 0, 0, 0, 0, 0, 0, 1],
            [3, 11, 0, 0, 0, 0, 1, 0, 2],
        ];
        assert_eq!(completed_pairs(&columns), vec![[1, 10], [3, 11]]);
        let torrents = [[10, 2, 5, 1], [11, 1, 1, 0], [12, 0, 3, 3]];
        assert_eq!(
            count_first(&torrents, &[10]),
            vec![[10, 1, 5, 1], [11, 0, 1, 0], [12, 0, 3, 3]]
        );
    }
}
