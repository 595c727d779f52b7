//! Any bytes as a UDP tracker packet (BEP 15, 41): never panic; a request that parses writes
//! and parses back to itself; an error always knows its transaction id past 16 bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracker_proto::udp::{self, AddressFamily};

fuzz_target!(|data: &[u8]| {
    match udp::parse_request(data) {
        Ok(req) => {
            let mut out = Vec::new();
            req.write(&mut out);
            assert_eq!(udp::parse_request(&out).expect("written request parses"), req);
        }
        Err(e) => assert_eq!(e.transaction_id.is_some(), data.len() >= 16),
    }
    for family in [AddressFamily::V4, AddressFamily::V6] {
        if let Ok(resp) = udp::parse_response(data, family) {
            let mut out = Vec::new();
            resp.write(&mut out, family);
            assert!(udp::parse_response(&out, family).is_ok());
        }
    }
});
