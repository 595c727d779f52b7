//! Listening ports (BEP 3): the first free port of the configured range.

use std::net::{TcpListener, UdpSocket};

use client::{ClientError, Session, SessionConfig};

use crate::common::config;

/// A session on the range `first..=last`, listening past its first port (which is taken).
async fn past_the_first(first: u16, last: u16) -> (Session, u16) {
    let session = Session::new(SessionConfig {
        ports: (first, last),
        ..config()
    })
    .await
    .unwrap();
    let port = session.listen_addrs()[0].port();
    assert!(
        port > first && port <= last,
        "listening on {port}, range {first}..={last}"
    );
    (session, port)
}

#[test]
fn the_default_range_is_6881_to_6889() {
    assert_eq!(SessionConfig::default().ports, (6881, 6889));
}

#[tokio::test]
async fn a_taken_port_moves_the_session_to_the_next_free_one() {
    // Any port the OS hands out, kept busy by this listener for the whole test.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let first = taken.local_addr().unwrap().port();
    let Some(last) = first.checked_add(8) else {
        return; // The top of the port space: no range to test.
    };
    let (session, port) = past_the_first(first, last).await;
    // The port is really ours: a second bind fails.
    assert!(TcpListener::bind(("127.0.0.1", port)).is_err());
    session.shutdown().await;
}

#[tokio::test]
async fn a_range_with_no_free_port_is_an_error_naming_it() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = Session::new(SessionConfig {
        ports: (port, port),
        ..config()
    })
    .await
    .expect_err("the only port is taken");
    assert!(
        matches!(err, ClientError::Listen { first, last, .. } if first == port && last == port),
        "{err}"
    );
}

/// uTP and the DHT share the TCP port: a port of the range whose UDP side is taken is
/// skipped like one whose TCP side is, rather than leaving the session without uTP.
#[tokio::test]
async fn a_port_with_its_udp_side_taken_is_skipped_when_utp_is_on() {
    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let first = taken.local_addr().unwrap().port();
    let Some(last) = first.checked_add(8) else {
        return;
    };
    if TcpListener::bind(("127.0.0.1", first)).is_err() {
        return; // Its TCP side is taken too: not the case under test.
    }
    let (session, port) = past_the_first(first, last).await;
    let udp = session.udp().expect("UDP sockets for uTP");
    assert_eq!(udp.v4.local_addr().unwrap().port(), port, "one port for both");
    session.shutdown().await;
}
