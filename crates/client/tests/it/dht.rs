//! The DHT driver on loopback: nodes bootstrap off each other, a peer announced at one node
//! is found from another, and a flood of junk does not stop a node answering.

use std::net::SocketAddr;
use std::time::Duration;

use client::dht::{Dht, DhtConfig};
use ids::InfoHash;

async fn node(bootstrap: Vec<SocketAddr>) -> Dht {
    Dht::start(DhtConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        bootstrap,
        query_timeout: Duration::from_millis(500),
        ..DhtConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announce_is_found_from_another_node() {
    let first = node(Vec::new()).await;
    let seed = vec![first.local_addr().unwrap()];
    let mut nodes = vec![first];
    for _ in 0..24 {
        let n = node(seed.clone()).await;
        n.bootstrap().await;
        nodes.push(n);
    }
    // Every node knows some others; a second round fills the tables as the network grew.
    for n in &nodes {
        n.bootstrap().await;
    }
    assert!(
        nodes.iter().all(|n| n.table_size() >= 8),
        "{:?}",
        nodes.iter().map(Dht::table_size).collect::<Vec<_>>()
    );
    let ih = InfoHash([0xA5; 20]);
    let (_, took) = nodes[5].announce(ih, Some(7777)).await;
    assert!(took >= 3, "the announce reached {took} nodes");
    let found = nodes[20].get_peers(ih).await;
    assert!(
        found.peers.contains(&"127.0.0.1:7777".parse().unwrap()),
        "{found:?}"
    );
    assert!(found.queries < 60, "{} queries", found.queries);
    assert_eq!(
        nodes[0].ping(nodes[24].local_addr().unwrap()).await.unwrap(),
        nodes[24].id()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_does_not_stop_answers() {
    let target = node(Vec::new()).await;
    let addr = target.local_addr().unwrap();
    let flood = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let big = vec![b'd'; 60_000];
    for i in 0..2_000u32 {
        let junk: &[u8] = match i % 4 {
            0 => &big,
            1 => b"d1:ad2:id20:abcdefghij0123456789e1:q4:vote1:t2:xy1:y1:qe",
            2 => b"garbage",
            _ => b"d1:rd2:id20:abcdefghij0123456789e1:t2:zz1:y1:re",
        };
        flood.send_to(junk, addr).await.unwrap();
    }
    let asker = node(Vec::new()).await;
    assert_eq!(
        asker.ping(addr).await.unwrap(),
        target.id(),
        "well-formed queries from others are answered"
    );
    let stats = target.stats();
    assert!(stats.bad_packets > 0, "{stats:?}");
    assert_eq!(
        target.table_size(),
        1,
        "only the real asker is in the table: {stats:?}"
    );
}
