//! One address cannot take every connection slot.

use std::net::{IpAddr, TcpStream};
use std::sync::atomic::Ordering;

use http_server::ServerLimits;

use crate::support::{TestServer, blocking, get_from, patient};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_idle_sockets_from_one_address_do_not_stop_a_second_address() {
    let server = TestServer::start(ServerLimits {
        max_connections: 200,
        max_connections_per_ip: 50,
        ..patient()
    })
    .await;
    let addr = server.addr;
    let (hog, served) = blocking(move || {
        // 1,000 connections that never send a byte, all from 127.0.0.1.
        let hog: Vec<TcpStream> = (0..1000).map(|_| TcpStream::connect(addr).unwrap()).collect();
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        (hog, get_from(other, addr, "/me"))
    })
    .await;
    assert!(
        served.contains("200 OK") && served.contains("127.0.0.2:"),
        "{served}"
    );
    // The kernel hands over connections in order, so every one of the 1,000 was accepted or
    // refused before the second address was: 50 kept, the rest closed at once.
    assert_eq!(server.counters.refused_per_ip.load(Ordering::Relaxed), 950);
    drop(hog);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exempt_proxies_are_not_held_to_the_per_address_cap() {
    let server = TestServer::start(ServerLimits {
        max_connections_per_ip: 2,
        per_ip_exempt: vec![("127.0.0.1".parse().unwrap(), 32)],
        ..patient()
    })
    .await;
    let addr = server.addr;
    let served = blocking(move || {
        let _held: Vec<TcpStream> = (0..5).map(|_| TcpStream::connect(addr).unwrap()).collect();
        get_from("127.0.0.1".parse().unwrap(), addr, "/")
    })
    .await;
    assert!(served.ends_with("hi"), "{served}");
    assert_eq!(server.counters.refused_per_ip.load(Ordering::Relaxed), 0);
}
