//! A site per test, on SQLite (always) or PostgreSQL (when `NEXSUJ_TEST_PG` names a server;
//! each test gets a fresh schema), driven in-process with `oneshot`.

// Test helpers: a failed step should panic with its cause, like the tests that call them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use ids::{InfoHash, PeerId};
use serde_json::Value;
use site::Site;
use site::config::SiteConfig;
use site::db::Db;
use testkit::TempDir;
use tower::ServiceExt;
use tracker::access::Refusal;
use tracker::engine::{AnnounceInput, CoreConfig};
use tracker::http::TrustedProxies;
use tracker_proto::common::{AnnounceEvent, AnnounceRequest, AnnounceResponse, Transfer};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The message of a PostgreSQL run skipped for want of a server.
pub const PG_SKIPPED: &str = "skipped: NEXSUJ_TEST_PG not set";

/// The PostgreSQL server's URL, or `None` after saying (on stderr, which
/// `cargo test -- --nocapture` shows) that the test `name` skips its PostgreSQL run: libtest
/// has no "skipped" outcome, and a silent pass would look like a PostgreSQL run.
pub fn postgres_or_skip(name: &str) -> Option<String> {
    let url = std::env::var("NEXSUJ_TEST_PG").ok();
    if url.is_none() {
        eprintln!("{name}: {PG_SKIPPED}");
    }
    url
}

/// Runs a test body on SQLite, and on PostgreSQL when `NEXSUJ_TEST_PG` is set (saying
/// [`PG_SKIPPED`] otherwise).
#[macro_export]
macro_rules! both {
    ($name:ident, |$t:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let site = $crate::support::TestSite::new($crate::support::Backend::Sqlite).await;
                {
                    let $t = &site;
                    $body
                }
                site.finish().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::support::postgres_or_skip(module_path!()).is_none() {
                    return;
                }
                let site = $crate::support::TestSite::new($crate::support::Backend::Postgres).await;
                {
                    let $t = &site;
                    $body
                }
                site.finish().await;
            }
        }
    };
}

/// A reply, decoded.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.text()))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }
    /// `name=value` of a Set-Cookie.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(|c| c.split(';').next().unwrap().to_owned())
    }
}

