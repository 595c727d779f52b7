//! Announces through the site's tracker, the flush, and what profiles and pages show.

use axum::http::StatusCode;
use serde_json::json;
use tracker::access::Refusal;
use tracker_proto::common::AnnounceEvent::{Completed, None as Regular, Started, Stopped};

use crate::both;
use crate::support::{TestSite, torrent_bytes, transfer};

const SIZE: u64 = 1_000_000;

async fn profile(t: &TestSite, cookie: &str) -> serde_json::Value {
    t.get("/api/profile", Some(cookie)).await.json()["body"].clone()
}

both!(traffic_snatches_and_peer_state, |t| {
    let (seeder, s_cookie) = t.user("seeder").await;
    let (leecher, l_cookie) = t.user("leecher").await;
    let (spk, lpk) = (
        seeder["authKey"].as_str().unwrap(),
        leecher["authKey"].as_str().unwrap(),
    );
    let (id, hash) = t
        .upload_ok(&s_cookie, &torrent_bytes("data.bin", SIZE), "data", "other", "")
        .await;
    t.announce(Some(spk), &hash, 1, transfer(0, 0, 0), Started)
        .unwrap();
    t.announce(Some(lpk), &hash, 2, transfer(0, 0, SIZE), Started)
        .unwrap();
    // Absolute counters become deltas.
    t.announce(Some(spk), &hash, 1, transfer(400_000, 0, 0), Regular)
        .unwrap();
    t.announce(Some(lpk), &hash, 2, transfer(0, 400_000, SIZE - 400_000), Regular)
        .unwrap();
    assert!(t.site.flusher().flush_once().await.unwrap() > 0);
    let p = profile(t, &l_cookie).await;
    assert_eq!(
        (p["downloaded"].as_i64(), p["leeching"].as_i64()),
        (Some(400_000), Some(1))
    );
    t.announce(Some(spk), &hash, 1, transfer(SIZE, 0, 0), Regular)
        .unwrap();
    let done = t
        .announce(Some(lpk), &hash, 2, transfer(0, SIZE, 0), Completed)
        .unwrap();
    assert_eq!((done.complete, done.incomplete), (2, 0));
    t.site.flusher().flush_once().await.unwrap();
    let s = profile(t, &s_cookie).await;
    let l = profile(t, &l_cookie).await;
    assert_eq!(
        (s["uploaded"].as_i64(), s["downloaded"].as_i64()),
        (Some(SIZE as i64), Some(0))
    );
    assert_eq!(
        (l["uploaded"].as_i64(), l["downloaded"].as_i64()),
        (Some(0), Some(SIZE as i64))
    );
    assert_eq!(
        (
            l["seeding"].as_i64(),
            l["leeching"].as_i64(),
            l["snatched"].as_i64()
        ),
        (Some(1), Some(0), Some(1))
    );
    assert_eq!(s["seeding"], 1);
    // The snatch is dated; the seeder, who never completed, has no date.
    let dated: Vec<(i64, Option<i64>)> =
        sqlx::query_as("SELECT snatches, snatched_at FROM user_torrents ORDER BY user_id")
            .fetch_all(t.site.db().pool())
            .await
            .unwrap();
    assert!(
        matches!(dated[..], [(0, None), (1, Some(at))] if at > 0),
        "{dated:?}"
    );
    assert_eq!(l["ratio"], 0.0);
    assert_eq!(s["ratio"], json!(null));
    let d = t
        .get(&format!("/api/torrents/{id}"), Some(&s_cookie))
        .await
        .json()["body"]
        .clone();
    assert_eq!(
        (
            d["seeders"].as_i64(),
            d["leechers"].as_i64(),
            d["completed"].as_i64()
        ),
        (Some(2), Some(0), Some(1))
    );
    assert_eq!(d["torrent"]["completed"], 1);
    assert_eq!(
        d["torrent"]["seeders"], 2,
        "the list's seeders column follows the flush"
    );
    assert_eq!(d["seeding"], json!(["leecher", "seeder"]));
    // A client restart (counters back to zero) starts a new session: no negative delta.
    t.announce(Some(spk), &hash, 1, transfer(1000, 0, 0), Started)
        .unwrap();
    t.announce(Some(spk), &hash, 1, transfer(3000, 0, 0), Stopped)
        .unwrap();
    t.site.flusher().flush_once().await.unwrap();
    let s = profile(t, &s_cookie).await;
    assert_eq!(s["uploaded"].as_i64(), Some(SIZE as i64 + 3000));
    assert_eq!(s["seeding"], 0, "stopped");
    let history = &s["torrents"][0];
    assert_eq!(
        (history["state"].as_str(), history["uploaded"].as_i64()),
        (Some("inactive"), Some(SIZE as i64 + 3000))
    );
});

