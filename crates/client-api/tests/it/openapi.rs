use axum::http::{Method, StatusCode};
use client_api::routes::ROUTES;

use crate::common::Node;

/// Every documented route answers (no 404 "no such endpoint", no 405) for every documented
/// method, the document lists exactly the router's routes, and anything else is a 404.
#[tokio::test]
async fn openapi_describes_the_router() {
    let dir = testkit::TempDir::new("api-openapi");
    let n = Node::start(dir.path()).await;
    let (s, doc) = n.api(Method::GET, "/openapi.json", vec![]).await;
    assert_eq!(s, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.len(), ROUTES.len());
    let zero = "0".repeat(40);
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            assert!(op["summary"].is_string(), "{method} {path}");
            let uri = path.replace("{infohash}", &zero).replace("{index}", "0");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (s, _, v) = n
                .raw(
                    m,
                    &uri,
                    &[
                        ("authorization", "Bearer test-token-0123456789"),
                        ("content-type", "application/json"),
                    ],
                    b"{}".to_vec(),
                )
                .await;
            assert_ne!(s, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}: {v}");
            let unrouted = v["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("no such endpoint"));
            assert!(!unrouted, "{method} {path} is documented but not routed");
            assert_ne!(s, StatusCode::INTERNAL_SERVER_ERROR, "{method} {path}: {v}");
        }
    }
    for undocumented in ["/api", "/torrents", "/alldata/x"] {
        let (s, _) = n.api(Method::GET, undocumented, vec![]).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{undocumented}");
    }
    n.close().await;
}
