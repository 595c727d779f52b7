use axum::http::{Method, StatusCode};

use crate::common::{Node, make_torrent};

#[tokio::test]
async fn errors_name_the_parameter_and_are_json() {
    let dir = testkit::TempDir::new("api-errors");
    let n = Node::start(&dir.path().join("state")).await;
    let (torrent, hash, _) = make_torrent(&dir.path().join("data"), "errs", &[40_000]);
    let zero = "0".repeat(40);

    let cases: Vec<(Method, String, Vec<u8>, StatusCode, &str)> = vec![
        (
            Method::GET,
            "/torrentdata?infohash=xyz".into(),
            vec![],
            StatusCode::BAD_REQUEST,
            "infohash: expected 40 hex digits",
        ),
        (
            Method::GET,
            "/torrentdata".into(),
            vec![],
            StatusCode::BAD_REQUEST,
            "infohash: missing",
        ),
        (
            Method::GET,
            format!("/torrentdata?infohash={zero}"),
            vec![],
            StatusCode::NOT_FOUND,
            "no torrent",
        ),
        (
            Method::POST,
            format!("/setdownrate?infohash={zero}&rate=abc"),
            vec![],
            StatusCode::BAD_REQUEST,
            "rate: ",
        ),
        (
            Method::POST,
            format!("/setuprate?infohash={zero}&rate=5"),
            vec![],
            StatusCode::NOT_FOUND,
            "no torrent",
        ),
        (
            Method::POST,
            "/setglobaldownrate".into(),
            vec![],
            StatusCode::BAD_REQUEST,
            "rate: missing",
        ),
        (
            Method::POST,
            "/removetorrent?infohash=".to_string() + &zero + "&delete=perhaps",
            vec![],
            StatusCode::BAD_REQUEST,
            "delete: ",
        ),
        (
            Method::POST,
            "/addtorrentfile".into(),
            vec![],
            StatusCode::BAD_REQUEST,
            "body: empty",
        ),
        (
            Method::POST,
            "/addtorrentfile".into(),
            b"d4:spam".to_vec(),
            StatusCode::BAD_REQUEST,
            "not a torrent file",
        ),
        (
            Method::POST,
            "/addtorrentfile".into(),
            vec![b'x'; 70_000],
            StatusCode::PAYLOAD_TOO_LARGE,
            "body over",
        ),
        (
            Method::POST,
            "/addtorrentfile?path=../up".into(),
            torrent.clone(),
            StatusCode::BAD_REQUEST,
            "path: ",
        ),
        (
            Method::POST,
            "/addtorrentfile?start=maybe".into(),
            torrent.clone(),
            StatusCode::BAD_REQUEST,
            "start: ",
        ),
        (
            Method::POST,
            "/addmagnet".into(),
            b"{not json".to_vec(),
            StatusCode::BAD_REQUEST,
            "body: ",
        ),
        (
            Method::POST,
            "/addmagnet".into(),
            br#"{"url":"http://x"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "url: ",
        ),
        (
            Method::POST,
            "/addmagnet".into(),
            br#"{"url":"magnet:?xt=urn:btih:00","maxdown":"lots"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "maxdown: ",
        ),
        (
            Method::GET,
            "/nowhere".into(),
            vec![],
            StatusCode::NOT_FOUND,
            "no such endpoint",
        ),
        (
            Method::DELETE,
            "/alldata".into(),
            vec![],
            StatusCode::METHOD_NOT_ALLOWED,
            "method DELETE",
        ),
        (
            Method::GET,
            format!("/stream/{zero}/0"),
            vec![],
            StatusCode::NOT_FOUND,
            "no torrent",
        ),
        (
            Method::GET,
            format!("/stream/{zero}/x"),
            vec![],
            StatusCode::BAD_REQUEST,
            "index: ",
        ),
    ];
    for (method, uri, body, status, error) in cases {
        let json = body.first() == Some(&b'{');
        let mut headers = vec![("authorization", "Bearer test-token-0123456789")];
        if json {
            headers.push(("content-type", "application/json"));
        }
        let (s, _, v) = n.raw(method.clone(), &uri, &headers, body).await;
        assert_eq!(s, status, "{method} {uri}: {v}");
        let text = v["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {uri}: no JSON error: {v}"));
        assert!(
            text.starts_with(error) || text.contains(error),
            "{method} {uri}: {text}"
        );
    }

    // Added once; the second time is a conflict, as a file or as a magnet.
    let data = dir.path().join("data").display().to_string();
    let (s, v) = n
        .api(
            Method::POST,
            &format!("/addtorrentfile?path={data}&start=false"),
            torrent.clone(),
        )
        .await;
    assert_eq!((s, v["infohash"].as_str()), (StatusCode::OK, Some(hash.as_str())));
    let (s, v) = n.api(Method::POST, "/addtorrentfile", torrent).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let magnet = serde_json::json!({ "url": format!("magnet:?xt=urn:btih:{hash}") }).to_string();
    let (s, _, v) = n
        .raw(
            Method::POST,
            "/addmagnet",
            &[
                ("authorization", "Bearer test-token-0123456789"),
                ("content-type", "application/json"),
            ],
            magnet.into_bytes(),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (_, v) = n
        .api(Method::GET, &format!("/torrentdata?infohash={hash}"), vec![])
        .await;
    assert_eq!(v["state"], "stopped");
    assert_eq!(v["error"], serde_json::Value::Null);
    // Streaming needs a running torrent.
    let (s, v) = n.api(Method::GET, &format!("/stream/{hash}/0"), vec![]).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    n.close().await;
}
