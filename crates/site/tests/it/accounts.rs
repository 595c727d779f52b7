//! Sign-up codes, sign-up, login, logout.

use axum::http::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::TestSite;

both!(signup_returns_the_seed_fields, |t| {
    let body = t.signup("Alice1").await;
    assert_eq!(body["nick"], "Alice1");
    assert_eq!(body["email"], "alice1@example.org");
    assert_eq!(body["sex"], 1);
    assert!(body["id"].as_i64().unwrap() > 0);
    let key = body["authKey"].as_str().unwrap();
    assert_eq!(key.len(), 32);
    assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
    // No account is an admin by signing up, not even the first: the operator names admins.
    let cookie = t.login("Alice1").await;
    assert_eq!(
        t.get("/api/profile", Some(&cookie)).await.json()["body"]["isAdmin"],
        false
    );
    site::admin::grant(t.site.db(), "ALICE1@example.org")
        .await
        .unwrap();
    assert_eq!(
        t.get("/api/profile", Some(&cookie)).await.json()["body"]["isAdmin"],
        true
    );
    t.signup("bob").await;
    let bob = t.login("bob").await;
    let me = t.get("/api/profile", Some(&bob)).await.json();
    assert_eq!(me["body"]["isAdmin"], false);
    assert_eq!(me["body"]["authKey"].as_str().unwrap().len(), 32);
});

