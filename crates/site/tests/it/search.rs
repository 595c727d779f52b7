//! Search through the indexes of migration 0002 (SQLite FTS5 trigrams, PostgreSQL pg_trgm):
//! a word matches anywhere in the title, name, labels or category, in any case and any
//! script, with `%`, `_`, quotes and backslashes taken literally, whether it is long enough
//! for the index or not; counts stop at the cap and say so.

// Test helpers: a failed step should panic with its cause, like the tests that call them.
#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use serde_json::Value;
use site::db::DbKind;

use crate::both;
use crate::support::{TestSite, torrent_bytes};

/// The list for `query` (`key=value` pairs): (total, totalExact, hasNext, titles).
async fn list(t: &TestSite, cookie: &str, query: &[(&str, &str)]) -> (i64, bool, bool, Vec<String>) {
    let qs = serde_urlencoded::to_string(query).unwrap();
    let r = t.get(&format!("/api/torrents?{qs}"), Some(cookie)).await;
    assert_eq!(r.status, StatusCode::OK, "{qs}: {}", r.text());
    let b = r.json()["body"].clone();
    let titles = b["torrents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["title"].as_str().unwrap().to_owned())
        .collect();
    (
        b["total"].as_i64().unwrap(),
        b["totalExact"].as_bool().unwrap(),
        b["hasNext"].as_bool().unwrap(),
        titles,
    )
}

async fn found(t: &TestSite, cookie: &str, q: &str) -> Vec<String> {
    let (total, exact, next, titles) = list(t, cookie, &[("q", q)]).await;
    assert_eq!((total, exact, next), (titles.len() as i64, true, false), "q={q}");
    titles
}

both!(words_match_anywhere_literally, |t| {
    let (_, cookie) = t.user("searcher").await;
    let specs = [
        ("Debian netinst", "software", "linux,iso"),
        ("Café Crème Brûlée", "movie", "français"),
        ("東京物語", "movie", "ozu"),
        ("Say \"Hello\" World", "music", "quotes"),
        ("100% Pure_Rock 'n' Roll", "music", ""),
        ("Pure Rock decoy", "music", ""),
        ("back\\slash", "other", ""),
    ];
    for (i, (title, cat, labels)) in specs.iter().enumerate() {
        t.upload_ok(
            &cookie,
            &torrent_bytes(&format!("n{i}"), 1000 + i as u64),
            title,
            cat,
            labels,
        )
        .await;
    }
    let one = |s: &str| vec![s.to_owned()];
    // Words of the title, inside words too, in any case and any order.
    assert_eq!(found(t, &cookie, "netinst").await, one("Debian netinst"));
    assert_eq!(found(t, &cookie, "TINST debi").await, one("Debian netinst"));
    // Labels and categories.
    assert_eq!(found(t, &cookie, "iso").await, one("Debian netinst"));
    assert_eq!(found(t, &cookie, "software linux").await, one("Debian netinst"));
    assert_eq!(found(t, &cookie, "ozu").await, one("東京物語"));
    // Non-ASCII text, folded to lower case, through the index and without it.
    assert_eq!(found(t, &cookie, "CRÈME").await, one("Café Crème Brûlée"));
    assert_eq!(found(t, &cookie, "brûlée crème").await, one("Café Crème Brûlée"));
    assert_eq!(found(t, &cookie, "français").await, one("Café Crème Brûlée"));
    assert_eq!(found(t, &cookie, "京物語").await, one("東京物語"));
    assert_eq!(found(t, &cookie, "東京").await, one("東京物語"));
    assert_eq!(found(t, &cookie, "é").await, one("Café Crème Brûlée"));
    // Wildcard, quote and escape characters are plain characters.
    let rock = one("100% Pure_Rock 'n' Roll");
    assert_eq!(found(t, &cookie, "%").await, rock);
    assert_eq!(found(t, &cookie, "_").await, rock);
    assert_eq!(found(t, &cookie, "0%").await, rock);
    assert_eq!(found(t, &cookie, "100%").await, rock);
    assert_eq!(found(t, &cookie, "e_r").await, rock, "_ is no wildcard");
    assert_eq!(found(t, &cookie, "pure_rock").await, rock);
    assert_eq!(found(t, &cookie, "'n'").await, rock);
    assert_eq!(found(t, &cookie, "\"hello\"").await, one("Say \"Hello\" World"));
    assert_eq!(found(t, &cookie, "\"").await, one("Say \"Hello\" World"));
    assert_eq!(found(t, &cookie, "k\\s").await, one("back\\slash"));
    assert_eq!(found(t, &cookie, "back\\slash").await, one("back\\slash"));
    assert!(found(t, &cookie, "\\%").await.is_empty());
    // Every word must match.
    assert!(found(t, &cookie, "linux zzz").await.is_empty());
    assert!(found(t, &cookie, "nothing-like-this").await.is_empty());
    // Newest first, or the order asked for; the category filter applies to searches.
    assert_eq!(
        found(t, &cookie, "rock").await,
        vec!["Pure Rock decoy", "100% Pure_Rock 'n' Roll"]
    );
    let (_, _, _, by_size) = list(t, &cookie, &[("q", "rock"), ("sort", "size"), ("order", "asc")]).await;
    assert_eq!(by_size, vec!["100% Pure_Rock 'n' Roll", "Pure Rock decoy"]);
    let (n, _, _, movies) = list(t, &cookie, &[("q", "ozu"), ("type", "movie")]).await;
    assert_eq!((n, movies), (1, one("東京物語")));
    assert_eq!(list(t, &cookie, &[("q", "rock"), ("type", "music")]).await.0, 2);
    assert_eq!(list(t, &cookie, &[("q", "rock"), ("type", "other")]).await.0, 0);
    let (n, _, _, music) = list(t, &cookie, &[("type", "music")]).await;
    assert_eq!(n, 3, "{music:?}");
    // The page says how many matched.
    let page = t.get_html("/?q=%25", Some(&cookie)).await.text();
    assert!(page.contains("1 torrent matching"), "{page}");
});

/// Adds `n` torrents titled "Bulk N" straight into the database (the triggers index them).
async fn bulk_insert(t: &TestSite, uploader: i64, n: i64) {
    let (hash, info) = match t.site.db().kind() {
        DbKind::Sqlite => ("printf('%040d', i)", "x'6465'"),
        DbKind::Postgres => ("lpad(i::text, 40, '0')", "'\\x6465'::bytea"),
    };
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
         INSERT INTO torrents (info_hash, info, name, title, category, labels, description, search, \
         size, file_count, files, uploader_id, created_at) \
         SELECT {hash}, {info}, 'bulk', 'Bulk ' || i, 'tv', '', '', 'bulk ' || i || ' bulk tv', i, 1, '[]', \
         {uploader}, 0 FROM n"
    );
    sqlx::query(&sql).execute(t.site.db().pool()).await.unwrap();
}

