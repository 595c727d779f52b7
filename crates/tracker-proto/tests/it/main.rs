//! Replays the fuzz targets' committed inputs (`fuzz/seeds/`, and `fuzz/regressions/` for
//! anything a fuzz run once found) with the same checks as the targets.

// Test helpers outside #[test] functions may unwrap: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use tracker_proto::http;
use tracker_proto::udp::{self, AddressFamily};

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut out = Vec::new();
    for kind in ["seeds", "regressions"] {
        let Ok(dir) = std::fs::read_dir(fuzz.join(kind).join(target)) else {
            continue;
        };
        for entry in dir {
            let path = entry.unwrap().path();
            out.push((
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            ));
        }
    }
    out.sort();
    out
}

#[test]
fn http_seeds() {
    let all = inputs("http_query");
    assert!(all.len() >= 3);
    for (name, data) in all {
        match name.as_str() {
            "libtorrent" | "passkey" => {
                let a = http::parse_announce(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
                let mut q = String::new();
                http::write_announce_query(&mut q, &a);
                assert_eq!(http::parse_announce(q.as_bytes()).unwrap(), a, "{name}");
            }
            "reply" => assert!(matches!(
                http::parse_announce_reply(&data),
                Ok(http::AnnounceReply::Ok(_))
            )),
            _ => {
                let _ = http::parse_announce(&data);
                let _ = http::parse_announce_reply(&data);
            }
        }
    }
}

#[test]
fn passkey_seed_carries_the_seed_spelling_and_key() {
    let data = inputs("http_query")
        .into_iter()
        .find(|(n, _)| n == "passkey")
        .unwrap()
        .1;
    let a = http::parse_announce(&data).unwrap();
    assert_eq!(a.request.event, tracker_proto::common::AnnounceEvent::Stopped);
    assert_eq!(a.auth_key.as_deref(), Some("0123456789abcdef0123456789abcdef"));
    assert_eq!(a.request.key.as_deref(), Some(&[0x00, 0xff, 0x10][..]));
}

#[test]
fn udp_seeds() {
    let all = inputs("udp_packet");
    assert!(all.len() >= 4);
    for (name, data) in all {
        if name.ends_with("_reply") {
            let resp =
                udp::parse_response(&data, AddressFamily::V4).unwrap_or_else(|e| panic!("{name}: {e}"));
            let mut out = Vec::new();
            resp.write(&mut out, AddressFamily::V4);
            assert_eq!(out, data, "{name}");
            continue;
        }
        let req = udp::parse_request(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut out = Vec::new();
        req.write(&mut out);
        assert_eq!(udp::parse_request(&out).unwrap(), req, "{name}");
        if let udp::Request::Announce(a) = &req {
            assert_eq!(
                a.url_data.as_deref(),
                Some(&b"/announce?auth_key=0123456789abcdef"[..])
            );
        }
    }
}
