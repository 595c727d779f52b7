//! HTTPS trackers: a TLS tracker written in the test (certificates in `tls/`, signed by a test
//! CA the session is told to trust) brings a leecher to a seeder; one connection carries
//! several announces; without the CA the certificate is refused and the status says so.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use client::{Session, SessionConfig};
use metainfo::builder::TorrentVersion;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use testkit::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tracker_proto::common::{AnnounceResponse, ResponsePeer};
use tracker_proto::http;

use crate::common::*;

fn tls_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/tls")
        .join(name)
}

/// Connections accepted and requests answered.
#[derive(Default)]
struct Counts {
    connections: AtomicUsize,
    requests: AtomicUsize,
}

/// An HTTPS tracker on 127.0.0.1 that keeps connections open and answers every announce with
/// the other announcers; its URL names `host`.
async fn https_tracker(host: &str, counts: Arc<Counts>) -> String {
    let certs = CertificateDer::pem_file_iter(tls_file("server.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(tls_file("server.key")).unwrap();
    let config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{host}:{}/announce", l.local_addr().unwrap().port());
    let peers: Arc<Mutex<Vec<SocketAddr>>> = Arc::default();
    tokio::spawn(async move {
        while let Ok((tcp, from)) = l.accept().await {
            counts.connections.fetch_add(1, Ordering::SeqCst);
            let (acceptor, peers, counts) = (acceptor.clone(), peers.clone(), counts.clone());
            tokio::spawn(async move {
                let Ok(mut s) = acceptor.accept(tcp).await else {
                    return;
                };
                loop {
                    let mut req = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => req.extend_from_slice(&buf[..n]),
                        }
                    }
                    counts.requests.fetch_add(1, Ordering::SeqCst);
                    let head = String::from_utf8_lossy(&req).into_owned();
                    let target = head.split_whitespace().nth(1).unwrap().to_owned();
                    let query = target.split_once('?').unwrap().1;
                    let ann = http::parse_announce(query.as_bytes()).unwrap();
                    let me = SocketAddr::new(from.ip(), ann.request.port);
                    let others: Vec<ResponsePeer> = {
                        let mut all = peers.lock().unwrap();
                        if !all.contains(&me) {
                            all.push(me);
                        }
                        all.iter()
                            .filter(|a| **a != me)
                            .map(|a| ResponsePeer {
                                addr: *a,
                                peer_id: None,
                            })
                            .collect()
                    };
                    let resp = AnnounceResponse {
                        interval: 1800,
                        peers: others,
                        ..Default::default()
                    };
                    let mut body = Vec::new();
                    http::write_announce(&mut body, &resp, true, true);
                    let mut out =
                        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
                    out.extend_from_slice(&body);
                    if s.write_all(&out).await.is_err() || s.flush().await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

fn trusting_the_test_ca() -> SessionConfig {
    SessionConfig {
        tracker_ca: Some(tls_file("ca.pem")),
        ..config()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_meet_through_an_https_tracker_on_kept_connections() {
    let counts = Arc::new(Counts::default());
    let url = https_tracker("localhost", counts.clone()).await;
    let src = TempDir::new("https-src");
    let dst = TempDir::new("https-dst");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[url]);
    let seed = Session::new(trusting_the_test_ca()).await.unwrap();
    let mut o = opts(src.path(), vec![]);
    o.no_trackers = false;
    let sh = seed.add(torrent.clone(), o).await.unwrap();
    wait_for(&sh, "the seeder's announce", |s| {
        s.trackers.iter().any(|t| t.working)
    })
    .await;
    let leech = Session::new(trusting_the_test_ca()).await.unwrap();
    let mut o = opts(dst.path(), vec![]);
    o.no_trackers = false;
    let h = leech.add(torrent, o).await.unwrap();
    complete(&h).await;
    same_content(src.path(), dst.path());
    // The completed announce travels on the connection the started one opened.
    wait_for(&h, "the completed announce", |_| {
        counts.requests.load(Ordering::SeqCst) >= 3
    })
    .await;
    let (connections, requests) = (
        counts.connections.load(Ordering::SeqCst),
        counts.requests.load(Ordering::SeqCst),
    );
    assert!(
        connections < requests,
        "{connections} connections for {requests} requests"
    );
    leech.shutdown().await;
    seed.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_refused_and_reported() {
    let counts = Arc::new(Counts::default());
    let url = https_tracker("localhost", counts.clone()).await;
    let src = TempDir::new("https-untrusted");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[url]);
    let s = Session::new(config()).await.unwrap();
    let mut o = opts(src.path(), vec![]);
    o.no_trackers = false;
    let h = s.add(torrent, o).await.unwrap();
    wait_for(&h, "the tracker's error", |snap| {
        snap.trackers
            .iter()
            .any(|t| t.error.as_deref().is_some_and(|e| e.contains("TLS")))
    })
    .await;
    let error = h.snapshot().trackers[0].error.clone().unwrap();
    assert!(error.to_lowercase().contains("certificate"), "{error}");
    assert_eq!(counts.requests.load(Ordering::SeqCst), 0, "no request went out");
    s.shutdown().await;
}

#[tokio::test]
async fn a_missing_ca_file_is_an_error_naming_it() {
    let config = SessionConfig {
        tracker_ca: Some(PathBuf::from("/nonexistent/ca.pem")),
        ..config()
    };
    let e = Session::new(config).await.unwrap_err();
    let text = format!("{e}: {}", std::error::Error::source(&e).unwrap());
    assert!(text.contains("/nonexistent/ca.pem"), "{text}");
}
