//! Upload, download, browse, search, detail, RSS.

use axum::http::StatusCode;
use metainfo::Torrent;
use serde_json::json;
use sha1::{Digest, Sha1};

use crate::both;
use crate::support::{TestSite, torrent_bytes};

use ids::hex::encode as hex;

both!(upload_rewrites_and_refuses_duplicates, |t| {
    let (_, cookie) = t.user("uploader").await;
    let original = torrent_bytes("file.bin", 100_000);
    let r = t.upload(None, &original, &[("title", "x")]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let (id, hash) = t
        .upload_ok(&cookie, &original, "My file", "software", "Linux, ISO ,linux")
        .await;
    let info = Torrent::from_bytes(&original).unwrap();
    assert_ne!(
        hash,
        hex(&Sha1::digest(info.info_bytes())),
        "the info-hash is the rewritten one"
    );
    // The same file again, or the site's own download of it, is a duplicate.
    let r = t.upload(Some(&cookie), &original, &[("title", "again")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json()["body"]["id"], id);
    let own = t.get(&format!("/download/torrent?id={id}"), Some(&cookie)).await;
    let r = t.upload(Some(&cookie), &own.body, &[]).await;
    assert_eq!(
        (r.status, r.json()["body"]["id"].as_i64()),
        (StatusCode::CONFLICT, Some(id))
    );
    let detail = t.get(&format!("/api/torrents/{id}"), Some(&cookie)).await.json();
    let torrent = &detail["body"]["torrent"];
    assert_eq!(torrent["title"], "My file");
    assert_eq!(torrent["labels"], "linux,iso");
    assert_eq!(torrent["category"], "software");
    assert_eq!(torrent["size"], 100_000);
    assert_eq!(torrent["info_hash"], hash.as_str());
    assert_eq!(
        detail["body"]["files"],
        json!([{ "path": "file.bin", "length": 100_000 }])
    );
});

both!(upload_errors, |t| {
    let (_, cookie) = t.user("uploader").await;
    let field = |r: &crate::support::Reply| r.json()["body"]["field"].as_str().unwrap_or("").to_owned();
    let r = t.upload(Some(&cookie), b"garbage", &[]).await;
    assert_eq!((r.status, field(&r)), (StatusCode::BAD_REQUEST, "torrent".into()));
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("not a valid torrent")
    );
    let r = t
        .upload(Some(&cookie), &torrent_bytes("a", 10), &[("type", "nonsense")])
        .await;
    assert_eq!(field(&r), "type");
    let r = t
        .upload(
            Some(&cookie),
            &torrent_bytes("a", 10),
            &[("title", &"x".repeat(201))],
        )
        .await;
    assert_eq!(field(&r), "title");
    let many = (0..11).map(|i| format!("l{i}")).collect::<Vec<_>>().join(",");
    let r = t
        .upload(Some(&cookie), &torrent_bytes("a", 10), &[("labels", &many)])
        .await;
    assert_eq!(field(&r), "labels");
    // A title defaults to the torrent's name.
    let r = t.upload(Some(&cookie), &torrent_bytes("named", 10), &[]).await;
    let id = r.json()["body"]["id"].as_i64().unwrap();
    let d = t.get(&format!("/api/torrents/{id}"), Some(&cookie)).await.json();
    assert_eq!(d["body"]["torrent"]["title"], "named");
    assert_eq!(d["body"]["torrent"]["category"], "other");
});

#[tokio::test]
async fn oversized_uploads_are_refused() {
    let t = TestSite::with_config(crate::support::Backend::Sqlite, |c| {
        c.web.max_torrent_bytes = 1000
    })
    .await;
    let (_, cookie) = t.user("big").await;
    let r = t
        .upload(Some(&cookie), &torrent_bytes("big", 10 << 20), &[])
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    t.finish().await;
}

both!(download_personalises_the_announce, |t| {
    let (me, cookie) = t.user("dlx").await;
    let pk = me["authKey"].as_str().unwrap().to_owned();
    let (id, hash) = t
        .upload_ok(
            &cookie,
            &torrent_bytes("電影 2024.mkv", 50_000),
            "film",
            "movie",
            "",
        )
        .await;
    assert_eq!(
        t.get(&format!("/download/torrent?id={id}"), None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = t.get(&format!("/download/torrent?id={id}"), Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), "application/x-bittorrent");
    let cd = r.header("content-disposition");
    assert!(
        cd.starts_with("attachment; filename=\"")
            && cd.contains("filename*=UTF-8''%E9%9B%BB%E5%BD%B1%202024.mkv.torrent"),
        "{cd}"
    );
    let tor = Torrent::from_bytes(&r.body).unwrap();
    assert_eq!(
        hex(&Sha1::digest(tor.info_bytes())),
        hash,
        "the download keeps the stored info-hash"
    );
    assert_eq!(
        tor.announce.as_deref(),
        Some(format!("http://site.test/announce?auth_key={pk}").as_str())
    );
    assert_eq!(
        tor.announce_list,
        vec![vec![
            format!("http://site.test/announce?auth_key={pk}"),
            format!("udp://site.test:6969/announce?auth_key={pk}")
        ]]
    );
    assert!(
        tor.about.comment.is_none() && tor.url_list.is_empty(),
        "nothing else from the uploader"
    );
    assert!(tor.info.private);
    assert_eq!(tor.info.source.as_deref(), Some("nexsuj"));
    // With the passkey instead of a session (RSS clients), the same file.
    let r2 = t
        .get(&format!("/download/torrent?id={id}&passkey={pk}"), None)
        .await;
    assert_eq!(r2.body, r.body);
    let bad = t
        .get(
            &format!("/download/torrent?id={id}&passkey={}", "0".repeat(32)),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::FORBIDDEN);
    assert_eq!(
        t.get("/download/torrent?id=99999", Some(&cookie)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.get("/download/torrent?id=abc", Some(&cookie)).await.status,
        StatusCode::BAD_REQUEST
    );
    // Another user's copy has the other user's passkey and the same info-hash.
    let (other, other_cookie) = t.user("other").await;
    let r3 = t
        .get(&format!("/download/torrent?id={id}"), Some(&other_cookie))
        .await;
    let tor3 = Torrent::from_bytes(&r3.body).unwrap();
    assert!(
        tor3.announce
            .as_deref()
            .unwrap()
            .ends_with(other["authKey"].as_str().unwrap())
    );
    assert_eq!(tor3.info_bytes(), tor.info_bytes());
});

both!(browse_search_sort_and_pages, |t| {
    let (_, cookie) = t.user("lister").await;
    let specs = [
        ("Debian netinst", "software", "linux,iso", 3000),
        ("Ubuntu desktop", "software", "linux", 9000),
        ("Big Buck Bunny", "movie", "animation,cc", 6000),
        ("Sintel", "movie", "animation", 1000),
        ("50%_off", "other", "", 500),
    ];
    for (title, cat, labels, size) in specs {
        t.upload_ok(
            &cookie,
            &torrent_bytes(&title.replace(' ', "."), size),
            title,
            cat,
            labels,
        )
        .await;
    }
    let list = |q: &str| {
        let cookie = cookie.clone();
        let q = q.to_owned();
        async move {
            let r = t.get(&format!("/api/torrents?{q}"), Some(&cookie)).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            let b = r.json()["body"].clone();
            let titles: Vec<String> = b["torrents"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["title"].as_str().unwrap().to_owned())
                .collect();
            (b["total"].as_i64().unwrap(), titles)
        }
    };
    assert_eq!(
        list("").await.1,
        vec![
            "50%_off",
            "Sintel",
            "Big Buck Bunny",
            "Ubuntu desktop",
            "Debian netinst"
        ]
    );
    assert_eq!(
        list("q=linux").await,
        (2, vec!["Ubuntu desktop".into(), "Debian netinst".into()])
    );
    assert_eq!(list("q=LINUX+iso").await.1, vec!["Debian netinst"]);
    assert_eq!(
        list("q=animation&type=movie&sort=size").await.1,
        vec!["Big Buck Bunny", "Sintel"]
    );
    assert_eq!(list("sort=size&order=asc").await.1[0], "50%_off");
    assert_eq!(list("q=%25").await.1, vec!["50%_off"], "% is matched literally");
    assert_eq!(list("q=_").await.1, vec!["50%_off"], "_ is matched literally");
    assert_eq!(list("type=movie").await.0, 2);
    assert_eq!(list("q=nothing-like-this").await.0, 0);
    assert_eq!(
        t.get("/api/torrents", None).await.status,
        StatusCode::UNAUTHORIZED
    );
});

#[tokio::test]
async fn pagination() {
    let t = TestSite::with_config(crate::support::Backend::Sqlite, |c| c.web.page_size = 2).await;
    let (_, cookie) = t.user("pager").await;
    for i in 0..5 {
        t.upload_ok(
            &cookie,
            &torrent_bytes(&format!("f{i}"), 10),
            &format!("t{i}"),
            "other",
            "",
        )
        .await;
    }
    let page = |n: u32| {
        let cookie = cookie.clone();
        let t = &t;
        async move {
            let b = t
                .get(&format!("/api/torrents?page={n}"), Some(&cookie))
                .await
                .json()["body"]
                .clone();
            b["torrents"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["title"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(page(1).await, vec!["t4", "t3"]);
    assert_eq!(page(3).await, vec!["t0"]);
    assert!(page(4).await.is_empty());
    let html = t.get_html("/?page=2", Some(&cookie)).await.text();
    assert!(
        html.contains("page 2 of 3") && html.contains("rel=\"prev\"") && html.contains("rel=\"next\""),
        "{html}"
    );
    t.finish().await;
}

both!(rss_feed, |t| {
    let (me, cookie) = t.user("reader").await;
    let pk = me["authKey"].as_str().unwrap();
    let (id, _) = t
        .upload_ok(
            &cookie,
            &torrent_bytes("feed.item", 10),
            "Feed <item> & more",
            "other",
            "",
        )
        .await;
    let r = t.get(&format!("/rss?passkey={pk}"), None).await;
    assert!(r.header("content-type").starts_with("application/rss+xml"));
    let xml = r.text();
    assert!(
        xml.contains("<title>Feed &lt;item&gt; &amp; more</title>"),
        "{xml}"
    );
    assert!(
        xml.contains(&format!("/download/torrent?id={id}&amp;passkey={pk}")),
        "{xml}"
    );
    let anonymous = t.get("/rss", None).await.text();
    assert!(anonymous.contains("Feed &lt;item&gt;") && !anonymous.contains("enclosure"));
});
