//! Replays the `wire_frame` fuzz target's committed inputs (`fuzz/seeds/wire_frame/` and
//! `fuzz/regressions/wire_frame/`) with the target's own checks.

use std::path::PathBuf;

use wire::{Handshake, Limits, Parsed, decode};

fn inputs() -> Vec<(String, Vec<u8>)> {
    let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut out = Vec::new();
    for kind in ["seeds", "regressions"] {
        let Ok(dir) = std::fs::read_dir(fuzz.join(kind).join("wire_frame")) else {
            continue;
        };
        for entry in dir {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            out.push((name, std::fs::read(&path).unwrap()));
        }
    }
    out.sort();
    out
}

/// The same checks as `fuzz/fuzz_targets/wire_frame.rs`.
fn check(data: &[u8]) -> usize {
    let limits = Limits::default();
    let _ = Handshake::parse(data);
    let mut rest = data;
    let mut frames = 0;
    while let Ok(Parsed::Done { value, len }) = decode(rest, &limits) {
        let mut out = Vec::new();
        value.write(&mut out);
        assert_eq!(out, rest[..len]);
        rest = &rest[len..];
        frames += 1;
    }
    frames
}

#[test]
fn seeds_replay() {
    let all = inputs();
    assert!(all.len() >= 3, "seeds are committed");
    for (name, data) in all {
        let frames = check(&data);
        if name.starts_with("session") {
            assert!(frames >= 5, "{name}: {frames} frames");
        }
    }
}
