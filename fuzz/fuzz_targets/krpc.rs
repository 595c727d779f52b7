//! Any bytes as a KRPC packet: never panics; what decodes encodes and decodes to itself; the
//! nodes of a hostile reply fed to a routing table and a lookup keep them within their caps.
#![no_main]

use std::time::{Duration, Instant};

use dht::{Body, Heard, Lookup, Message, Table};
use ids::NodeId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(m) = Message::decode(data) else { return };
    let again = Message::decode(&m.encode()).expect("an encoded message decodes");
    assert_eq!(again, m);
    if let Body::Response(r) = &m.body {
        let now = Instant::now();
        let mut table = Table::new(NodeId([0x42; 20]), now);
        let from = "10.0.0.1:6881".parse().expect("address");
        let mut lookup = Lookup::new(NodeId([7; 20]), &[(None, from)], 3, 8, Duration::from_secs(1));
        lookup.next(now);
        for n in r.nodes.iter().chain(&r.nodes6) {
            table.heard(n.id, n.addr, Heard::Named, now);
        }
        lookup.replied(from, r.id, &r.nodes, &r.values, r.token.clone());
        assert!(table.len() <= 160 * dht::table::K);
        assert!(lookup.next(now).len() <= 3);
    }
});
