//! A whole torrent's announces over hours of tokio's paused clock, in well under a second
//! of real time: the driver takes its time from the runtime's clock, so the clock that
//! moves its timers moves its schedules too.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use metainfo::builder::TorrentVersion;
use testkit::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tracker_proto::common::AnnounceResponse;

use crate::common::*;

const HOUR: Duration = Duration::from_secs(3600);

/// An HTTP tracker that counts announces and answers them with `interval` (or, when `None`,
/// hangs up without a reply).
async fn counting_tracker(interval: Option<u32>) -> (String, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/announce", l.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let mut req = vec![0u8; 8192];
            let mut n = 0;
            while !req[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut req[n..]).await {
                    Ok(0) | Err(_) => break,
                    Ok(k) => n += k,
                }
            }
            seen.fetch_add(1, Ordering::SeqCst);
            let Some(interval) = interval else { continue };
            let mut body = Vec::new();
            let resp = AnnounceResponse {
                interval,
                ..Default::default()
            };
            tracker_proto::http::write_announce(&mut body, &resp, true, true);
            let mut out = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
            out.extend_from_slice(&body);
            let _ = s.write_all(&out).await;
        }
    });
    (url, count)
}

/// Adds a torrent announcing to `url` with the default back-off (15 s doubling to 30 min),
/// lets `span` of test time pass, and returns the session (to keep it alive).
async fn run_for(url: String, span: Duration, label: &str) -> client::Session {
    let mut config = config();
    config.timing.tracker_retry_min = Duration::from_secs(15);
    config.timing.tracker_retry_max = Duration::from_secs(1800);
    let s = client::Session::new(config).await.unwrap();
    let src = TempDir::new(&format!("{label}-src"));
    let torrent = make_torrent(src.path(), TorrentVersion::V1, &[url]);
    let dst = TempDir::new(&format!("{label}-dst"));
    let mut o = opts(dst.path(), vec![]);
    o.no_trackers = false;
    s.add(torrent, o).await.unwrap();
    tokio::time::sleep(span).await;
    s
}

#[tokio::test(start_paused = true)]
async fn ten_hours_of_announces_follow_the_interval() {
    let (url, count) = counting_tracker(Some(1800)).await;
    // A quarter of an hour past the 20th interval: the announces' own round trips cannot
    // push one across the end.
    let _s = run_for(url, 10 * HOUR + HOUR / 4, "clock-interval").await;
    assert_eq!(
        count.load(Ordering::SeqCst),
        21,
        "started, then one every 30 minutes"
    );
}

#[tokio::test(start_paused = true)]
async fn two_hours_of_failures_back_off_from_15_seconds_to_30_minutes() {
    let (url, count) = counting_tracker(None).await;
    let _s = run_for(url, 2 * HOUR, "clock-backoff").await;
    // At 0, 15, 45, 105, 225, 465, 945, 1905, 3705 and 5505 s; the next at 7305 s.
    assert_eq!(count.load(Ordering::SeqCst), 10);
}
