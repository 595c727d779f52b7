//! Scrape (BEP 48): the query, the reply bytes, and reading replies back.

use super::*;
use crate::common::ScrapeStats;

fn h(b: u8) -> InfoHash {
    InfoHash([b; 20])
}

fn enc(b: u8) -> String {
    format!("%{b:02X}").repeat(20)
}

#[test]
fn several_hashes_deduplicated_in_order() {
    let q = format!(
        "info_hash={}&info_hash={}&info_hash={}&foo=bar",
        enc(0xbb),
        enc(0xaa),
        enc(0xbb)
    );
    assert_eq!(parse_scrape(q.as_bytes(), 10).unwrap(), vec![h(0xbb), h(0xaa)]);
    let q = format!("info_hash={HASH}");
    assert_eq!(
        parse_scrape(q.as_bytes(), 1).unwrap(),
        vec![InfoHash(hash_bytes())]
    );
}

#[test]
fn no_hash_means_all() {
    assert_eq!(parse_scrape(b"", 10).unwrap(), vec![]);
    assert_eq!(parse_scrape(b"passkey=abc", 10).unwrap(), vec![]);
}

#[test]
fn scrape_errors() {
    let err = |q: &str, max| parse_scrape(q.as_bytes(), max).unwrap_err().to_string();
    let three = format!("info_hash={}&info_hash={}&info_hash={}", enc(1), enc(2), enc(1));
    assert_eq!(err(&three, 2), "too many info_hash parameters (limit 2)");
    assert_eq!(
        err(&format!("info_hash={}", "%01".repeat(19)), 5),
        "info_hash must be 20 bytes, got 19"
    );
    assert_eq!(
        err(&format!("info_hash={}%G1", "%01".repeat(19)), 5),
        "invalid percent-encoding in info_hash"
    );
    assert_eq!(
        err(&"x".repeat(MAX_QUERY_LEN + 71 + 1), 1),
        "query too long (8264 bytes, limit 8263)"
    );
    let many = "a=1&".repeat(MAX_PARAMS + 2);
    assert_eq!(err(&many, 1), "too many parameters (limit 65)");
}

#[test]
fn scrape_reply_bytes_sorted_and_deduplicated() {
    let s = |c, d, i| ScrapeStats {
        complete: c,
        downloaded: d,
        incomplete: i,
    };
    let mut files = vec![
        (h(0xbb), s(4, 5, 6)),
        (h(0xaa), s(1, 2, 3)),
        (h(0xbb), s(4, 5, 6)),
    ];
    let mut out = b"junk".to_vec();
    write_scrape(&mut out, &mut files);
    let want = [
        &b"junkd5:filesd20:"[..],
        &[0xaa; 20],
        b"d8:completei1e10:downloadedi2e10:incompletei3ee20:",
        &[0xbb; 20],
        b"d8:completei4e10:downloadedi5e10:incompletei6eeee",
    ]
    .concat();
    assert_eq!(out, want);
    assert_eq!(
        parse_scrape_reply(&out[4..]).unwrap(),
        vec![(h(0xaa), s(1, 2, 3)), (h(0xbb), s(4, 5, 6))]
    );

    out.clear();
    write_scrape(&mut out, &mut []);
    assert_eq!(out, b"d5:filesdee");
    assert_eq!(parse_scrape_reply(&out).unwrap(), vec![]);
}

#[test]
fn scrape_reply_parsing() {
    // Unsorted keys and a missing count, as some trackers write them.
    let mut reply = b"d5:filesd20:".to_vec();
    reply.extend_from_slice(&[7; 20]);
    reply.extend_from_slice(b"d10:incompletei2e8:completei9eee5:flagsd20:min_request_intervali60eee");
    let stats = ScrapeStats {
        complete: 9,
        downloaded: 0,
        incomplete: 2,
    };
    assert_eq!(parse_scrape_reply(&reply).unwrap(), vec![(h(7), stats)]);

    let err = |b: &[u8]| parse_scrape_reply(b).unwrap_err().to_string();
    assert_eq!(
        err(b"d14:failure reason6:no waye"),
        "tracker refused the scrape: no way"
    );
    assert_eq!(err(b"de"), "invalid tracker reply: files is missing");
    assert_eq!(
        err(b"d5:filesi1ee"),
        "invalid tracker reply: files is not a dictionary"
    );
    assert_eq!(
        err(b"d5:filesd3:abcdeee"),
        "invalid tracker reply: files has a key that is not 20 bytes"
    );
    assert_eq!(err(b"le"), "invalid tracker reply: reply is not a dictionary");
    let mut neg = b"d5:filesd20:".to_vec();
    neg.extend_from_slice(&[7; 20]);
    neg.extend_from_slice(b"d8:completei-1eeee");
    assert_eq!(err(&neg), "invalid tracker reply: complete is out of range");
    assert!(err(b"d5:files").starts_with("malformed tracker reply: "));
}
