//! The HTML pages and their forms (CSRF tokens, redirects, escaping).

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};

use crate::both;
use crate::support::torrent_bytes;

/// The CSRF cookie and token a page hands out.
#[allow(clippy::expect_used)]
fn csrf_of(r: &crate::support::Reply, cookie: Option<&str>) -> (String, String) {
    let html = r.text();
    let token = html.split("name=\"csrf\" value=\"").nth(1).expect("a csrf field")[..32].to_owned();
    let nonce = r
        .cookie("nx_csrf")
        .or_else(|| cookie.map(str::to_owned))
        .expect("a csrf cookie");
    (nonce, token)
}

both!(forms_need_their_csrf_token, |t| {
    t.signup("webby").await;
    let page = t.get_html("/login", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.header("set-cookie").contains("HttpOnly"));
    let (nonce, token) = csrf_of(&page, None);
    let creds = [("email", "webby@example.org"), ("pwd", "Sup3r-secret")];
    let browser = [("origin", "http://evil.test"), ("cookie", nonce.as_str())];
    // A browser post without a token, or with a wrong one, is refused.
    let r = t.post_form("/login", &creds, &browser).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut wrong = creds.to_vec();
    wrong.push(("csrf", "0123456789abcdef0123456789abcdef"));
    let r = t.post_form("/login", &wrong, &[("cookie", nonce.as_str())]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A token from another browser (another nonce) is refused too.
    let other = t.get_html("/login", None).await;
    let (_, other_token) = csrf_of(&other, None);
    let mut stolen = creds.to_vec();
    stolen.push(("csrf", &other_token));
    assert_eq!(
        t.post_form("/login", &stolen, &[("cookie", nonce.as_str())])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // The right token logs in and redirects.
    let mut good = creds.to_vec();
    good.push(("csrf", &token));
    let r = t
        .post_form(
            "/login",
            &good,
            &[("cookie", nonce.as_str()), ("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.header("location"), "/");
    assert!(r.cookie("nx_session").is_some());
    // A wrong password through the form shows the form again with the error.
    let mut bad = vec![
        ("email", "webby@example.org"),
        ("pwd", "Wrong-pass1"),
        ("csrf", &token),
    ];
    let r = t.post_form("/login", &bad, &[("cookie", nonce.as_str())]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.text().contains("wrong e-mail or password") && r.text().contains("value=\"webby@example.org\"")
    );
    bad.clear();
});

both!(sign_up_log_in_upload_and_browse_with_forms, |t| {
    let page = t.get_html("/signup", None).await;
    let (nonce, token) = csrf_of(&page, None);
    let cookie = [("cookie", nonce.as_str()), ("origin", "http://site.test")];
    let email = "formy@example.org";
    let r = t
        .post_form("/signup/code", &[("email", email), ("csrf", &token)], &cookie)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("We sent a code to formy@example.org"));
    let code = t.mailed_code(email);
    let fields = [
        ("nick", "formy"),
        ("email", email),
        ("pwd", "weak"),
        ("sex", "0"),
        ("code", &code),
        ("csrf", &token),
    ];
    let r = t.post_form("/signup", &fields, &cookie).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text().contains("password must have at least 8 characters") && r.text().contains("value=\"formy\"")
    );
    let fields = [
        ("nick", "formy"),
        ("email", email),
        ("pwd", "Sup3r-secret"),
        ("sex", "0"),
        ("code", &code),
        ("csrf", &token),
    ];
    let r = t.post_form("/signup", &fields, &cookie).await;
    assert_eq!(
        (r.status, r.header("location")),
        (StatusCode::SEE_OTHER, "/login?created=1".into())
    );
    assert!(
        t.get_html("/login?created=1", Some(&nonce))
            .await
            .text()
            .contains("Your account is ready")
    );
    let r = t
        .post_form(
            "/login",
            &[("email", email), ("pwd", "Sup3r-secret"), ("csrf", &token)],
            &cookie,
        )
        .await;
    let session = r.cookie("nx_session").unwrap();
    let both_cookies = format!("{nonce}; {session}");
    // The upload form (multipart with the token).
    let upload = t.get_html("/upload", Some(&both_cookies)).await;
    assert!(upload.text().contains("enctype=\"multipart/form-data\""));
    let boundary = "b0undary";
    let mut body = Vec::new();
    for (k, v) in [
        ("csrf", token.as_str()),
        ("title", "<script>alert(1)</script> Film"),
        ("type", "movie"),
        ("labels", "hd"),
    ] {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"torrent\"; filename=\"f.torrent\"\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(&torrent_bytes("film.mkv", 5000));
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let req = Request::builder()
        .method(Method::POST)
        .uri("/upload/torrent")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header("cookie", &both_cookies)
        .header("origin", "http://site.test")
        .body(Body::from(body))
        .unwrap();
    let r = t.send(req).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let detail_url = r.header("location");
    assert!(detail_url.starts_with("/torrent/"));
    let detail = t.get_html(&detail_url, Some(&both_cookies)).await.text();
    assert!(
        detail.contains("alert(1)") && detail.contains("script&#62; Film"),
        "titles are escaped: {detail}"
    );
    assert!(!detail.contains("<script>alert"));
    assert!(detail.contains("film.mkv") && detail.contains("Download .torrent"));
    // Browse and search pages.
    let index = t.get_html("/?q=film", Some(&both_cookies)).await.text();
    assert!(index.contains("1 torrent matching") && index.contains("/download/torrent?id="));
    let none = t.get_html("/?q=zzz", None).await.text();
    assert!(none.contains("0 torrents"));
    // The profile page.
    let me = t.get("/api/profile", Some(&session)).await.json()["body"].clone();
    let profile = t
        .get_html(&format!("/user/{}", me["id"]), Some(&both_cookies))
        .await
        .text();
    assert!(profile.contains("Ratio") && profile.contains(me["authKey"].as_str().unwrap()));
    // Pages for visitors.
    assert_eq!(t.get_html("/upload", None).await.header("location"), "/login");
    assert_eq!(t.get_html("/user/1", None).await.header("location"), "/login");
    let missing = t.get_html("/no/such/page", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.text().contains("page not found"));
    assert_eq!(t.get("/no/such/page", None).await.json()["code"], 404);
    let gone = t.get_html("/torrent/424242", None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    // Logging out from a browser (the header's button: a form with the token) goes back to
    // the front page.
    assert!(index.contains("action=\"/logout\""));
    let out = t
        .post_form(
            "/logout",
            &[("csrf", &token)],
            &[("cookie", &both_cookies), ("origin", "http://site.test")],
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
