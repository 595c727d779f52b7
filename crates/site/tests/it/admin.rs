//! The admin role.

use axum::http::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::{torrent_bytes, transfer};

both!(admins_delete_torrents_and_disable_users, |t| {
    let (_, admin) = t.user("boss").await;
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