pub struct TestSite {
    pub site: Site,
    pub router: Router,
    pub dir: TempDir,
    schema: Option<String>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl TestSite {
    pub async fn new(backend: Backend) -> Self {
        Self::with_config(backend, |_| {}).await
    }

    pub async fn with_config(backend: Backend, tweak: impl FnOnce(&mut SiteConfig)) -> Self {
        Self::with_proxies(backend, tweak, TrustedProxies::default()).await
    }

    /// A site that believes `X-Forwarded-For` from `proxies`.
    pub async fn with_proxies(
        backend: Backend,
        tweak: impl FnOnce(&mut SiteConfig),
        proxies: TrustedProxies,
    ) -> Self {
        Self::with_core(backend, tweak, proxies, test_core()).await
    }

    /// A second instance of this site: the same database (and schema), its own tracker
    /// built from `core` (give both a shared swarm store to make them one tracker).
    pub async fn sibling(&self, core: CoreConfig) -> Site {
        let url = std::env::var("NEXSUJ_TEST_PG").unwrap();
        let db = Db::connect(&url, 4, self.schema.as_deref()).await.unwrap();
        let mut config = SiteConfig::default();
        config.storage.data_dir = self.dir.path().to_path_buf();
        config.web.base_url = "http://site.test".into();
        Site::with_db(config, core, TrustedProxies::default(), db)
            .await
            .unwrap()
    }

    /// A site whose tracker is built from `core`.
    pub async fn with_core(
        backend: Backend,
        tweak: impl FnOnce(&mut SiteConfig),
        proxies: TrustedProxies,
        core: CoreConfig,
    ) -> Self {
        let dir = TempDir::new("site");
        let mut config = SiteConfig::default();
        config.storage.data_dir = dir.path().to_path_buf();
        config.web.base_url = "http://site.test".into();
        config.web.udp_announce_url = "udp://site.test:6969/announce".into();
        tweak(&mut config);
        let (db, schema) = match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
                (Db::connect(&url, 4, None).await.unwrap(), None)
            }
            Backend::Postgres => {
                let url = std::env::var("NEXSUJ_TEST_PG").unwrap();
                let n = COUNTER.fetch_add(1, Ordering::Relaxed);
                let schema = format!("t{}_{}_{}", std::process::id(), n, site::db::unix_now() % 100_000);
                (Db::connect(&url, 4, Some(&schema)).await.unwrap(), Some(schema))
            }
        };
        let site = Site::with_db(config, core, proxies, db).await.unwrap();
        let router = site.router();
        Self {
            site,
            router,
            dir,
            schema,
        }
    }

    pub async fn finish(self) {
        if let Some(schema) = &self.schema {
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(self.site.db().pool())
                .await
                .unwrap();
        }
        self.site.db().close().await;
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = to_bytes(resp.into_body(), 64 << 20).await.unwrap().to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Asks for a sign-up code for a new address, over a connection from `peer` carrying
    /// `X-Forwarded-For: forwarded`; returns the status.
    pub async fn code_request(&self, n: usize, peer: &str, forwarded: &str) -> StatusCode {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri("/signup/code")
            .header("content-type", "application/json")
            .header("x-forwarded-for", forwarded)
            .body(Body::from(
                serde_json::json!({ "email": format!("xff{n}@example.org") }).to_string(),
            ))
            .unwrap();
        let peer: std::net::SocketAddr = peer.parse().unwrap();
        req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        self.send(req).await.status
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut b = Request::builder().uri(path);
        if let Some(c) = cookie {
            b = b.header("cookie", c);
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    pub async fn get_html(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut b = Request::builder().uri(path).header("accept", "text/html");
        if let Some(c) = cookie {
            b = b.header("cookie", c);
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    pub async fn post_json(&self, path: &str, body: Value, cookie: Option<&str>) -> Reply {
        let mut b = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("content-type", "application/json");
        if let Some(c) = cookie {
            b = b.header("cookie", c);
        }
        self.send(b.body(Body::from(body.to_string())).unwrap()).await
    }

    pub async fn post_form(&self, path: &str, pairs: &[(&str, &str)], headers: &[(&str, &str)]) -> Reply {
        let mut b = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("content-type", "application/x-www-form-urlencoded");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let body = serde_urlencoded::to_string(pairs).unwrap();
        self.send(b.body(Body::from(body)).unwrap()).await
    }

    /// The code mailed to `email`, read from the outbox.
    pub fn mailed_code(&self, email: &str) -> String {
        let outbox = self.dir.path().join("outbox");
        let mut found = None;
        for entry in std::fs::read_dir(&outbox).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            if text.contains(&format!("To: {email}")) && text.contains("sign-up code: ") {
                let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
                let code = text.split("sign-up code: ").nth(1).unwrap()[..6].to_owned();
                if found.as_ref().is_none_or(|(m, _)| modified >= *m) {
                    found = Some((modified, code));
                }
            }
        }
        found
            .unwrap_or_else(|| panic!("no mail to {email} in {}", outbox.display()))
            .1
    }

    /// Signs up `nick` (e-mail `<nick>@example.org`) and returns the reply body.
    pub async fn signup(&self, nick: &str) -> Value {
        let email = format!("{}@example.org", nick.to_lowercase());
        let r = self
            .post_json("/signup/code", serde_json::json!({ "email": email }), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let code = self.mailed_code(&email);
        let r = self
            .post_json(
                "/signup",
                serde_json::json!({ "nick": nick, "email": email, "pwd": "Sup3r-secret", "sex": 1, "code": code }),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()["body"].clone()
    }

    /// Signs up `nick`, makes the account an admin (as `nexsuj admin grant` does) and logs
    /// in: (body of sign-up, cookie).
    pub async fn admin(&self, nick: &str) -> (Value, String) {
        let body = self.signup(nick).await;
        let email = body["email"].as_str().unwrap();
        let granted = site::admin::grant(self.site.db(), email).await.unwrap();
        assert!(granted.is_some_and(|u| u.is_admin));
        let cookie = self.login(nick).await;
        (body, cookie)
    }

    /// Sends `req` as if over a connection from `peer`.
    pub async fn send_from(&self, mut req: Request<Body>, peer: &str) -> Reply {
        let peer: std::net::SocketAddr = peer.parse().unwrap();
        req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        self.send(req).await
    }

    /// `/site/metrics`, read from loopback.
    pub async fn metrics(&self) -> String {
        let req = Request::builder()
            .uri("/site/metrics")
            .body(Body::empty())
            .unwrap();
        let r = self.send_from(req, "127.0.0.1:9").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.text()
    }

    /// Logs in and returns the `Cookie` header value.
    pub async fn login(&self, nick: &str) -> String {
        let email = format!("{}@example.org", nick.to_lowercase());
        let r = self
            .post_json(
                "/login",
                serde_json::json!({ "email": email, "pwd": "Sup3r-secret" }),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.cookie("nx_session").expect("session cookie")
    }

    /// Signs up and logs in: (body of sign-up, cookie).
    pub async fn user(&self, nick: &str) -> (Value, String) {
        let body = self.signup(nick).await;
        let cookie = self.login(nick).await;
        (body, cookie)
    }

    /// Uploads a torrent (multipart), returns the reply.
    pub async fn upload(&self, cookie: Option<&str>, torrent: &[u8], fields: &[(&str, &str)]) -> Reply {
        let (body, content_type) = multipart(torrent, fields);
        let mut b = Request::builder()
            .method(Method::POST)
            .uri("/upload/torrent")
            .header("content-type", content_type);
        if let Some(c) = cookie {
            b = b.header("cookie", c);
        }
        self.send(b.body(Body::from(body)).unwrap()).await
    }

    /// Uploads and returns (id, hex info-hash).
    pub async fn upload_ok(
        &self,
        cookie: &str,
        torrent: &[u8],
        title: &str,
        category: &str,
        labels: &str,
    ) -> (i64, String) {
        let r = self
            .upload(
                Some(cookie),
                torrent,
                &[
                    ("title", title),
                    ("type", category),
                    ("labels", labels),
                    ("description", "d"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let b = r.json()["body"].clone();
        (
            b["id"].as_i64().unwrap(),
            b["infoHash"].as_str().unwrap().to_owned(),
        )
    }

    /// An announce straight into the site's tracker.
    pub fn announce(
        &self,
        passkey: Option<&str>,
        hash: &str,
        peer: u8,
        transfer: Transfer,
        event: AnnounceEvent,
    ) -> Result<AnnounceResponse, Refusal> {
        let req = AnnounceRequest {
            info_hash: site::policy::parse_info_hash(hash).unwrap_or(InfoHash([0; 20])),
            peer_id: PeerId([peer; 20]),
            port: 6881,
            transfer,
            event,
            numwant: None,
            ip: None,
            key: None,
        };
        let input = AnnounceInput {
            request: &req,
            passkey,
            source: IpAddr::V4(Ipv4Addr::new(10, 0, 0, peer)),
            other_family: None,
        };
        let mut resp = AnnounceResponse::default();
        let tracker = self.site.tracker();
        tracker.announce(&input, tracker.now(), &mut resp).map(|()| resp)
    }
}

/// The tracker rules of test sites: announces follow each other within a second here, so
/// no min interval and each one is credited (the pacing rule has its own tests in the
/// tracker).
pub fn test_core() -> CoreConfig {
    CoreConfig {
        min_interval: 0,
        ..CoreConfig::default()
    }
}

/// An announce into `site`'s tracker through whichever store it has (Redis included).
pub async fn announce_to(
    site: &Site,
    passkey: &str,
    hash: &str,
    peer: u8,
    transfer: Transfer,
    event: AnnounceEvent,
) -> Result<AnnounceResponse, Refusal> {
    let req = AnnounceRequest {
        info_hash: site::policy::parse_info_hash(hash).unwrap(),
        peer_id: PeerId([peer; 20]),
        port: 6881,
        transfer,
        event,
        numwant: None,
        ip: None,
        key: None,
    };
    let input = AnnounceInput {
        request: &req,
        passkey: Some(passkey),
        source: IpAddr::V4(Ipv4Addr::new(10, 0, 0, peer)),
        other_family: None,
    };
    let mut resp = AnnounceResponse::default();
    site.tracker()
        .announce_async(&input, &mut resp)
        .await
        .map(|()| resp)
}

/// An upload's multipart body (`fields` first, then the torrent) and its content type.
pub fn multipart(torrent: &[u8], fields: &[(&str, &str)]) -> (Vec<u8>, String) {
    let boundary = "XnexsujBoundary7";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"torrent\"; filename=\"x.torrent\"\r\n\
             Content-Type: application/x-bittorrent\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(torrent);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

/// A valid single-file v1 torrent of `len` bytes named `name` (piece hashes are not real).
pub fn torrent_bytes(name: &str, len: u64) -> Vec<u8> {
    let pieces = len.div_ceil(16384).max(1) as usize;
    let hashes = testkit::pseudo_random(name.len() as u64 * 7919 + len, pieces * 20);
    let mut t = Vec::new();
    t.extend_from_slice(b"d8:announce21:http://other/announce7:comment9:uploader!4:infod");
    t.extend_from_slice(format!("6:lengthi{len}e4:name{}:{name}", name.len()).as_bytes());
    t.extend_from_slice(format!("12:piece lengthi16384e6:pieces{}:", pieces * 20).as_bytes());
    t.extend_from_slice(&hashes);
    t.extend_from_slice(b"ee");
    t
}

pub fn transfer(uploaded: u64, downloaded: u64, left: u64) -> Transfer {
    Transfer {
        uploaded,
        downloaded,
        left,
    }
}
