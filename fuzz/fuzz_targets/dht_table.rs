//! A routing table driven by hostile input over time: any sequence of nodes heard (as named,
//! replying or querying, from any address, with any id), failures, refreshes, new ids of our
//! own and time passing; and any bytes as a saved state. Never panics; the table stays within
//! its caps, never holds our own id, never holds one id twice, and a saved state that decodes
//! re-encodes to itself.
#![no_main]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use dht::table::K;
use dht::{Heard, SavedState, Table};
use ids::NodeId;
use libfuzzer_sys::fuzz_target;

/// One operation: kind, id, IPv4 address and port, seconds to advance.
const OP: usize = 1 + 20 + 6 + 1;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = SavedState::decode(data) {
        assert_eq!(SavedState::decode(&s.encode()).expect("re-decodes"), s);
    }
    let start = Instant::now();
    let mut now = start;
    let mut own = NodeId([0x5a; 20]);
    let mut table = Table::new(own, now);
    for op in data.chunks_exact(OP) {
        let mut id = [0u8; 20];
        id.copy_from_slice(&op[1..21]);
        let id = NodeId(id);
        let addr = SocketAddr::from(([op[21], op[22], op[23], op[24]], u16::from_be_bytes([op[25], op[26]])));
        now += Duration::from_secs(u64::from(op[27]) * 8);
        match op[0] % 8 {
            0 => drop(table.heard(id, addr, Heard::Named, now)),
            1 | 2 => drop(table.heard(id, addr, Heard::Replied, now)),
            3 => drop(table.heard(id, addr, Heard::Queried, now)),
            4 => table.failed(&id, now),
            5 => drop(table.refresh(now, || [op[1]; 20])),
            6 => {
                own = id;
                table.recentre(own, now);
            }
            _ => {
                let closest = table.closest(&id, K, now);
                assert!(closest.len() <= K);
                assert!(closest.windows(2).all(|w| w[0].id.distance(&id) <= w[1].id.distance(&id)));
                assert!(table.questionable(K, now).len() <= K);
            }
        }
        assert!(table.len() <= table.buckets() * K);
        assert!(table.buckets() <= 160);
        let mut seen = HashSet::new();
        for n in table.nodes() {
            assert_ne!(n.id, own, "our own id is never in the table");
            assert!(seen.insert(n.id), "one id once");
        }
    }
});
