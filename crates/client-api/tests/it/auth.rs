use axum::http::{Method, StatusCode};

use crate::common::{Node, TOKEN};

const ZERO: &str = "0000000000000000000000000000000000000000";

#[tokio::test]
async fn credentials_hosts_cookies_and_csrf() {
    let dir = testkit::TempDir::new("api-auth");
    let n = Node::start(dir.path()).await;
    let bearer = format!("Bearer {TOKEN}");

    let (s, h, v) = n.raw(Method::GET, "/alldata", &[], vec![]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(v["error"].is_string());
    assert_eq!(h["www-authenticate"], "Bearer");
    let (s, _, _) = n
        .raw(
            Method::GET,
            "/alldata",
            &[("authorization", "Bearer nope")],
            vec![],
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, v) = n
        .raw(Method::GET, "/alldata", &[("authorization", &bearer)], vec![])
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["sessions"], serde_json::json!([]));

    // DNS rebinding: the right token from a page whose name points at us is still refused.
    for host in ["evil.example", "evil.example:8090", "192.0.2.1:8090"] {
        let (s, _, v) = n
            .raw(
                Method::GET,
                "/alldata",
                &[("authorization", &bearer), ("host", host)],
                vec![],
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{host}");
        assert!(v["error"].as_str().unwrap().contains("Host"));
        let (s, _, _) = n.raw(Method::GET, "/", &[("host", host)], vec![]).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{host}");
    }
    for host in ["localhost:8090", "[::1]:8090", "127.0.0.1"] {
        let (s, _, _) = n
            .raw(
                Method::GET,
                "/alldata",
                &[("authorization", &bearer), ("host", host)],
                vec![],
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{host}");
    }

    // The UI's files need no credentials.
    let (s, h, body) = n.bytes(Method::GET, "/", &[], vec![]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(String::from_utf8_lossy(&body).contains("app.js"));
    assert_eq!(h["x-frame-options"], "DENY");

    // Log-in: a wrong token, then the right one.
    let login = |t: &str| serde_json::json!({ "token": t }).to_string().into_bytes();
    let json = ("content-type", "application/json");
    let (s, _, _) = n.raw(Method::POST, "/login", &[json], login("wrong")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, h, v) = n.raw(Method::POST, "/login", &[json], login(TOKEN)).await;
    assert_eq!(s, StatusCode::OK);
    let set_cookie = h["set-cookie"].to_str().unwrap().to_string();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let csrf = v["csrf"].as_str().unwrap().to_string();
    assert_eq!(csrf.len(), 64);

    // The cookie reads...
    let (s, _, _) = n
        .raw(Method::GET, "/alldata", &[("cookie", &cookie)], vec![])
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, v) = n.raw(Method::GET, "/csrf", &[("cookie", &cookie)], vec![]).await;
    assert_eq!((s, v["csrf"].as_str()), (StatusCode::OK, Some(csrf.as_str())));
    // ...but changes nothing through a GET (a link on another site), nor a POST without the
    // CSRF token, nor with a wrong one.
    let stop = format!("/stoptorrent?infohash={ZERO}");
    let (s, _, _) = n
        .raw(
            Method::GET,
            &stop,
            &[("cookie", &cookie), ("x-csrf-token", &csrf)],
            vec![],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = n.raw(Method::POST, &stop, &[("cookie", &cookie)], vec![]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = n
        .raw(
            Method::POST,
            &stop,
            &[("cookie", &cookie), ("x-csrf-token", "0")],
            vec![],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // With it the request goes through (to a 404: no such torrent).
    let (s, _, _) = n
        .raw(
            Method::POST,
            &stop,
            &[("cookie", &cookie), ("x-csrf-token", &csrf)],
            vec![],
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The bearer token may use the seed's GETs.
    let (s, _, _) = n
        .raw(Method::GET, &stop, &[("authorization", &bearer)], vec![])
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Log-out ends the session.
    let (s, h, _) = n
        .raw(
            Method::POST,
            "/logout",
            &[("cookie", &cookie), ("x-csrf-token", &csrf)],
            vec![],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(h["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    let (s, _, _) = n
        .raw(Method::GET, "/alldata", &[("cookie", &cookie)], vec![])
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Guessing is counted before the token is compared: past the limit even the right one waits.
    for _ in 0..5 {
        n.raw(Method::POST, "/login", &[json], login("guess")).await;
    }
    let (s, _, v) = n.raw(Method::POST, "/login", &[json], login(TOKEN)).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
    n.close().await;
}
