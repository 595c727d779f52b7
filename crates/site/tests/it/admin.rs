//! The admin role.

use axum::http::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::{torrent_bytes, transfer};

both!(admins_delete_torrents_and_disable_users, |t| {
    let (_, admin) = t.admin("boss").await;
    let (user, cookie) = t.user("member").await;
    let uid = user["id"].as_i64().unwrap();
    let (id, hash) = t
        .upload_ok(&cookie, &torrent_bytes("gone.bin", 10), "gone", "other", "")
        .await;
    // Members may not moderate.
    let r = t
        .post_json(&format!("/admin/torrent/{id}/delete"), json!({}), Some(&cookie))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t
        .post_json(&format!("/admin/torrent/{id}/delete"), json!({}), None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        t.get_html("/admin", Some(&cookie)).await.status,
        StatusCode::FORBIDDEN
    );
    // The admin may.
    let pk = user["authKey"].as_str().unwrap();
    t.announce(
        Some(pk),
        &hash,
        1,
        transfer(0, 0, 10),
        tracker_proto::common::AnnounceEvent::Started,
    )
    .unwrap();
    let r = t
        .post_json(&format!("/admin/torrent/{id}/delete"), json!({}), Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        t.get(&format!("/download/torrent?id={id}"), Some(&cookie))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let err = t.announce(
        Some(pk),
        &hash,
        1,
        transfer(0, 0, 10),
        tracker_proto::common::AnnounceEvent::None,
    );
    assert_eq!(err.unwrap_err(), tracker::access::Refusal::UnregisteredTorrent);
    // The pending traffic of a deleted torrent is dropped by the flush, not an error.
    t.site.flusher().flush_once().await.unwrap();
    let r = t
        .post_json(&format!("/admin/torrent/{id}/delete"), json!({}), Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Disabling logs the user out and blocks logins.
    let r = t
        .post_json(&format!("/admin/user/{uid}/disable"), json!({}), Some(&admin))
        .await;
    assert_eq!(r.json()["body"], json!({ "id": uid, "disabled": true }));
    assert_eq!(
        t.get("/api/profile", Some(&cookie)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = t
        .post_json(
            "/login",
            json!({ "email": "member@example.org", "pwd": "Sup3r-secret" }),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t
        .post_json(&format!("/admin/user/{uid}/enable"), json!({}), Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    t.login("member").await;
    let r = t
        .post_json("/admin/user/1/disable", json!({}), Some(&admin))
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "admins cannot disable themselves"
    );
    let r = t
        .post_json("/admin/user/999/disable", json!({}), Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let html = t.get_html("/admin", Some(&admin)).await;
    assert!(html.text().contains("member@example.org"));
});

both!(no_sign_up_makes_an_admin_by_itself, |t| {
    // Two first sign-ups at once: on PostgreSQL both could see an empty table and both win.
    let (a, b) = tokio::join!(t.signup("firsta"), t.signup("firstb"));
    let admins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE is_admin <> 0")
        .fetch_one(t.site.db().pool())
        .await
        .unwrap();
    assert_eq!(admins, 0, "{a} {b}");
    let cookie = t.login("firsta").await;
    assert_eq!(
        t.get_html("/admin", Some(&cookie)).await.status,
        StatusCode::FORBIDDEN
    );
    // The operator names the admin (`nexsuj admin grant EMAIL`), then may take it back.
    let granted = site::admin::grant(t.site.db(), " FirstA@Example.org ")
        .await
        .unwrap();
    assert_eq!(
        granted.map(|u| (u.nick, u.is_admin)),
        Some(("firsta".into(), true))
    );
    assert_eq!(t.get_html("/admin", Some(&cookie)).await.status, StatusCode::OK);
    assert!(
        site::admin::grant(t.site.db(), "nobody@example.org")
            .await
            .unwrap()
            .is_none()
    );
    let revoked = site::admin::revoke(t.site.db(), "firsta@example.org")
        .await
        .unwrap();
    assert_eq!(revoked.map(|u| u.is_admin), Some(false));
    assert_eq!(
        t.get_html("/admin", Some(&cookie)).await.status,
        StatusCode::FORBIDDEN
    );
});

/// The admin page's outlier table (after its heading).
fn outliers(html: &str) -> &str {
    html.split("id=\"outliers\"").nth(1).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_see_uploads_that_nobody_downloaded() {
    use tracker_proto::common::AnnounceEvent::{None as Regular, Started};
    let t = crate::support::TestSite::with_config(crate::support::Backend::Sqlite, |c| {
        c.web.outlier_slack_bytes = 100_000
    })
    .await;
    let (_, admin) = t.admin("boss").await;
    let size = 1_000_000;
    let (_, hash) = t
        .upload_ok(
            &admin,
            &torrent_bytes("outlier.bin", size),
            "outlier",
            "other",
            "",
        )
        .await;
    let mut keys = Vec::new();
    for nick in ["honest", "liar", "leech"] {
        keys.push(t.signup(nick).await["authKey"].as_str().unwrap().to_owned());
    }
    let (honest, liar, leech) = (
        Some(keys[0].as_str()),
        Some(keys[1].as_str()),
        Some(keys[2].as_str()),
    );
    t.announce(honest, &hash, 1, transfer(0, 0, 0), Started).unwrap();
    t.announce(liar, &hash, 2, transfer(0, 0, 0), Started).unwrap();
    t.announce(leech, &hash, 3, transfer(0, 0, size), Started)
        .unwrap();
    // The leecher got 600 kB; the honest seeder says it sent 550 kB of them, the liar 5 MB.
    t.announce(leech, &hash, 3, transfer(0, 600_000, size - 600_000), Regular)
        .unwrap();
    t.announce(honest, &hash, 1, transfer(550_000, 0, 0), Regular)
        .unwrap();
    t.announce(liar, &hash, 2, transfer(5_000_000, 0, 0), Regular)
        .unwrap();
    t.site.flusher().flush_once().await.unwrap();
    let page = t.get_html("/admin", Some(&admin)).await.text();
    let table = outliers(&page);
    assert!(table.contains(">liar</a>") && table.contains("outlier"), "{page}");
    assert!(!table.contains("honest") && !table.contains("leech"), "{table}");
    t.finish().await;
}
