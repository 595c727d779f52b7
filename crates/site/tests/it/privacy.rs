//! What the site lets others learn: whether an address or a nick has an account, sign-up
//! codes (subjects, logs), who seeds what, passkeys in caches, the metrics, and a logout
//! another site could trigger.

// Test helpers may unwrap: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;
use tracker::http::TrustedProxies;
use tracker_proto::common::AnnounceEvent::Started;

use crate::both;
use crate::support::{Backend, TestSite, torrent_bytes, transfer};

/// The CSRF nonce cookie and token of a page.
fn csrf_of(r: &crate::support::Reply) -> (String, String) {
    let token = r.text().split("name=\"csrf\" value=\"").nth(1).unwrap()[..32].to_owned();
    (r.cookie("nx_csrf").unwrap(), token)
}

/// The mails in the outbox to `email`.
fn mails_to(t: &TestSite, email: &str) -> Vec<String> {
    std::fs::read_dir(t.dir.path().join("outbox"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .filter(|m| m.contains(&format!("To: {email}")))
        .collect()
}

both!(registered_and_new_addresses_get_the_same_answers, |t| {
    t.signup("owner").await;
    let (old, new) = ("owner@example.org", "fresh@example.org");
    // The JSON API.
    let a = t.post_json("/signup/code", json!({ "email": old }), None).await;
    let b = t.post_json("/signup/code", json!({ "email": new }), None).await;
    assert_eq!((a.status, a.text()), (b.status, b.text()));
    // The form (one browser, so one CSRF token; the page repeats the address typed).
    let page = t.get_html("/signup", None).await;
    let (nonce, token) = csrf_of(&page);
    let browser = [("cookie", nonce.as_str()), ("origin", "http://site.test")];
    let form = |email: &'static str| {
        let token = token.clone();
        async move {
            let r = t
                .post_form("/signup/code", &[("email", email), ("csrf", &token)], &browser)
                .await;
            (r.status, r.text().replace(email, "EMAIL"))
        }
    };
    assert_eq!(form(old).await, form(new).await);
    // A guess at the code, and a taken nick before any valid code.
    let signup = |nick: &str, email: &str| {
        let body = json!({ "nick": nick, "email": email, "pwd": "Sup3r-secret", "code": "000000x" });
        async move {
            let r = t.post_json("/signup", body, None).await;
            (r.status, r.text())
        }
    };
    assert_eq!(signup("newnick", old).await, signup("newnick", new).await);
    assert_eq!(signup("owner", new).await, signup("freenick", new).await);
    // The owner is told by mail, and gets no code.
    let mails = mails_to(t, old);
    let notice = mails
        .iter()
        .find(|m| m.contains("already have an account"))
        .unwrap();
    assert!(!notice.contains("sign-up code: "), "{notice}");
});

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line of the test (a current-thread runtime: all of it runs on this thread).
#[tokio::test]
async fn sign_up_codes_stay_out_of_subjects_and_logs() {
    let logs = Capture::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // A second live dispatcher: with only one, tracing caches a callsite that another test's
    // thread reaches first as "never" (that thread has no subscriber), and this test's
    // events from it would be lost. With two, each event asks the thread's own subscriber.
    let _other = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let _guard = tracing::subscriber::set_default(subscriber);
    let t = TestSite::new(Backend::Sqlite).await;
    let email = "quiet@example.org";
    let r = t.post_json("/signup/code", json!({ "email": email }), None).await;
    assert_eq!(r.status, StatusCode::OK);
    let code = t.mailed_code(email);
    let mail = mails_to(&t, email).pop().unwrap();
    let subject = mail.lines().find(|l| l.starts_with("Subject: ")).unwrap();
    assert!(!subject.contains(&code), "{subject}");
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("mail written to the outbox"),
        "the capture works: {logged}"
    );
    assert!(!logged.contains(&code), "the code {code} is in the log: {logged}");
    t.finish().await;
}

