//! Browse and search: one page of the catalogue, filtered by words and category, in date,
//! size or seeders order.
//!
//! A word matches anywhere in a torrent's search text (title, name, labels, category,
//! lowercased), `%`, `_` and quotes included, found through an index on both databases:
//! SQLite's FTS5 `trigram` table `torrents_fts`, PostgreSQL's `pg_trgm` GIN index on
//! `torrent_search` (both kept in step by triggers; see migration 0002). Trigrams need words
//! of three characters or more: shorter ones are checked on the rows the others selected
//! (or, alone, on the rows in list order until the page is full).
//!
//! Counts never scan the catalogue: browsing reads `torrent_counts` (kept by triggers), a
//! search counts its matches up to [`COUNT_CAP`] and says when there are more.

use sqlx::Row;

use super::torrents::{SUMMARY, TorrentRow, summary};
use super::{Db, DbKind};
use crate::error::SiteError;

/// How a list is ordered (always newest first among equals).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Upload date.
    #[default]
    Date,
    /// Total size.
    Size,
    /// Seeders.
    Seeders,
}

/// A browse or search request.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Words that must all appear in the title, name, labels or category.
    pub q: String,
    /// Only this category.
    pub category: Option<String>,
    /// Order.
    pub sort: Sort,
    /// Ascending instead of descending.
    pub ascending: bool,
    /// 1-based page.
    pub page: u32,
    /// Rows per page.
    pub per_page: u32,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage {
    /// The rows of the page.
    pub rows: Vec<TorrentRow>,
    /// Torrents matched: exact, or [`COUNT_CAP`] (or the rows seen so far, if more) when
    /// `exact` is false.
    pub total: i64,
    /// Whether `total` is the exact count.
    pub exact: bool,
    /// Whether a next page has rows.
    pub has_next: bool,
}

/// Searches count their matches up to this many (ten pages of the default size): a common
/// word's count costs as much as reading this many matches, on every page view.
pub const COUNT_CAP: i64 = 500;

/// Most words of a query that are used.
const MAX_WORDS: usize = 8;

/// Fewest characters a word needs to be found through the trigram indexes.
const TRIGRAM: usize = 3;

/// The distinct lowercase words of a query.
fn words(q: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in q.to_lowercase().split_whitespace() {
        if out.len() == MAX_WORDS {
            break;
        }
        if !out.iter().any(|o| o == w) {
            out.push(w.to_owned());
        }
    }
    out
}

/// `"w1" "w2"`: an FTS5 query of phrases (all required); within a phrase every character is
/// literal except `"`, written twice.
fn fts_query(words: &[&String]) -> String {
    let phrases: Vec<String> = words
        .iter()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    phrases.join(" ")
}

