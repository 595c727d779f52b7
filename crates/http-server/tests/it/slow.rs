//! Slow and silent clients are cut off; shutdown does not wait for them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::time::Duration;

use http_server::ServerLimits;

use crate::support::{BIG, TestServer, blocking, is_closed, patient, wait_until};

const SHORT: Duration = Duration::from_millis(300);

/// Sends `head`, then one byte of `drip` every 20 ms until a write fails; how many bytes
/// went before that (all of them if the server never gave up).
fn dribble(addr: std::net::SocketAddr, head: &'static [u8], drip: usize) -> usize {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(head).unwrap();
    for i in 0..drip {
        if s.write_all(b"x").is_err() {
            return i;
        }
        // Pacing the attack, not synchronising: each byte is progress, so only a deadline
        // on the whole head (or body) can stop it.
        std::thread::sleep(Duration::from_millis(20));
    }
    drip
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_dribbling_its_request_head_is_cut_off() {
    let server = TestServer::start(ServerLimits {
        header_read_timeout: SHORT,
        ..patient()
    })
    .await;
    let addr = server.addr;
    // The whole head would take 40 s at this pace.
    let sent = blocking(move || dribble(addr, b"GET / HTTP/1.1\r\nX-Slow: ", 2000)).await;
    assert!(sent < 2000, "the server kept reading a head for {sent} bytes");
    assert_eq!(server.counters.header_timeouts.load(Ordering::Relaxed), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_dribbling_its_request_body_is_cut_off() {
    let server = TestServer::start(ServerLimits {
        body_read_timeout: SHORT,
        ..patient()
    })
    .await;
    let addr = server.addr;
    let head = b"POST /buffered HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n";
    let sent = blocking(move || dribble(addr, head, 2000)).await;
    assert!(sent < 2000, "the server kept reading a body for {sent} bytes");
    assert_eq!(server.counters.body_timeouts.load(Ordering::Relaxed), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_and_a_fresh_one_served() {
    let server = TestServer::start(ServerLimits {
        idle_timeout: SHORT,
        ..patient()
    })
    .await;
    let addr = server.addr;
    let closed = blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut reply = [0u8; 1024];
        let n = s.read(&mut reply).unwrap();
        assert!(
            reply[..n].ends_with(b"hi"),
            "{}",
            String::from_utf8_lossy(&reply[..n])
        );
        // Nothing more is sent: the server closes the connection after the idle timeout.
        is_closed(&mut s)
    })
    .await;
    assert!(closed, "an idle keep-alive connection stayed open");
    // A connection that never sends a byte is idle too.
    let silent = blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        is_closed(&mut s)
    })
    .await;
    assert!(silent, "a silent connection stayed open");
    assert_eq!(server.counters.idle_timeouts.load(Ordering::Relaxed), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_its_response_is_cut_off() {
    let server = TestServer::start(ServerLimits {
        idle_timeout: SHORT,
        ..patient()
    })
    .await;
    let addr = server.addr;
    let mut s = blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        s
    })
    .await;
    let counters = server.counters.clone();
    wait_until("the stalled write times out", || {
        counters.idle_timeouts.load(Ordering::Relaxed) == 1
    })
    .await;
    let received = blocking(move || {
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut all = Vec::new();
        let _ = s.read_to_end(&mut all);
        all.len()
    })
    .await;
    assert!(
        received < BIG,
        "the whole response was delivered ({received} bytes)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_while_a_slow_body_is_in_flight() {
    let mut server = TestServer::start(ServerLimits {
        shutdown_grace: SHORT,
        ..patient()
    })
    .await;
    let addr = server.addr;
    let client = blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789")
            .unwrap();
        s
    })
    .await;
    server.upload_started.notified().await;
    server.shutdown();
    let stopped = tokio::time::timeout(Duration::from_secs(20), &mut server.task).await;
    assert!(stopped.is_ok(), "shutdown waited on a body that never ends");
    assert_eq!(server.counters.cut_at_shutdown.load(Ordering::Relaxed), 1);
    assert_eq!(server.counters.open.load(Ordering::Relaxed), 0);
    drop(client);
}
