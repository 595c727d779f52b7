//! Torrents made by libtorrent, mktorrent and transmission-create read as libtorrent reads them.

use metainfo::{Torrent, Version};
use serde_json::Value as Json;

use crate::fixture;

fn expected() -> serde_json::Map<String, Json> {
    let text = std::fs::read_to_string(fixture("expected.json")).unwrap();
    serde_json::from_str::<Json>(&text)
        .unwrap()
        .as_object()
        .unwrap()
        .clone()
}

#[test]
fn every_fixture_matches_libtorrent() {
    let all = expected();
    assert_eq!(all.len(), 6);
    for (name, want) in all {
        let bytes = std::fs::read(fixture(&name)).unwrap();
        let t = Torrent::from_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            t.info_hash_v1().map(|h| h.to_hex()).as_deref(),
            want["info_hash_v1"].as_str(),
            "{name}"
        );
        assert_eq!(
            t.info_hash_v2().map(|h| h.to_hex()).as_deref(),
            want["info_hash_v2"].as_str(),
            "{name}"
        );
        assert_eq!(Some(t.info.name.as_str()), want["name"].as_str(), "{name}");
        assert_eq!(Some(t.info.total_size()), want["total_size"].as_u64(), "{name}");
        assert_eq!(Some(t.info.piece_length), want["piece_length"].as_u64(), "{name}");
        assert_eq!(Some(t.info.num_pieces()), want["num_pieces"].as_u64(), "{name}");
        let ours: Vec<(String, u64)> = t
            .info
            .files
            .iter()
            .filter(|f| !f.is_pad())
            .map(|f| {
                (
                    t.info.relative_disk_path(f).to_string_lossy().into_owned(),
                    f.length,
                )
            })
            .collect();
        let theirs: Vec<(String, u64)> = want["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["path"].as_str().unwrap().to_owned(),
                    f["length"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(ours, theirs, "{name}");
        assert_eq!(
            t.announce.as_deref(),
            Some("http://tracker.example/announce"),
            "{name}"
        );
    }
}

#[test]
fn versions_and_pads() {
    let v = |n: &str| Torrent::from_bytes(&std::fs::read(fixture(n)).unwrap()).unwrap();
    assert_eq!(v("lt_v1_multi.torrent").info.version, Version::V1);
    assert_eq!(v("lt_v2_multi.torrent").info.version, Version::V2);
    let hybrid = v("lt_hybrid_multi.torrent");
    assert_eq!(hybrid.info.version, Version::Hybrid);
    assert!(hybrid.info.files.iter().any(|f| f.is_pad()));
    // Every real, non-empty file of a hybrid torrent starts on a piece boundary and has a root.
    for f in hybrid.info.files.iter().filter(|f| !f.is_pad() && f.length > 0) {
        assert_eq!(f.offset % hybrid.info.piece_length, 0, "{}", f.path);
        assert!(f.pieces_root.is_some());
    }
    // Files larger than a piece have a piece layer.
    assert!(!hybrid.piece_layers.is_empty());
    let single = v("lt_hybrid_single.torrent");
    assert!(single.info.single_file);
    assert!(
        !v("transmission_single.torrent")
            .info
            .files
            .iter()
            .any(|f| f.is_pad())
    );
}

#[test]
fn magnet_round_trip_from_a_torrent() {
    let t = Torrent::from_bytes(&std::fs::read(fixture("lt_hybrid_multi.torrent")).unwrap()).unwrap();
    let uri = t.magnet().to_uri();
    let m = metainfo::magnet::Magnet::parse(&uri).unwrap();
    assert_eq!(m.info_hash_v1, t.info_hash_v1());
    assert_eq!(m.info_hash_v2, t.info_hash_v2());
    assert_eq!(m.display_name.as_deref(), Some("multi"));
    assert_eq!(m.trackers, vec!["http://tracker.example/announce".to_string()]);
}
