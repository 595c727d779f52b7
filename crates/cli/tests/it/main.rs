//! The `nexsuj` binary end to end: create → info → verify, and its error behaviour.

// Test helpers outside #[test] functions may unwrap: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use testkit::{TempDir, write_files};

fn nexsuj(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nexsuj"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run nexsuj")
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn content(dir: &TempDir) {
    write_files(
        &dir.path().join("album"),
        &[
            ("cd1/01.flac", 100_000),
            ("cd1/02.flac", 33_333),
            ("cover.jpg", 4096),
            ("empty.txt", 0),
        ],
    );
}

#[test]
fn create_info_verify_round_trip() {
    let dir = TempDir::new("cli");
    content(&dir);
    for (flags, version) in [
        (&[][..], "v1"),
        (&["--hybrid"][..], "hybrid"),
        (&["--v2"][..], "v2"),
    ] {
        let mut args = vec![
            "create",
            "album",
            "-t",
            "http://a/announce",
            "-t",
            "udp://b:1/x",
            "--tier",
            "http://c/1,http://d/2",
        ];
        args.extend_from_slice(&[
            "--private",
            "--source",
            "SITE",
            "-l",
            "16KiB",
            "--no-date",
            "-o",
            "a.torrent",
            "-f",
        ]);
        args.extend_from_slice(flags);
        let out = nexsuj(&args, dir.path());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

        let info = json(&nexsuj(&["info", "a.torrent", "--json"], dir.path()));
        assert_eq!(info["version"], version);
        assert_eq!(info["name"], "album");
        assert_eq!(info["total_size"], 137_429);
        assert_eq!(info["piece_length"], 16384);
        assert_eq!(info["private"], true);
        assert_eq!(info["source"], "SITE");
        assert_eq!(info["announce"], "http://a/announce");
        let tiers: Vec<Vec<String>> = serde_json::from_value(info["announce_list"].clone()).unwrap();
        assert_eq!(
            tiers,
            vec![
                vec!["http://a/announce"],
                vec!["udp://b:1/x"],
                vec!["http://c/1", "http://d/2"]
            ]
        );
        let real: Vec<(&str, u64)> = info["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["pad"] == false)
            .map(|f| (f["path"].as_str().unwrap(), f["length"].as_u64().unwrap()))
            .collect();
        assert_eq!(
            real,
            [
                ("cd1/01.flac", 100_000),
                ("cd1/02.flac", 33_333),
                ("cover.jpg", 4096),
                ("empty.txt", 0)
            ]
        );
        assert_eq!(info["info_hash_v1"].is_string(), version != "v2");
        assert_eq!(info["info_hash_v2"].is_string(), version != "v1");

        let magnet = info["magnet"].as_str().unwrap();
        let from_magnet = json(&nexsuj(&["info", magnet, "--json"], dir.path()));
        assert_eq!(from_magnet["info_hash_v1"], info["info_hash_v1"]);
        assert_eq!(from_magnet["info_hash_v2"], info["info_hash_v2"]);

        let ok = nexsuj(&["verify", "a.torrent", "."], dir.path());
        assert_eq!(
            ok.status.code(),
            Some(0),
            "{version}: {}",
            String::from_utf8_lossy(&ok.stdout)
        );
    }
}

#[test]
fn create_dates_the_torrent_unless_told_not_to() {
    let dir = TempDir::new("cli-date");
    content(&dir);
    let created = |extra: &[&str]| {
        let mut args = vec!["create", "album", "-o", "d.torrent", "-f"];
        args.extend_from_slice(extra);
        let out = nexsuj(&args, dir.path());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        json(&nexsuj(&["info", "d.torrent", "--json"], dir.path()))["creation_date"].clone()
    };
    assert!(created(&[]).as_i64().unwrap() > 1_700_000_000);
    assert_eq!(created(&["--no-date"]), Value::Null);
}

#[test]
fn same_input_same_torrent() {
    let dir = TempDir::new("cli-same");
    content(&dir);
    for out in ["1.torrent", "2.torrent"] {
        assert!(
            nexsuj(
                &["create", "album", "-t", "http://a/", "--no-date", "-o", out],
                dir.path()
            )
            .status
            .success()
        );
    }
    assert_eq!(
        std::fs::read(dir.path().join("1.torrent")).unwrap(),
        std::fs::read(dir.path().join("2.torrent")).unwrap()
    );
}

#[test]
fn verify_reports_damage_with_exit_1() {
    let dir = TempDir::new("cli-damage");
    content(&dir);
    assert!(
        nexsuj(
            &[
                "create",
                "album",
                "-t",
                "http://a/",
                "-l",
                "16KiB",
                "-o",
                "a.torrent"
            ],
            dir.path()
        )
        .status
        .success()
    );
    let flac = dir.path().join("album/cd1/02.flac");
    let mut data = std::fs::read(&flac).unwrap();
    data[20_000] ^= 0xff; // piece 7, wholly inside 02.flac
    std::fs::write(&flac, data).unwrap();
    std::fs::remove_file(dir.path().join("album/cover.jpg")).unwrap();
    let out = nexsuj(&["verify", "a.torrent", ".", "--json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["bad_files"], serde_json::json!(["cd1/02.flac"]));
    assert_eq!(report["missing_files"], serde_json::json!(["cover.jpg"]));
    let text = nexsuj(&["verify", "a.torrent", "."], dir.path());
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("pieces do not match"), "{stdout}");
    assert!(stdout.contains("missing: cover.jpg"), "{stdout}");
    assert!(stdout.contains("damaged: cd1/02.flac"), "{stdout}");
}

fn one_line_error(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn errors_are_one_line() {
    let dir = TempDir::new("cli-errors");
    std::fs::write(dir.path().join("junk.torrent"), b"d4:infoi03ee").unwrap();
    let e = one_line_error(&nexsuj(&["info", "junk.torrent"], dir.path()));
    assert!(
        e.contains("leading zero") && e.contains("byte 7") && e.contains("info"),
        "{e}"
    );
    let e = one_line_error(&nexsuj(&["info", "missing.torrent"], dir.path()));
    assert!(e.contains("missing.torrent"), "{e}");
    let e = one_line_error(&nexsuj(&["info", "magnet:?dn=x"], dir.path()));
    assert!(e.contains("magnet"), "{e}");
    let e = one_line_error(&nexsuj(&["create", "nowhere", "-t", "http://a/"], dir.path()));
    assert!(e.contains("nowhere"), "{e}");
    std::fs::write(dir.path().join("f"), b"x").unwrap();
    let e = one_line_error(&nexsuj(
        &["create", "f", "-t", "http://a/", "-l", "1000"],
        dir.path(),
    ));
    assert!(e.contains("piece length"), "{e}");
    let bad_unit = nexsuj(&["create", "f", "-l", "3XB"], dir.path());
    assert_eq!(bad_unit.status.code(), Some(2));
    let e = one_line_error(&nexsuj(&["verify", "junk.torrent", "."], dir.path()));
    assert!(e.contains("junk.torrent"), "{e}");
}

#[test]
fn a_closed_pipe_is_not_a_panic() {
    // `nexsuj info big.torrent | head -1`: the reader goes away while we still write.
    let dir = TempDir::new("cli-pipe");
    let names: Vec<String> = (0..3000)
        .map(|i| format!("many/file-with-a-long-name-{i:05}.txt"))
        .collect();
    let files: Vec<(&str, usize)> = names.iter().map(|n| (n.as_str(), 1)).collect();
    write_files(dir.path(), &files);
    assert!(
        nexsuj(
            &["create", "many", "-t", "http://a/", "-o", "m.torrent"],
            dir.path()
        )
        .status
        .success()
    );
    for extra in [None, Some("--json")] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_nexsuj"));
        cmd.args(["info", "m.torrent"])
            .args(extra)
            .current_dir(dir.path());
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // More than a pipe buffer of output, and nobody reading it.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

mod serve;
mod tracker;