both!(counts_stop_at_the_cap_and_pages_go_on, |t| {
    let (me, cookie) = t.user("bulk").await;
    let me = me["id"].as_i64().unwrap_or_else(|| panic!("no id in {me}"));
    bulk_insert(t, me, 1100).await;
    t.upload_ok(&cookie, &torrent_bytes("single", 10), "Single", "movie", "")
        .await;
    // Browsing counts exactly, from the maintained counts.
    assert_eq!(list(t, &cookie, &[]).await.0, 1101);
    let (n, exact, next, rows) = list(t, &cookie, &[("type", "tv")]).await;
    assert_eq!((n, exact, next, rows.len()), (1100, true, true, 50));
    assert_eq!(list(t, &cookie, &[("type", "movie")]).await.0, 1);
    // A search stops counting at the cap, and says so.
    let (n, exact, next, rows) = list(t, &cookie, &[("q", "bulk")]).await;
    assert_eq!((n, exact, next), (site::db::torrents::COUNT_CAP, false, true));
    assert_eq!(rows[0], "Bulk 1100");
    let page = t.get_html("/?q=bulk", Some(&cookie)).await.text();
    let cap = site::db::torrents::COUNT_CAP;
    assert!(page.contains(&format!("{cap}+ torrents matching")), "{page}");
    assert!(page.contains("rel=\"next\""));
    // Past the cap, pages still come, and the last one says it is the last.
    let (n, exact, next, rows) = list(t, &cookie, &[("q", "bulk"), ("page", "22")]).await;
    assert_eq!((n, exact, next), (1100, true, false));
    assert_eq!(rows.last().map(String::as_str), Some("Bulk 1"));
    let (_, _, next, rows) = list(t, &cookie, &[("q", "bulk"), ("page", "23")]).await;
    assert!(!next && rows.is_empty());
    // Exact under the cap.
    let rows = found(t, &cookie, "bulk 109").await;
    assert_eq!(rows.len(), 11, "{rows:?}");
    // Deletes (whoever makes them) keep the counts and the index in step.
    assert_eq!(found(t, &cookie, "single").await, vec!["Single"]);
    for title in ["Single", "Bulk 7"] {
        sqlx::query(&format!("DELETE FROM torrents WHERE title = '{title}'"))
            .execute(t.site.db().pool())
            .await
            .unwrap();
    }
    assert!(found(t, &cookie, "single").await.is_empty());
    assert_eq!(list(t, &cookie, &[("type", "tv")]).await.0, 1099);
    assert_eq!(list(t, &cookie, &[("type", "movie")]).await.0, 0);
    let value: Value = t.get("/api/torrents?q=bulk", Some(&cookie)).await.json();
    assert_eq!(value["body"]["perPage"], 50);
});