both!(a_snatch_counts_once_per_user_and_torrent, |t| {
    let (_, cookie) = t.user("sharer").await;
    let (one, one_cookie) = t.user("repeater").await;
    let (two, _) = t.user("second").await;
    let (one, two) = (one["authKey"].as_str(), two["authKey"].as_str());
    let (id, hash) = t
        .upload_ok(&cookie, &torrent_bytes("once.bin", SIZE), "once", "other", "")
        .await;
    // Completed, and completed again in the same batch.
    t.announce(one, &hash, 1, transfer(0, 0, SIZE), Started).unwrap();
    t.announce(one, &hash, 1, transfer(0, SIZE, 0), Completed)
        .unwrap();
    t.announce(one, &hash, 1, transfer(0, SIZE, 0), Completed)
        .unwrap();
    t.site.flusher().flush_once().await.unwrap();
    // A new session (a client restarted with a new peer id) that completes again.
    t.announce(one, &hash, 1, transfer(0, SIZE, 0), Stopped).unwrap();
    t.announce(one, &hash, 9, transfer(0, 0, SIZE), Started).unwrap();
    t.announce(one, &hash, 9, transfer(0, SIZE, 0), Completed)
        .unwrap();
    t.site.flusher().flush_once().await.unwrap();
    let completed =
        |body: serde_json::Value| (body["completed"].as_i64(), body["torrent"]["completed"].as_i64());
    let d = t.get(&format!("/api/torrents/{id}"), Some(&cookie)).await.json()["body"].clone();
    assert_eq!(completed(d), (Some(1), Some(1)), "one user, one snatch");
    assert_eq!(profile(t, &one_cookie).await["snatched"], 1);
    // Another user's snatch counts.
    t.announce(two, &hash, 2, transfer(0, 0, SIZE), Started).unwrap();
    t.announce(two, &hash, 2, transfer(0, SIZE, 0), Completed)
        .unwrap();
    t.site.flusher().flush_once().await.unwrap();
    let d = t.get(&format!("/api/torrents/{id}"), Some(&cookie)).await.json()["body"].clone();
    assert_eq!(completed(d), (Some(2), Some(2)));
});

both!(refusals, |t| {
    let (me, cookie) = t.admin("admin").await;
    let (other, _) = t.user("someone").await;
    let pk = me["authKey"].as_str().unwrap().to_owned();
    let (_, hash) = t
        .upload_ok(&cookie, &torrent_bytes("r.bin", 10), "r", "other", "")
        .await;
    let zero = transfer(0, 0, 10);
    assert_eq!(
        t.announce(None, &hash, 1, zero, Started).unwrap_err(),
        Refusal::MissingPasskey
    );
    assert_eq!(
        t.announce(Some(&"a".repeat(32)), &hash, 1, zero, Started)
            .unwrap_err(),
        Refusal::BadPasskey
    );
    assert_eq!(
        t.announce(Some(&pk), &"ab".repeat(20), 1, zero, Started)
            .unwrap_err(),
        Refusal::UnregisteredTorrent
    );
    assert!(t.announce(Some(&pk), &hash, 1, zero, Started).is_ok());
    // A passkey reset: the old one stops at once.
    let r = t.post_json("/passkey/reset", json!({}), Some(&cookie)).await;
    let new_pk = r.json()["body"]["authKey"].as_str().unwrap().to_owned();
    assert_ne!(new_pk, pk);
    assert_eq!(
        t.announce(Some(&pk), &hash, 1, zero, Regular).unwrap_err(),
        Refusal::BadPasskey
    );
    assert!(t.announce(Some(&new_pk), &hash, 1, zero, Regular).is_ok());
    assert_eq!(profile(t, &cookie).await["authKey"], new_pk.as_str());
    // A disabled account is refused with its own reason.
    let id = other["id"].as_i64().unwrap();
    let r = t
        .post_json(&format!("/admin/user/{id}/disable"), json!({}), Some(&cookie))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let err = t
        .announce(Some(other["authKey"].as_str().unwrap()), &hash, 2, zero, Started)
        .unwrap_err();
    assert_eq!(err.to_string(), "account disabled");
    // The caches rebuilt from the database say the same.
    assert!(t.site.reload().await.unwrap());
    assert_eq!(
        t.announce(Some(&pk), &hash, 1, zero, Regular).unwrap_err(),
        Refusal::BadPasskey
    );
    assert!(
        t.announce(Some(other["authKey"].as_str().unwrap()), &hash, 2, zero, Started)
            .is_err()
    );
});

