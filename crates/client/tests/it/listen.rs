//! Listening ports (BEP 3): the first free port of the configured range.

use std::net::TcpListener;

use client::{ClientError, Session, SessionConfig};

use crate::common::config;

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