both!(visitors_do_not_see_who_is_seeding, |t| {
    let (_, poster) = t.user("poster").await;
    let (seeder, _) = t.user("quietseed").await;
    let (id, hash) = t
        .upload_ok(&poster, &torrent_bytes("seeded.bin", 1000), "seeded", "other", "")
        .await;
    t.announce(seeder["authKey"].as_str(), &hash, 1, transfer(0, 0, 0), Started)
        .unwrap();
    t.site.flusher().flush_once().await.unwrap();
    let member = t.get_html(&format!("/torrent/{id}"), Some(&poster)).await.text();
    assert!(member.contains("quietseed"), "members see who seeds: {member}");
    let visitor = t.get_html(&format!("/torrent/{id}"), None).await.text();
    assert!(
        visitor.contains("seeded.bin") && !visitor.contains("quietseed"),
        "{visitor}"
    );
});

both!(answers_that_carry_a_passkey_are_never_cached, |t| {
    let (me, cookie) = t.user("cached").await;
    let pk = me["authKey"].as_str().unwrap();
    let (id, _) = t
        .upload_ok(&cookie, &torrent_bytes("cache.bin", 10), "cache", "other", "")
        .await;
    for (path, cookie) in [
        (format!("/download/torrent?id={id}"), Some(cookie.as_str())),
        (format!("/download/torrent?id={id}&passkey={pk}"), None),
        ("/api/profile".to_owned(), Some(cookie.as_str())),
        (format!("/rss?passkey={pk}"), None),
    ] {
        let r = t.get(&path, cookie).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(r.header("cache-control"), "no-store", "{path}");
    }
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn site_metrics_are_for_loopback_or_the_token() {
    // nginx on this host: every connection comes from 127.0.0.1.
    let proxies = TrustedProxies::new([("127.0.0.1".parse().unwrap(), 32)]);
    let site = TestSite::with_proxies(
        Backend::Sqlite,
        |c| c.web.metrics_token = site::config::Secret("s3cret-token".into()),
        proxies,
    )
    .await;
    metrics_access(&site).await;
    site.finish().await;
}

async fn metrics_access(t: &TestSite) {
    let read = |peer: &'static str, headers: &'static [(&'static str, &'static str)]| {
        let mut b = Request::builder().uri("/site/metrics");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b.body(Body::empty()).unwrap();
        async move { t.send_from(req, peer).await.status }
    };
    let ok = StatusCode::OK;
    let hidden = StatusCode::NOT_FOUND;
    assert_eq!(read("127.0.0.1:1", &[]).await, ok, "the operator on this host");
    assert_eq!(read("[::1]:1", &[]).await, ok);
    let remote = read("127.0.0.1:1", &[("x-forwarded-for", "203.0.113.9")]).await;
    assert_eq!(remote, hidden, "a remote client through nginx");
    assert_eq!(read("198.51.100.1:1", &[]).await, hidden);
    let token = read("198.51.100.1:1", &[("authorization", "Bearer s3cret-token")]).await;
    assert_eq!(token, ok, "the scraper with the token");
    let wrong = read("198.51.100.1:1", &[("authorization", "Bearer s3cret-tokem")]).await;
    assert_eq!(wrong, hidden);
    let no_peer = t.get("/site/metrics", None).await;
    assert_eq!(no_peer.status, hidden);
    assert!(t.metrics().await.contains("nexsuj_site_metrics_denied_total 4"));
}

both!(logging_out_takes_a_post_with_its_token, |t| {
    t.signup("leaver").await;
    let session = t.login("leaver").await;
    let page = t.get_html("/logout", Some(&session)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("action=\"/logout\""), "{}", page.text());
    let (nonce, token) = csrf_of(&page);
    let cookies = format!("{nonce}; {session}");
    assert_eq!(
        t.get("/api/profile", Some(&session)).await.status,
        StatusCode::OK,
        "a GET (an <img> on another site) logs nobody out"
    );
    let forged = t
        .post_form(
            "/logout",
            &[],
            &[("cookie", &cookies), ("origin", "http://evil.test")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(t.get("/api/profile", Some(&session)).await.status, StatusCode::OK);
    let out = t
        .post_form(
            "/logout",
            &[("csrf", &token)],
            &[("cookie", &cookies), ("origin", "http://site.test")],
        )
        .await;
    assert_eq!(
        (out.status, out.header("location")),
        (StatusCode::SEE_OTHER, "/".into())
    );
    assert_eq!(
        t.get("/api/profile", Some(&session)).await.status,
        StatusCode::UNAUTHORIZED
    );
});
