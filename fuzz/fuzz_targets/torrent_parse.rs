//! Any bytes as a .torrent: parse strictly and leniently, then walk the layout; never panic,
//! never a path that could leave the download folder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metainfo::{Strictness, Torrent};

fuzz_target!(|data: &[u8]| {
    for strictness in [Strictness::Strict, Strictness::Lenient] {
        let Ok(t) = Torrent::from_bytes_with(data, strictness) else { continue };
        let info = &t.info;
        for f in &info.files {
            let p = info.relative_disk_path(f);
            assert!(p.is_relative());
            assert!(p.components().all(|c| matches!(c, std::path::Component::Normal(_))));
        }
        let n = info.num_pieces();
        for i in [0, n / 2, n.saturating_sub(1), n] {
            let _ = info.piece_slices(i);
        }
        for i in 0..info.files.len().min(64) {
            let _ = info.file_pieces(i);
        }
        let _ = t.info_hash_v1();
        let _ = t.info_hash_v2();
        let _ = t.magnet().to_uri();
    }
});