both!(signup_field_errors, |t| {
    let email = "carol@example.org";
    let r = t
        .post_json("/signup/code", json!({ "email": "not-an-address" }), None)
        .await;
    assert_eq!(
        (r.status, r.json()["body"]["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("email"))
    );
    assert_eq!(
        t.post_json("/signup/code", json!({ "email": email }), None)
            .await
            .status,
        StatusCode::OK
    );
    let code = t.mailed_code(email);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let base = json!({ "nick": "carol", "email": email, "pwd": "Sup3r-secret", "sex": 2, "code": code });
    let with = |k: &str, v: serde_json::Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let field_of = |r: &crate::support::Reply| r.json()["body"]["field"].as_str().unwrap_or("").to_owned();
    let r = t
        .post_json("/signup", with("nick", json!("bad nick!")), None)
        .await;
    assert_eq!((r.status, field_of(&r)), (StatusCode::BAD_REQUEST, "nick".into()));
    let r = t.post_json("/signup", with("pwd", json!("short")), None).await;
    assert_eq!((r.status, field_of(&r)), (StatusCode::BAD_REQUEST, "pwd".into()));
    let r = t
        .post_json("/signup", with("pwd", json!("onlylowercase")), None)
        .await;
    assert_eq!(field_of(&r), "pwd");
    let r = t.post_json("/signup", with("sex", json!(7)), None).await;
    assert_eq!(field_of(&r), "sex");
    let r = t.post_json("/signup", with("code", json!(wrong)), None).await;
    assert_eq!((r.status, field_of(&r)), (StatusCode::BAD_REQUEST, "code".into()));
    assert_eq!(r.json()["message"], "wrong code");
    // A form post works as well as JSON.
    let r = t
        .post_form(
            "/signup",
            &[
                ("nick", "carol"),
                ("email", email),
                ("pwd", "Sup3r-secret"),
                ("sex", "2"),
                ("code", &code),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // Taken nick (any case) and e-mail. A code request for a registered address is answered
    // as any other (its owner is told by mail); a taken nick is named after a valid code.
    let r = t.post_json("/signup/code", json!({ "email": email }), None).await;
    assert_eq!(r.status, StatusCode::OK);
    t.post_json("/signup/code", json!({ "email": "dave@example.org" }), None)
        .await;
    let dave = t.mailed_code("dave@example.org");
    let r = t
        .post_json(
            "/signup",
            json!({ "nick": "CAROL", "email": "dave@example.org", "pwd": "Sup3r-secret", "code": dave }),
            None,
        )
        .await;
    assert_eq!((r.status, field_of(&r)), (StatusCode::CONFLICT, "nick".into()));
    // A used code is gone (and the registered address got a code of its own, never mailed).
    let r = t.post_json("/signup", with("nick", json!("carol2")), None).await;
    assert_eq!((r.status, field_of(&r)), (StatusCode::BAD_REQUEST, "code".into()));
});

both!(codes_expire_after_five_wrong_tries, |t| {
    let email = "erin@example.org";
    t.post_json("/signup/code", json!({ "email": email }), None).await;
    let code = t.mailed_code(email);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let r = t
            .post_json(
                "/signup",
                json!({ "nick": "erin", "email": email, "pwd": "Sup3r-secret", "code": wrong }),
                None,
            )
            .await;
        assert_eq!(r.json()["message"], "wrong code");
    }
    let r = t
        .post_json(
            "/signup",
            json!({ "nick": "erin", "email": email, "pwd": "Sup3r-secret", "code": code }),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["message"].as_str().unwrap().contains("expired"),
        "{}",
        r.text()
    );
});

both!(code_requests_are_rate_limited, |t| {
    let email = json!({ "email": "frank@example.org" });
    for _ in 0..3 {
        assert_eq!(
            t.post_json("/signup/code", email.clone(), None).await.status,
            StatusCode::OK
        );
    }
    let r = t.post_json("/signup/code", email, None).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.json()["code"], 429);
});

both!(login_logout_and_cookie_flags, |t| {
    t.signup("gina").await;
    let r = t
        .post_json(
            "/login",
            json!({ "email": "gina@example.org", "pwd": "nope-Nope1" }),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!(401))
    );
    let r = t
        .post_json(
            "/login",
            json!({ "email": "nobody@example.org", "pwd": "x" }),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = t
        .post_json(
            "/login",
            json!({ "email": "GINA@example.org", "pwd": "Sup3r-secret" }),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.json(),
        json!({ "code": 200, "message": "logged in", "body": {} })
    );
    let set = r.header("set-cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && !set.contains("Secure"),
        "{set}"
    );
    let cookie = r.cookie("nx_session").unwrap();
    assert_eq!(t.get("/api/profile", Some(&cookie)).await.status, StatusCode::OK);
    let r = t.post_json("/logout", json!({}), Some(&cookie)).await;
    assert_eq!(r.json()["code"], 200);
    assert!(r.header("set-cookie").contains("Max-Age=0"));
    assert_eq!(
        t.get("/api/profile", Some(&cookie)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(t.get("/api/profile", None).await.status, StatusCode::UNAUTHORIZED);
});

both!(failed_logins_are_rate_limited_per_account, |t| {
    t.signup("hank").await;
    for _ in 0..5 {
        let r = t
            .post_json(
                "/login",
                json!({ "email": "hank@example.org", "pwd": "wrong-Pass1" }),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // Now even the right password waits.
    let r = t
        .post_json(
            "/login",
            json!({ "email": "hank@example.org", "pwd": "Sup3r-secret" }),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
});

#[tokio::test]
async fn secure_cookies_over_tls() {
    let t = TestSite::with_config(crate::support::Backend::Sqlite, |c| {
        c.web.base_url = "https://site.test".into()
    })
    .await;
    t.signup("ivy").await;
    let r = t
        .post_json(
            "/login",
            json!({ "email": "ivy@example.org", "pwd": "Sup3r-secret" }),
            None,
        )
        .await;
    assert!(r.header("set-cookie").contains("; Secure"));
    t.finish().await;
}

#[tokio::test]
async fn closed_signup() {
    let t = TestSite::with_config(crate::support::Backend::Sqlite, |c| c.web.signup_open = false).await;
    let r = t
        .post_json("/signup/code", json!({ "email": "x@example.org" }), None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    t.finish().await;
}

/// The per-IP limit on code requests (10 in ten minutes) shows whose address counts.
#[tokio::test]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    use tracker::http::TrustedProxies;
    let proxies = TrustedProxies::new([("10.0.0.1".parse().unwrap(), 32)]);
    let t = TestSite::with_proxies(crate::support::Backend::Sqlite, |_| {}, proxies).await;
    // Through the proxy: each client has its own allowance, whatever it prepends.
    for n in 0..10 {
        let status = t
            .code_request(n, "10.0.0.1:5000", "198.51.100.9, 203.0.113.1")
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let spoofed = t
        .code_request(10, "10.0.0.1:5000", "198.51.100.77, 203.0.113.1")
        .await;
    assert_eq!(
        spoofed,
        StatusCode::TOO_MANY_REQUESTS,
        "a prepended hop is not the client"
    );
    assert_eq!(
        t.code_request(11, "10.0.0.1:5000", "203.0.113.2").await,
        StatusCode::OK
    );
    // Straight from an untrusted address: the header is ignored.
    for n in 20..30 {
        let status = t
            .code_request(n, "192.0.2.5:5000", &format!("203.0.113.{n}"))
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let again = t.code_request(30, "192.0.2.5:5000", "203.0.113.99").await;
    assert_eq!(again, StatusCode::TOO_MANY_REQUESTS);
    t.finish().await;
}
