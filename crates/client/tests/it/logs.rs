//! Spans with structured fields, and what they must never show: a private tracker's URL
//! holds the user's passkey, so logs name the tracker's host only.

use std::io;
use std::sync::{Arc, Mutex};

use metainfo::builder::TorrentVersion;
use testkit::TempDir;
use tokio::net::TcpListener;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::common::*;

/// Log output collected in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Set in the child process the test starts.
const CHILD: &str = "NEXSUJ_TEST_LOGS_CHILD";

#[test]
fn tracker_spans_name_the_host_and_never_the_passkey() {
    if std::env::var_os(CHILD).is_some() {
        return spans_and_no_passkey();
    }
    // tracing caches per call site whether anyone listens: a test running beside this one
    // with no subscriber can make a span of this one's disappear. The check runs alone, in
    // a child process, with a global subscriber.
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "logs::tracker_spans_name_the_host_and_never_the_passkey",
        ])
        .arg("--nocapture")
        .env(CHILD, "1")
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::main(flavor = "current_thread")]
async fn spans_and_no_passkey() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::NEW)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    // A tracker that hangs up: the announce fails, and the status says so. The same
    // listener is given as a peer: it hangs up on the handshake too.
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let tracker = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            drop(s);
        }
    });
    let passkey = "0123456789abcdefSECRET";
    let url = format!("http://{tracker}/{passkey}/announce?passkey={passkey}");
    let src = TempDir::new("logs-src");
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[url]);
    let info_hash = torrent.info_hash_v1().unwrap();
    let dst = TempDir::new("logs-dst");
    let s = session().await;
    let mut o = opts(dst.path(), vec![tracker]);
    o.no_trackers = false;
    let h = s.add(torrent, o).await.unwrap();
    wait_for(&h, "the failed announce", |t| {
        t.trackers.iter().any(|tr| tr.error.is_some())
    })
    .await;
    let peer_logged = || String::from_utf8_lossy(&logs.0.lock().unwrap()).contains("handshake failed");
    for _ in 0..3000 {
        if peer_logged() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    s.shutdown().await;

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(!text.contains("SECRET"), "a passkey in the logs:\n{text}");
    assert!(
        text.contains("tracker{host=127.0.0.1 event=Started}"),
        "a span per tracker request, with its host and event:\n{text}"
    );
    assert!(
        text.contains(&format!("torrent{{info_hash={info_hash} name=album}}")),
        "a span per torrent:\n{text}"
    );
    assert!(
        text.contains(&format!("peer{{addr={tracker} direction=out}}")),
        "a span per peer connection:\n{text}"
    );
}