both!(freeleech_and_double_upload, |t| {
    let (a, cookie) = t.admin("admin").await;
    let (b, b_cookie) = t.user("peer").await;
    let (id, hash) = t
        .upload_ok(&cookie, &torrent_bytes("promo.bin", SIZE), "promo", "other", "")
        .await;
    let r = t
        .post_json(
            &format!("/admin/torrent/{id}/flags"),
            json!({ "freeleech": 1, "double_upload": true }),
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    t.announce(
        Some(a["authKey"].as_str().unwrap()),
        &hash,
        1,
        transfer(0, 0, 0),
        Started,
    )
    .unwrap();
    t.announce(
        Some(b["authKey"].as_str().unwrap()),
        &hash,
        2,
        transfer(0, 0, SIZE),
        Started,
    )
    .unwrap();
    t.announce(
        Some(a["authKey"].as_str().unwrap()),
        &hash,
        1,
        transfer(500, 0, 0),
        Regular,
    )
    .unwrap();
    t.announce(
        Some(b["authKey"].as_str().unwrap()),
        &hash,
        2,
        transfer(0, 500, SIZE - 500),
        Regular,
    )
    .unwrap();
    t.site.flusher().flush_once().await.unwrap();
    assert_eq!(profile(t, &cookie).await["uploaded"], 1000, "double upload");
    assert_eq!(profile(t, &b_cookie).await["downloaded"], 0, "freeleech");
});

both!(a_failed_flush_keeps_its_batch, |t| {
    let (me, cookie) = t.user("keeper").await;
    let pk = me["authKey"].as_str().unwrap().to_owned();
    let (_, hash) = t
        .upload_ok(&cookie, &torrent_bytes("keep.bin", SIZE), "keep", "other", "")
        .await;
    t.announce(Some(&pk), &hash, 1, transfer(0, 0, SIZE), Started)
        .unwrap();
    t.announce(Some(&pk), &hash, 1, transfer(0, 100, SIZE - 100), Regular)
        .unwrap();
    let pool = t.site.db().pool();
    sqlx::query("ALTER TABLE user_torrents RENAME TO user_torrents_away")
        .execute(pool)
        .await
        .unwrap();
    assert!(t.site.flusher().flush_once().await.is_err());
    t.announce(Some(&pk), &hash, 1, transfer(0, 250, SIZE - 250), Regular)
        .unwrap();
    sqlx::query("ALTER TABLE user_torrents_away RENAME TO user_torrents")
        .execute(pool)
        .await
        .unwrap();
    t.site.flusher().flush_once().await.unwrap();
    assert_eq!(
        profile(t, &cookie).await["downloaded"],
        250,
        "nothing lost, nothing counted twice"
    );
    let metrics = t.metrics().await;
    assert!(
        metrics.contains("nexsuj_site_flush_failures_total 1"),
        "{metrics}"
    );
    assert!(metrics.contains("nexsuj_site_flushes_total 1"), "{metrics}");
});

both!(an_unconfirmed_commit_is_neither_lost_nor_counted_twice, |t| {
    let (me, cookie) = t.user("unsure").await;
    let pk = me["authKey"].as_str().unwrap().to_owned();
    let (_, hash) = t
        .upload_ok(&cookie, &torrent_bytes("unsure.bin", SIZE), "unsure", "other", "")
        .await;
    t.announce(Some(&pk), &hash, 1, transfer(0, 0, SIZE), Started)
        .unwrap();
    t.announce(Some(&pk), &hash, 1, transfer(0, 100, SIZE - 100), Regular)
        .unwrap();
    // The batch commits, but the flusher never hears so.
    t.site.flusher().lose_next_commit_reply();
    assert!(t.site.flusher().flush_once().await.is_err());
    t.announce(Some(&pk), &hash, 1, transfer(0, 250, SIZE - 250), Regular)
        .unwrap();
    // The next flush finds the first one's mark, drops its copy and writes only the rest.
    t.site.flusher().flush_once().await.unwrap();
    assert_eq!(profile(t, &cookie).await["downloaded"], 250);
});

#[tokio::test]
async fn a_full_queue_pushes_back() {
    let t = TestSite::with_config(crate::support::Backend::Sqlite, |c| {
        c.accounting.accounting_queue = 1
    })
    .await;
    let (me, cookie) = t.user("busy").await;
    let pk = me["authKey"].as_str().unwrap().to_owned();
    let (_, h1) = t
        .upload_ok(&cookie, &torrent_bytes("q1", 10), "q1", "other", "")
        .await;
    let (_, h2) = t
        .upload_ok(&cookie, &torrent_bytes("q2", 10), "q2", "other", "")
        .await;
    t.announce(Some(&pk), &h1, 1, transfer(0, 0, 10), Started)
        .unwrap();
    let err = t
        .announce(Some(&pk), &h2, 1, transfer(0, 0, 10), Started)
        .unwrap_err();
    assert!(err.to_string().contains("busy"), "{err}");
    t.site.flusher().flush_once().await.unwrap();
    assert!(t.announce(Some(&pk), &h2, 1, transfer(0, 0, 10), Started).is_ok());
    t.finish().await;
}

#[tokio::test]
async fn background_flush_runs_and_flushes_at_shutdown() {
    let t = TestSite::new(crate::support::Backend::Sqlite).await;
    let (me, cookie) = t.user("bgx").await;
    let pk = me["authKey"].as_str().unwrap().to_owned();
    let (_, hash) = t
        .upload_ok(&cookie, &torrent_bytes("bg.bin", SIZE), "bg", "other", "")
        .await;
    let (tx, rx) = tokio::sync::watch::channel(false);
    let site = t.site.clone();
    let task = tokio::spawn(async move { site.run_background(rx).await });
    t.announce(Some(&pk), &hash, 1, transfer(0, 0, SIZE), Started)
        .unwrap();
    t.announce(Some(&pk), &hash, 1, transfer(0, 777, SIZE - 777), Regular)
        .unwrap();
    tx.send(true).unwrap();
    task.await.unwrap();
    assert_eq!(profile(&t, &cookie).await["downloaded"], 777);
    t.finish().await;
}
