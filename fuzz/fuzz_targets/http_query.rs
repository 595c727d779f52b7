//! Any bytes as an HTTP announce or scrape query, or as a tracker's reply: never panic; an
//! announce that parses formats and parses back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracker_proto::http;

fuzz_target!(|data: &[u8]| {
    if let Ok(a) = http::parse_announce(data) {
        let mut query = String::new();
        http::write_announce_query(&mut query, &a);
        let again = http::parse_announce(query.as_bytes()).expect("formatted query parses");
        assert_eq!(again, a);
    }
    let _ = http::parse_scrape(data, 74);
    if let Ok(http::AnnounceReply::Ok(resp)) = http::parse_announce_reply(data) {
        let mut out = Vec::new();
        http::write_announce(&mut out, &resp, false, false);
        assert!(http::parse_announce_reply(&out).is_ok());
    }
    let _ = http::parse_scrape_reply(data);
});