/// `%word%` for LIKE with `\` as the escape character.
fn like_pattern(word: &str) -> String {
    let mut p = String::with_capacity(word.len() + 2);
    p.push('%');
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The `FROM … WHERE …` of a list, and of its count (which may leave out tables the rows
/// need), with their parameters (all text; the same numbering in both).
struct Filter {
    /// A `WITH` clause the rows query starts with.
    with: String,
    from: String,
    condition: String,
    count_from: String,
    count_condition: String,
    params: Vec<String>,
    /// The FTS5 table drives the query (its rowid order is the date order).
    fts: bool,
    /// There are words to match (else the count comes from `torrent_counts`).
    searching: bool,
}

impl Filter {
    fn new(kind: DbKind, q: &ListQuery) -> Self {
        let words = words(&q.q);
        let mut f = Self {
            with: String::new(),
            from: "torrents t".into(),
            condition: "1 = 1".into(),
            count_from: String::new(),
            count_condition: String::new(),
            params: Vec::new(),
            fts: false,
            searching: !words.is_empty(),
        };
        match kind {
            DbKind::Sqlite => {
                let (long, short): (Vec<&String>, Vec<&String>) =
                    words.iter().partition(|w| w.chars().count() >= TRIGRAM);
                if !long.is_empty() {
                    f.fts = true;
                    // CROSS JOIN keeps the index outermost: SQLite would otherwise walk an
                    // order's index and run the full-text query once per row.
                    f.from = "torrents_fts f CROSS JOIN torrents t ON t.id = f.rowid".into();
                    f.push("f.torrents_fts MATCH $?", fts_query(&long));
                    if short.is_empty() && q.category.is_none() {
                        f.count_from = "torrents_fts f".into();
                        f.count_condition = f.condition.clone();
                    }
                }
                for w in short {
                    f.push("instr(t.search, $?) > 0", w.clone());
                }
                if let Some(c) = &q.category {
                    f.push("t.category = $?", c.clone());
                }
            }
            DbKind::Postgres if f.searching => {
                // torrent_search holds the category too: a search and its count stay in it.
                let mut inner: Vec<String> = words
                    .iter()
                    .map(|w| {
                        f.params.push(like_pattern(w));
                        format!("s.search LIKE ${} ESCAPE '\\'", f.params.len())
                    })
                    .collect();
                if let Some(c) = &q.category {
                    f.params.push(c.clone());
                    inner.push(format!("s.category = ${}", f.params.len()));
                }
                f.count_from = "torrent_search s".into();
                f.count_condition = inner.join(" AND ");
                if q.sort == Sort::Date {
                    // Walking the date order and checking each row stops at a full page.
                    f.condition = format!(
                        "t.id IN (SELECT s.torrent_id FROM torrent_search s WHERE {})",
                        f.count_condition
                    );
                } else {
                    // Another order sorts every match: find them through the index first
                    // (walking that order's index instead would probe row after row).
                    f.with = format!(
                        "WITH m AS MATERIALIZED (SELECT s.torrent_id FROM torrent_search s WHERE {}) ",
                        f.count_condition
                    );
                    f.from = "m JOIN torrents t ON t.id = m.torrent_id".into();
                }
            }
            DbKind::Postgres => {
                if let Some(c) = &q.category {
                    f.push("t.category = $?", c.clone());
                }
            }
        }
        if f.count_from.is_empty() {
            f.count_from = f.from.clone();
            f.count_condition = f.condition.clone();
        }
        f
    }

    /// Adds `AND condition`, whose `$?` is the next parameter.
    fn push(&mut self, condition: &str, param: String) {
        self.params.push(param);
        let n = format!("${}", self.params.len());
        self.condition.push_str(" AND ");
        self.condition.push_str(&condition.replace("$?", &n));
    }
}

fn order_by(q: &ListQuery, fts: bool) -> String {
    let dir = if q.ascending { "ASC" } else { "DESC" };
    let id = if fts { "f.rowid" } else { "t.id" };
    match q.sort {
        Sort::Date => format!("{id} {dir}"),
        Sort::Size => format!("t.size {dir}, {id} DESC"),
        Sort::Seeders => format!("t.seeders {dir}, {id} DESC"),
    }
}

/// One page of a browse or search, with the count of matches.
pub async fn list(db: &Db, q: &ListQuery) -> Result<ListPage, SiteError> {
    let f = Filter::new(db.kind(), q);
    let per_page = i64::from(q.per_page.clamp(1, 500));
    let offset = i64::from(q.page.max(1) - 1) * per_page;
    let n = f.params.len();
    let sql = format!(
        "{}SELECT {SUMMARY} FROM {} JOIN users u ON u.id = t.uploader_id WHERE {} ORDER BY {} \
         LIMIT ${} OFFSET ${}",
        f.with,
        f.from,
        f.condition,
        order_by(q, f.fts),
        n + 1,
        n + 2
    );
    let mut rows_q = sqlx::query(&sql);
    for p in &f.params {
        rows_q = rows_q.bind(p.as_str());
    }
    let found = rows_q
        .bind(per_page + 1)
        .bind(offset)
        .fetch_all(db.pool())
        .await?;
    let mut rows = found.iter().map(summary).collect::<Result<Vec<_>, _>>()?;
    let has_next = rows.len() as i64 > per_page;
    rows.truncate(usize::try_from(per_page).unwrap_or(usize::MAX));
    let seen = offset + rows.len() as i64;
    let (total, exact) = if !f.searching {
        (catalogue_count(db, q.category.as_deref()).await?, true)
    } else if !has_next && (offset == 0 || !rows.is_empty()) {
        (seen, true)
    } else {
        let counted = capped_count(db, &f).await?;
        if counted > COUNT_CAP {
            (COUNT_CAP.max(seen + i64::from(has_next)), false)
        } else {
            (counted, true)
        }
    };
    Ok(ListPage {
        rows,
        total,
        exact,
        has_next,
    })
}

/// Torrents in the catalogue (in one category), from the maintained counts.
async fn catalogue_count(db: &Db, category: Option<&str>) -> Result<i64, SiteError> {
    let sql = match category {
        Some(_) => "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM torrent_counts WHERE category = $1",
        None => "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM torrent_counts",
    };
    let mut q = sqlx::query(sql);
    if let Some(c) = category {
        q = q.bind(c);
    }
    Ok(q.fetch_one(db.pool()).await?.try_get(0)?)
}

/// The matches of a search, counted up to one past [`COUNT_CAP`].
async fn capped_count(db: &Db, f: &Filter) -> Result<i64, SiteError> {
    let sql = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM {} WHERE {} LIMIT {}) c",
        f.count_from,
        f.count_condition,
        COUNT_CAP + 1
    );
    let mut q = sqlx::query(&sql);
    for p in &f.params {
        q = q.bind(p.as_str());
    }
    Ok(q.fetch_one(db.pool()).await?.try_get(0)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_distinct_lowercase_and_few() {
        assert_eq!(words("  Ubuntu  ISO ubuntu "), vec!["ubuntu", "iso"]);
        assert_eq!(words(&"w ".repeat(20)).len(), 1);
        let many: String = (0..20).map(|i| format!("w{i} ")).collect();
        assert_eq!(words(&many).len(), MAX_WORDS);
        assert_eq!(words("ÉTÉ"), vec!["été"]);
    }

    #[test]
    fn fts_phrases_quote_everything() {
        let w = [String::from("say \"hi\""), String::from("50%_off")];
        let refs: Vec<&String> = w.iter().collect();
        assert_eq!(fts_query(&refs), r#""say ""hi""" "50%_off""#);
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_a\\b"), r"%50\%\_a\\b%");
    }

    #[test]
    fn filters_by_dialect() {
        let q = ListQuery {
            q: "ab ubuntu".into(),
            category: Some("software".into()),
            ..ListQuery::default()
        };
        let s = Filter::new(DbKind::Sqlite, &q);
        assert!(s.fts && s.searching);
        assert_eq!(
            s.condition,
            "1 = 1 AND f.torrents_fts MATCH $1 AND instr(t.search, $2) > 0 AND t.category = $3"
        );
        assert_eq!(
            (s.count_from.as_str(), &s.count_condition),
            (s.from.as_str(), &s.condition)
        );
        assert_eq!(s.params, vec!["\"ubuntu\"", "ab", "software"]);
        let words_only = Filter::new(
            DbKind::Sqlite,
            &ListQuery {
                q: "ubuntu".into(),
                ..ListQuery::default()
            },
        );
        assert_eq!(words_only.count_from, "torrents_fts f");
        let p = Filter::new(DbKind::Postgres, &q);
        assert!(!p.fts && p.searching);
        assert_eq!(p.params, vec!["%ab%", "%ubuntu%", "software"]);
        assert_eq!(
            p.count_condition,
            "s.search LIKE $1 ESCAPE '\\' AND s.search LIKE $2 ESCAPE '\\' AND s.category = $3"
        );
        assert_eq!(p.count_from, "torrent_search s");
        let browse = Filter::new(DbKind::Postgres, &ListQuery::default());
        assert!(!browse.searching && browse.params.is_empty());
    }
}
