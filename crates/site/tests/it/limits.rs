//! The limits that keep one client from taking the site's memory and CPU, or more guesses
//! than it is allowed: uploads read only after the session and the token, a bound on
//! uploads and on password hashing, login attempts counted before the password is checked,
//! code tries counted atomically, IPv6 clients limited by their /64.

// Test helpers may unwrap: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;
use site::db::codes::{self, CodeCheck, MAX_TRIES};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;

use crate::both;
use crate::support::{Backend, TestSite, multipart, torrent_bytes};

/// Serves the site on a real loopback port (hyper answers `Expect: 100-continue` only when
/// a handler first reads the body, which is what these tests watch for).
async fn serve(t: &TestSite) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = t
        .router
        .clone()
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Sends the head of an upload announcing `length` body bytes with `Expect: 100-continue`,
/// and none of the body; returns the connection and the status line of the first answer.
async fn upload_head(addr: SocketAddr, length: usize, headers: &str) -> (TcpStream, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /upload/torrent HTTP/1.1\r\nHost: site.test\r\nContent-Length: {length}\r\n\
         Content-Type: multipart/form-data; boundary=XnexsujBoundary7\r\nExpect: 100-continue\r\n{headers}\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let first = read_head(&mut s).await;
    (s, first)
}

/// Reads one response head; returns its status line.
async fn read_head(s: &mut TcpStream) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        assert_eq!(s.read(&mut byte).await.unwrap(), 1, "connection closed: {head:?}");
        head.push(byte[0]);
    }
    let text = String::from_utf8(head).unwrap();
    text.lines().next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_before_login_is_refused_before_its_body_is_read() {
    let t = TestSite::new(Backend::Sqlite).await;
    let addr = serve(&t).await;
    // 10 MB announced, none sent: a server that read the body before checking the session
    // would first answer "100 Continue" and wait for it.
    let (_, status) = upload_head(addr, 10_000_000, "").await;
    assert_eq!(status, "HTTP/1.1 401 Unauthorized", "the session comes first");
    let (_, status) = upload_head(addr, 10_000_000, "Origin: http://site.test\r\n").await;
    assert_eq!(
        status, "HTTP/1.1 303 See Other",
        "a browser goes to the login page"
    );
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_browser_upload_is_refused_after_its_first_field() {
    let t = TestSite::new(Backend::Sqlite).await;
    let (_, cookie) = t.user("forged").await;
    let addr = serve(&t).await;
    // A browser form whose first field is not the token: refused with the file unsent.
    let (body, _) = multipart(&torrent_bytes("forged.bin", 10), &[("title", "x")]);
    let (mut s, status) = upload_head(
        addr,
        body.len() + 10_000_000,
        &format!("Cookie: {cookie}\r\nOrigin: http://evil.test\r\n"),
    )
    .await;
    assert_eq!(status, "HTTP/1.1 100 Continue", "the token's field may be read");
    s.write_all(&body[..body.len() / 2]).await.unwrap();
    // The timeout only turns a regression (a server waiting for the 10 MB) into a failure.
    let refused = tokio::time::timeout(std::time::Duration::from_secs(60), read_head(&mut s))
        .await
        .expect("the form was refused before its file was read");
    assert_eq!(refused, "HTTP/1.1 403 Forbidden");
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_script_may_send_the_upload_token_in_a_header() {
    let t = TestSite::new(Backend::Sqlite).await;
    let (_, session) = t.user("scripted").await;
    let page = t.get_html("/upload", Some(&session)).await;
    let token = page.text().split("name=\"csrf\" value=\"").nth(1).unwrap()[..32].to_owned();
    let cookies = format!("{}; {session}", page.cookie("nx_csrf").unwrap());
    let send = |token: &str, name: &str| {
        let (body, content_type) = multipart(&torrent_bytes(name, 10), &[("title", name)]);
        let req = Request::builder()
            .method(Method::POST)
            .uri("/upload/torrent")
            .header("content-type", content_type)
            .header("cookie", &cookies)
            .header("origin", "http://site.test")
            .header("x-csrf-token", token)
            .body(Body::from(body))
            .unwrap();
        t.send(req)
    };
    let r = send("0123456789abcdef0123456789abcdef", "bad.bin").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(&token, "good.bin").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        r.json()["body"]["id"].as_i64().is_some(),
        "a script's reply is JSON"
    );
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_past_the_cap_get_503_and_retry_after() {
    let t = TestSite::with_config(Backend::Sqlite, |c| c.limits.max_concurrent_uploads = 1).await;
    let (_, cookie) = t.user("capped").await;
    let addr = serve(&t).await;
    let (body, _) = multipart(&torrent_bytes("first.bin", 10), &[("title", "first")]);
    // The first upload is asked for its body: it holds the only slot until it is sent.
    let (mut s, status) = upload_head(addr, body.len(), &format!("Cookie: {cookie}\r\n")).await;
    assert_eq!(status, "HTTP/1.1 100 Continue");
    let r = t
        .upload(Some(&cookie), &torrent_bytes("second.bin", 10), &[])
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    assert_eq!(r.header("retry-after"), "10");
    s.write_all(&body).await.unwrap();
    assert_eq!(read_head(&mut s).await, "HTTP/1.1 200 OK");
    // The slot is free again.
    let r = t
        .upload(Some(&cookie), &torrent_bytes("second.bin", 10), &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(t.metrics().await.contains("nexsuj_site_uploads_busy_total 1"));
    t.finish().await;
}

/// A login over a connection from `peer`, in a task of its own; returns the reply's status
/// and `Retry-After`.
fn login_task(
    t: &TestSite,
    email: String,
    pwd: &'static str,
    peer: String,
) -> tokio::task::JoinHandle<(StatusCode, String)> {
    let router = t.router.clone();
    tokio::spawn(async move {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri("/login")
            .header("content-type", "application/json")
            .body(Body::from(json!({ "email": email, "pwd": pwd }).to_string()))
            .unwrap();
        let peer: SocketAddr = peer.parse().unwrap();
        req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        let resp = router.oneshot(req).await.unwrap();
        let retry = resp
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (resp.status(), retry)
    })
}

fn hashes_done(t: &TestSite) -> u64 {
    t.site
        .passwords()
        .counters()
        .done
        .load(std::sync::atomic::Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_wrong_logins_get_at_most_the_configured_verifications() {
    let t = TestSite::with_config(Backend::Sqlite, |c| c.limits.max_concurrent_hashes = 256).await;
    t.signup("target").await;
    let before = hashes_done(&t);
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            login_task(
                &t,
                "target@example.org".into(),
                "Wrong-guess1",
                "192.0.2.1:4000".into(),
            )
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap().0);
    }
    let verified = hashes_done(&t) - before;
    let wrong = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(
        verified <= 5,
        "{verified} passwords verified for 5 allowed attempts"
    );
    assert_eq!((wrong, limited), (5, 195), "{statuses:?}");
    assert!(t.metrics().await.contains("nexsuj_site_logins_limited_total 195"));
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_hashing_never_runs_past_its_bound() {
    let t = TestSite::with_config(Backend::Sqlite, |c| c.limits.max_concurrent_hashes = 2).await;
    t.signup("hashed").await;
    // 200 logins in parallel, each for another account from another address, so that no
    // rate limit stops them before the hashing pool does.
    let tasks: Vec<_> = (0..200)
        .map(|n| {
            let peer = format!("10.1.{}.{}:4000", n / 200, n % 200 + 1);
            login_task(&t, format!("nobody{n}@example.org"), "Wrong-guess1", peer)
        })
        .collect();
    for task in tasks {
        let (status, retry) = task.await.unwrap();
        match status {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::SERVICE_UNAVAILABLE => assert_eq!(retry, "2"),
            other => panic!("unexpected {other}"),
        }
    }
    let peak = t
        .site
        .passwords()
        .counters()
        .peak
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        (1..=2).contains(&peak),
        "{peak} argon2 runs (19 MiB each) at once"
    );
    // With every slot taken, a login is refused at once and its attempt not counted: the
    // account's five attempts are all still there afterwards.
    let held = [
        t.site.passwords().try_permit().unwrap(),
        t.site.passwords().try_permit().unwrap(),
    ];
    for _ in 0..6 {
        let (status, retry) = login_task(
            &t,
            "hashed@example.org".into(),
            "Sup3r-secret",
            "10.9.9.9:1".into(),
        )
        .await
        .unwrap();
        assert_eq!((status, retry.as_str()), (StatusCode::SERVICE_UNAVAILABLE, "2"));
    }
    drop(held);
    t.login("hashed").await;
    assert!(
        t.metrics()
            .await
            .lines()
            .any(|l| l.starts_with("nexsuj_site_password_hashing_busy_total ") && !l.ends_with(" 0"))
    );
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_clients_share_the_allowance_of_their_64() {
    let t = TestSite::new(Backend::Sqlite).await;
    for n in 0..10 {
        let status = t
            .code_request(n, &format!("[2001:db8:1:2::{:x}]:5000", n + 1), "")
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let same_64 = t.code_request(10, "[2001:db8:1:2:ffff::1]:5000", "").await;
    assert_eq!(
        same_64,
        StatusCode::TOO_MANY_REQUESTS,
        "another address of the same /64"
    );
    let other_64 = t.code_request(11, "[2001:db8:1:3::1]:5000", "").await;
    assert_eq!(other_64, StatusCode::OK);
    t.finish().await;
}

both!(concurrent_wrong_code_guesses_never_exceed_the_tries, |t| {
    let email = "guesser@example.org";
    let r = t.post_json("/signup/code", json!({ "email": email }), None).await;
    assert_eq!(r.status, StatusCode::OK);
    let code = t.mailed_code(email);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let db = t.site.db().clone();
            tokio::spawn(async move { codes::check(&db, email, wrong, |a, b| a == b).await.unwrap() })
        })
        .collect();
    let mut wrongs = 0;
    for task in tasks {
        if task.await.unwrap() == CodeCheck::Wrong {
            wrongs += 1;
        }
    }
    assert_eq!(
        wrongs, MAX_TRIES,
        "each guess used a try of its own, none past the last"
    );
    let r = t
        .post_json(
            "/signup",
            json!({ "nick": "guesser", "email": email, "pwd": "Sup3r-secret", "code": code }),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("expired or was used up"), "{}", r.text());
    assert!(
        t.metrics()
            .await
            .contains("nexsuj_site_signup_codes_exhausted_total 1")
    );
});
