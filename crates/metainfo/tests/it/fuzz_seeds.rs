//! Replays the fuzz targets' committed inputs (`fuzz/seeds/`, and `fuzz/regressions/` for
//! anything a fuzz run once found) as ordinary tests, with the same checks as the targets.

use std::path::PathBuf;

use metainfo::magnet::Magnet;
use metainfo::{Strictness, Torrent};

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut out = Vec::new();
    for kind in ["seeds", "regressions"] {
        let Ok(dir) = std::fs::read_dir(fuzz.join(kind).join(target)) else {
            continue;
        };
        for entry in dir {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            out.push((path, data));
        }
    }
    out
}

#[test]
fn bencode_decode_inputs() {
    let all = inputs("bencode_decode");
    assert!(!all.is_empty());
    for (path, data) in all {
        if let Ok(v) = bencode::decode(&data) {
            assert_eq!(v.to_bytes(), data, "{}", path.display());
        }
        let _ = bencode::DecodeOptions::lenient().decode(&data);
    }
}

#[test]
fn torrent_parse_inputs() {
    let all = inputs("torrent_parse");
    assert!(!all.is_empty());
    for (_, data) in all {
        for s in [Strictness::Strict, Strictness::Lenient] {
            if let Ok(t) = Torrent::from_bytes_with(&data, s) {
                let n = t.info.num_pieces();
                let _ = t.info.piece_slices(n.saturating_sub(1));
                let _ = t.magnet().to_uri();
            }
        }
    }
}

#[test]
fn magnet_parse_inputs() {
    let all = inputs("magnet_parse");
    assert!(!all.is_empty());
    for (path, data) in all {
        let Ok(s) = std::str::from_utf8(&data) else {
            continue;
        };
        if let Ok(m) = Magnet::parse(s) {
            assert_eq!(Magnet::parse(&m.to_uri()).unwrap(), m, "{}", path.display());
        }
    }
}
