//! Two instances of one site on one PostgreSQL database: caches kept in step by
//! LISTEN/NOTIFY, and (with `NEXSUJ_TEST_REDIS`) one swarm in Redis, accounted once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::json;
use site::Site;
use tokio::sync::watch;
use tracker::access::Refusal;
use tracker::swarm::shared::SharedConfig;
use tracker_proto::common::AnnounceEvent::{Completed, Started};

use crate::support::*;

/// Waits (at most 10 s) until `check` holds on `site`'s tracker.
async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs both sites' background work (flush, reloads, cache sync) until [`Background::stop`].
struct Background {
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

fn background(sites: &[&Site]) -> Background {
    let (stop, stopped) = watch::channel(false);
    let tasks = sites
        .iter()
        .map(|s| {
            let (s, stopped) = ((*s).clone(), stopped.clone());
            tokio::spawn(async move { s.run_background(stopped).await })
        })
        .collect();
    Background { stop, tasks }
}

impl Background {
    /// Stops the work and waits for it (its last flush included), so that the schema can go.
    async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            t.await.unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passkey_reset_a_disabled_user_and_an_upload_reach_the_other_instance() {
    if postgres_or_skip(module_path!()).is_none() {
        return;
    }
    let a = TestSite::new(Backend::Postgres).await;
    let b = a.sibling(test_core()).await;
    let stop = background(&[&a.site, &b]);
    // Signed up, uploading and announcing on A; B has heard of none of it at start.
    let (me, cookie) = a.admin("admin").await;
    let (other, _) = a.user("other").await;
    let pk = me["authKey"].as_str().unwrap().to_owned();
    let (_, hash) = a
        .upload_ok(&cookie, &torrent_bytes("s.bin", 10), "s", "other", "")
        .await;
    let zero = transfer(0, 0, 10);
    until("B knows the user and the torrent", async || {
        announce_to(&b, &pk, &hash, 1, zero, Started).await.is_ok()
    })
    .await;
    let r = a.post_json("/passkey/reset", json!({}), Some(&cookie)).await;
    let new_pk = r.json()["body"]["authKey"].as_str().unwrap().to_owned();
    until("B refuses the old passkey", async || {
        announce_to(&b, &pk, &hash, 1, zero, Started).await == Err(Refusal::BadPasskey)
    })
    .await;
    assert!(announce_to(&b, &new_pk, &hash, 1, zero, Started).await.is_ok());
    let id = other["id"].as_i64().unwrap();
    let other_pk = other["authKey"].as_str().unwrap().to_owned();
    assert!(announce_to(&b, &other_pk, &hash, 2, zero, Started).await.is_ok());
    let r = a
        .post_json(&format!("/admin/user/{id}/disable"), json!({}), Some(&cookie))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text());
    until("B refuses the disabled user", async || {
        announce_to(&b, &other_pk, &hash, 2, zero, Started)
            .await
            .is_err_and(|e| e.to_string() == "account disabled")
    })
    .await;
    stop.stop().await;
    b.db().close().await;
    a.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_redis_are_one_swarm_accounted_once() {
    if postgres_or_skip(module_path!()).is_none() {
        return;
    }
    let Ok(url) = std::env::var("NEXSUJ_TEST_REDIS") else {
        eprintln!("skipped: NEXSUJ_TEST_REDIS not set");
        return;
    };
    let shared = SharedConfig {
        url,
        prefix: format!("nexsuj-test:site:{}", std::process::id()),
        ..SharedConfig::default()
    };
    let core = tracker::engine::CoreConfig {
        shared: Some(shared),
        ..test_core()
    };
    let a = TestSite::with_core(Backend::Postgres, |_| {}, Default::default(), core.clone()).await;
    let b = a.sibling(core).await;
    let (seeder, s_cookie) = a.user("seeder").await;
    let (leecher, l_cookie) = a.user("leecher").await;
    let (id, hash) = a
        .upload_ok(&s_cookie, &torrent_bytes("r.bin", 1000), "r", "other", "")
        .await;
    b.reload().await.unwrap();
    let (spk, lpk) = (
        seeder["authKey"].as_str().unwrap(),
        leecher["authKey"].as_str().unwrap(),
    );
    // The seeder on A, the leecher on B: each sees the other.
    let r = announce_to(&a.site, spk, &hash, 1, transfer(0, 0, 0), Started)
        .await
        .unwrap();
    assert!(r.peers.is_empty());
    let r = announce_to(&b, lpk, &hash, 2, transfer(0, 0, 1000), Started)
        .await
        .unwrap();
    assert_eq!((r.complete, r.incomplete, r.peers.len()), (1, 1, 1));
    // The leecher completes through A, the seeder reports its upload through B.
    announce_to(&a.site, lpk, &hash, 2, transfer(0, 1000, 0), Completed)
        .await
        .unwrap();
    let r = announce_to(&b, spk, &hash, 1, transfer(1000, 0, 0), Started)
        .await
        .unwrap();
    assert_eq!((r.complete, r.incomplete), (2, 0));
    a.site.flusher().flush_once().await.unwrap();
    b.flusher().flush_once().await.unwrap();
    // The site counts the bytes once and the snatch once, whichever instance heard them.
    let profile = |c: String| {
        let a = &a;
        async move { a.get("/api/profile", Some(&c)).await.json()["body"].clone() }
    };
    let s = profile(s_cookie.clone()).await;
    let l = profile(l_cookie).await;
    assert_eq!(
        (s["uploaded"].as_i64(), l["downloaded"].as_i64()),
        (Some(1000), Some(1000))
    );
    let d = a
        .get(&format!("/api/torrents/{id}"), Some(&s_cookie))
        .await
        .json()["body"]
        .clone();
    assert_eq!(d["torrent"]["completed"].as_i64(), Some(1), "{d}");
    assert_eq!(d["torrent"]["seeders"].as_i64(), Some(2), "{d}");
    b.db().close().await;
    a.finish().await;
}
