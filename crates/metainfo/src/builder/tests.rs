use std::fs;
use std::sync::atomic::{AtomicU64, Ordering};

use bencode::Value;
use sha1::{Digest, Sha1};
use testkit::{TempDir, pseudo_random, write_files};

use super::*;
use crate::merkle::{self, Hash256};
use ids::{InfoHash, InfoHashV2};

const KIB16: u64 = 16 * 1024;
const KIB32: u64 = 32 * 1024;

fn build(builder: TorrentBuilder) -> Vec<u8> {
    builder.creation_date(None).build(&|_| {}).unwrap()
}

fn sha1_pieces(stream: &[u8], piece_length: u64) -> Vec<u8> {
    stream
        .chunks(piece_length as usize)
        .flat_map(|p| <[u8; 20]>::from(Sha1::digest(p)))
        .collect()
}

/// `pieces root` and piece layer of a file, computed straight from its bytes.
fn v2_of(data: &[u8], piece_length: u64) -> (Hash256, Option<Vec<u8>>) {
    if data.len() as u64 <= piece_length {
        return (merkle::small_file_root(data), None);
    }
    let layer: Vec<Hash256> = data
        .chunks(piece_length as usize)
        .map(|p| merkle::piece_hash_v2(p, piece_length))
        .collect();
    (
        merkle::root_from_piece_layer(&layer, piece_length),
        Some(layer.concat()),
    )
}

fn keys<'a>(v: &Value<'a>) -> Vec<&'a [u8]> {
    v.as_dict().unwrap().iter().map(|(k, _)| k).collect()
}

fn int(v: &Value<'_>, key: &str) -> i64 {
    v.get(key.as_bytes())
        .and_then(Value::as_int)
        .unwrap_or_else(|| panic!("no int {key}"))
}

fn bytes<'a>(v: &Value<'a>, key: &str) -> &'a [u8] {
    v.get(key.as_bytes())
        .and_then(Value::as_bytes)
        .unwrap_or_else(|| panic!("no string {key}"))
}

fn path_list<'a>(v: &Value<'a>) -> Vec<&'a str> {
    v.get(b"path")
        .unwrap()
        .as_list()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect()
}

/// Checks one `file tree` leaf against the file's bytes.
fn check_leaf(tree: &Value<'_>, path: &[&str], data: &[u8], piece_length: u64, layers: Option<&Value<'_>>) {
    let mut node = tree;
    for component in path {
        node = node
            .get(component.as_bytes())
            .unwrap_or_else(|| panic!("no {component} in file tree"));
    }
    let leaf = node.get(b"").unwrap();
    assert_eq!(int(leaf, "length"), data.len() as i64, "{path:?}");
    if data.is_empty() {
        assert_eq!(keys(leaf), vec![&b"length"[..]]);
        return;
    }
    let (root, layer) = v2_of(data, piece_length);
    assert_eq!(bytes(leaf, "pieces root"), root, "{path:?}");
    let stored = layers.and_then(|l| l.get(&root)).and_then(Value::as_bytes);
    assert_eq!(stored, layer.as_deref(), "piece layer of {path:?}");
}

#[test]
fn single_file_v1_matches_hand_computed_pieces() {
    let dir = TempDir::new("builder-single");
    let path = write_files(dir.path(), &[("data.bin", 3 * KIB16 as usize + 1000)]).remove(0);
    let data = fs::read(&path).unwrap();
    let out = build(TorrentBuilder::new(&path).piece_length(Some(KIB16)));

    let pieces = sha1_pieces(&data, KIB16);
    assert_eq!(pieces.len(), 4 * 20);
    let mut info = format!(
        "d6:lengthi{}e4:name8:data.bin12:piece lengthi16384e6:pieces80:",
        data.len()
    )
    .into_bytes();
    info.extend_from_slice(&pieces);
    info.push(b'e');
    let top = bencode::decode(&out).unwrap();
    assert_eq!(top.get(b"info").unwrap().raw(), &info[..]);
    assert_eq!(keys(&top), vec![&b"created by"[..], b"info"]);
    assert_eq!(
        bytes(&top, "created by"),
        concat!("nexsuj/", env!("CARGO_PKG_VERSION")).as_bytes()
    );
    assert_eq!(
        InfoHash::of_info(&info),
        InfoHash::of_info(top.get(b"info").unwrap().raw())
    );
}

#[test]
fn multi_file_v1_pieces_cross_file_boundaries_in_component_order() {
    let dir = TempDir::new("builder-multi");
    let root = dir.path().join("content");
    // Component-wise order puts `a/b` before `a-b`, although '-' < '/' as bytes.
    let written = write_files(
        &root,
        &[("a-b", 20_000), ("a/b", 5_000), ("a/c/d", 40_000), ("e", 0)],
    );
    let out = build(TorrentBuilder::new(&root).piece_length(Some(KIB16)));

    let data: Vec<Vec<u8>> = written.iter().map(|p| fs::read(p).unwrap()).collect();
    let stream = [&data[1][..], &data[2], &data[0], &data[3]].concat();
    let top = bencode::decode(&out).unwrap();
    let info = top.get(b"info").unwrap();
    assert_eq!(bytes(info, "name"), b"content");
    assert_eq!(bytes(info, "pieces"), sha1_pieces(&stream, KIB16));
    assert!(info.get(b"length").is_none() && info.get(b"file tree").is_none());
    let files = info.get(b"files").unwrap().as_list().unwrap();
    let listed: Vec<(Vec<&str>, i64)> = files.iter().map(|f| (path_list(f), int(f, "length"))).collect();
    assert_eq!(
        listed,
        vec![
            (vec!["a", "b"], 5_000),
            (vec!["a", "c", "d"], 40_000),
            (vec!["a-b"], 20_000),
            (vec!["e"], 0)
        ]
    );
}

#[test]
fn hybrid_pads_files_and_writes_the_v2_tree() {
    let dir = TempDir::new("builder-hybrid");
    let root = dir.path().join("h");
    let spec = [
        ("a", 70_000),
        ("b/c", 100),
        ("b/d", 0),
        ("e", KIB32 as usize),
        ("f", 20_000),
    ];
    let written = write_files(&root, &spec);
    let data: Vec<Vec<u8>> = written.iter().map(|p| fs::read(p).unwrap()).collect();
    let out = build(
        TorrentBuilder::new(&root)
            .piece_length(Some(KIB32))
            .version(TorrentVersion::Hybrid),
    );

    let top = bencode::decode(&out).unwrap();
    let info = top.get(b"info").unwrap();
    assert_eq!(int(info, "meta version"), 2);
    let files = info.get(b"files").unwrap().as_list().unwrap();
    type Entry<'a> = (Vec<&'a str>, i64, Option<&'a [u8]>);
    let listed: Vec<Entry<'_>> = files
        .iter()
        .map(|f| {
            (
                path_list(f),
                int(f, "length"),
                f.get(b"attr").and_then(Value::as_bytes),
            )
        })
        .collect();
    let pad_a = 3 * KIB32 as i64 - 70_000;
    let pad_c = KIB32 as i64 - 100;
    let (pa, pc) = (pad_a.to_string(), pad_c.to_string());
    let p = Some(&b"p"[..]);
    assert_eq!(
        listed,
        vec![
            (vec!["a"], 70_000, None),
            (vec![".pad", pa.as_str()], pad_a, p),
            (vec!["b", "c"], 100, None),
            (vec![".pad", pc.as_str()], pad_c, p),
            (vec!["b", "d"], 0, None),
            (vec!["e"], KIB32 as i64, None),
            (vec!["f"], 20_000, None),
        ]
    );
    let zeros = |n: i64| vec![0u8; n as usize];
    let stream = [
        &data[0][..],
        &zeros(pad_a),
        &data[1],
        &zeros(pad_c),
        &data[3],
        &data[4],
    ]
    .concat();
    assert_eq!(bytes(info, "pieces"), sha1_pieces(&stream, KIB32));

    let tree = info.get(b"file tree").unwrap();
    assert_eq!(keys(tree), vec![&b"a"[..], b"b", b"e", b"f"]);
    let layers = top.get(b"piece layers").unwrap();
    assert_eq!(
        layers.as_dict().unwrap().len(),
        1,
        "only `a` is larger than a piece"
    );
    for ((name, _), content) in spec.iter().zip(&data) {
        let path: Vec<&str> = name.split('/').collect();
        check_leaf(tree, &path, content, KIB32, Some(layers));
    }
}

#[test]
fn hybrid_single_file_has_no_padding() {
    let dir = TempDir::new("builder-hybrid-single");
    let path = write_files(dir.path(), &[("one.bin", 100_000)]).remove(0);
    let data = fs::read(&path).unwrap();
    let out = build(
        TorrentBuilder::new(&path)
            .piece_length(Some(KIB32))
            .version(TorrentVersion::Hybrid),
    );
    let top = bencode::decode(&out).unwrap();
    let info = top.get(b"info").unwrap();
    assert_eq!(int(info, "length"), 100_000);
    assert!(info.get(b"files").is_none());
    assert_eq!(bytes(info, "pieces"), sha1_pieces(&data, KIB32));
    check_leaf(
        info.get(b"file tree").unwrap(),
        &["one.bin"],
        &data,
        KIB32,
        top.get(b"piece layers"),
    );
}

#[test]
fn v2_only_has_no_v1_keys() {
    let dir = TempDir::new("builder-v2");
    let path = write_files(dir.path(), &[("big.bin", 200_000)]).remove(0);
    let data = fs::read(&path).unwrap();
    let out = build(
        TorrentBuilder::new(&path)
            .piece_length(Some(KIB16))
            .version(TorrentVersion::V2),
    );
    let top = bencode::decode(&out).unwrap();
    let info = top.get(b"info").unwrap();
    assert_eq!(
        keys(info),
        vec![&b"file tree"[..], b"meta version", b"name", b"piece length"]
    );
    check_leaf(
        info.get(b"file tree").unwrap(),
        &["big.bin"],
        &data,
        KIB16,
        top.get(b"piece layers"),
    );
    assert_eq!(InfoHashV2::of_info(info.raw()).to_hex().len(), 64);
}

#[test]
fn v2_multi_file_skips_padding_of_small_files_in_large_pieces() {
    let dir = TempDir::new("builder-v2-multi");
    let root = dir.path().join("m");
    let mut spec: Vec<(String, usize)> = (0..60)
        .map(|i| (format!("d{}/f{i:02}", i % 3), 100 + i * 7))
        .collect();
    spec.push(("big".into(), 3 * 1024 * 1024 + 5));
    spec.push(("empty".into(), 0));
    spec.push(("c-exact".into(), 64 * 1024));
    let refs: Vec<(&str, usize)> = spec.iter().map(|(n, l)| (n.as_str(), *l)).collect();
    let written = write_files(&root, &refs);
    // Hybrid hashes the zeros of its padding files, v2 alone does not read them at all.
    let runs = [
        (TorrentVersion::V2, 1 << 24),
        (TorrentVersion::V2, 1 << 16),
        (TorrentVersion::Hybrid, 1 << 20),
    ];
    for (version, piece_length) in runs {
        let out = build(
            TorrentBuilder::new(&root)
                .piece_length(Some(piece_length))
                .version(version),
        );
        let top = bencode::decode(&out).unwrap();
        let tree = top.get(b"info").unwrap().get(b"file tree").unwrap();
        assert_eq!(
            keys(tree),
            vec![&b"big"[..], b"c-exact", b"d0", b"d1", b"d2", b"empty"]
        );
        for ((name, _), path) in refs.iter().zip(&written) {
            let components: Vec<&str> = name.split('/').collect();
            check_leaf(
                tree,
                &components,
                &fs::read(path).unwrap(),
                piece_length,
                top.get(b"piece layers"),
            );
        }
    }
}

#[test]
fn large_content_spans_tasks_and_chunks() {
    // Several 4 MiB tasks and 1 MiB chunks, and pieces larger than a chunk.
    let dir = TempDir::new("builder-large");
    let root = dir.path().join("big");
    let spec = [
        ("x", 5 * 1024 * 1024 + 12_345),
        ("y", 777),
        ("z", 2 * 1024 * 1024),
    ];
    let written = write_files(&root, &spec);
    let data: Vec<Vec<u8>> = written.iter().map(|p| fs::read(p).unwrap()).collect();
    for piece_length in [KIB16, 2 * 1024 * 1024] {
        let out = build(
            TorrentBuilder::new(&root)
                .piece_length(Some(piece_length))
                .version(TorrentVersion::Hybrid)
                .threads(2),
        );
        let top = bencode::decode(&out).unwrap();
        let tree = top.get(b"info").unwrap().get(b"file tree").unwrap();
        for ((name, _), content) in spec.iter().zip(&data) {
            check_leaf(tree, &[*name], content, piece_length, top.get(b"piece layers"));
        }
        let v1 = build(TorrentBuilder::new(&root).piece_length(Some(piece_length)));
        let v1 = bencode::decode(&v1).unwrap();
        assert_eq!(
            bytes(v1.get(b"info").unwrap(), "pieces"),
            sha1_pieces(&data.concat(), piece_length)
        );
    }
}

#[test]
fn options_are_written_where_the_beps_put_them() {
    let dir = TempDir::new("builder-options");
    let path = write_files(dir.path(), &[("f", 1000)]).remove(0);
    let out = TorrentBuilder::new(&path)
        .announce_tier(vec!["http://t1/a".into(), "http://t1/b".into()])
        .announce_tier(vec![])
        .announce_tier(vec!["udp://t2:80".into()])
        .web_seed("http://ws/f".into())
        .private(true)
        .source("SRC".into())
        .comment("hello".into())
        .created_by("me".into())
        .creation_date(Some(1_700_000_000))
        .build(&|_| {})
        .unwrap();
    let top = bencode::decode(&out).unwrap();
    assert_eq!(bytes(&top, "announce"), b"http://t1/a");
    let tiers: Vec<Vec<&str>> = top
        .get(b"announce-list")
        .unwrap()
        .as_list()
        .unwrap()
        .iter()
        .map(|t| t.as_list().unwrap().iter().map(|u| u.as_str().unwrap()).collect())
        .collect();
    assert_eq!(
        tiers,
        vec![vec!["http://t1/a", "http://t1/b"], vec!["udp://t2:80"]]
    );
    let seeds = top.get(b"url-list").unwrap().as_list().unwrap();
    assert_eq!(
        seeds.iter().map(|s| s.as_str().unwrap()).collect::<Vec<_>>(),
        vec!["http://ws/f"]
    );
    assert_eq!(bytes(&top, "comment"), b"hello");
    assert_eq!(bytes(&top, "created by"), b"me");
    assert_eq!(int(&top, "creation date"), 1_700_000_000);
    let info = top.get(b"info").unwrap();
    assert_eq!(int(info, "private"), 1);
    assert_eq!(bytes(info, "source"), b"SRC");

    let one = build(
        TorrentBuilder::new(&path)
            .announce_tier(vec!["http://only".into()])
            .created_by(String::new()),
    );
    let top = bencode::decode(&one).unwrap();
    assert_eq!(keys(&top), vec![&b"announce"[..], b"info"]);
    // The builder never reads the clock: without a date from the caller there is none.
    let undated = TorrentBuilder::new(&path).build(&|_| {}).unwrap();
    assert_eq!(
        keys(&bencode::decode(&undated).unwrap()),
        vec![&b"created by"[..], b"info"]
    );
}

#[test]
fn same_input_gives_the_same_bytes_on_any_thread_count() {
    let dir = TempDir::new("builder-stable");
    let root = dir.path().join("s");
    write_files(&root, &[("a", 300_000), ("b/c", 50_000), ("d", 1)]);
    for version in [TorrentVersion::V1, TorrentVersion::Hybrid, TorrentVersion::V2] {
        let first = build(TorrentBuilder::new(&root).version(version).threads(1));
        for threads in [0, 2, 3] {
            assert_eq!(
                build(TorrentBuilder::new(&root).version(version).threads(threads)),
                first
            );
        }
    }
}

#[test]
fn progress_adds_up_to_the_total_size() {
    let dir = TempDir::new("builder-progress");
    let root = dir.path().join("p");
    write_files(&root, &[("a", 3_000_000), ("b", 12_345), ("c", 0)]);
    let builder = TorrentBuilder::new(&root)
        .version(TorrentVersion::Hybrid)
        .piece_length(Some(KIB16));
    let content = builder.scan().unwrap();
    assert_eq!(content.total_size(), 3_012_345);
    assert_eq!(content.files().len(), 3);
    assert_eq!(content.name(), "p");
    let seen = AtomicU64::new(0);
    builder
        .build_scanned(&content, &|n| {
            seen.fetch_add(n, Ordering::Relaxed);
        })
        .unwrap();
    assert_eq!(seen.load(Ordering::Relaxed), content.total_size());
}

#[test]
fn empty_content_is_refused_and_empty_files_are_kept() {
    let dir = TempDir::new("builder-empty");
    let empty_file = write_files(dir.path(), &[("nothing", 0)]).remove(0);
    let err = TorrentBuilder::new(&empty_file).build(&|_| {}).unwrap_err();
    assert!(matches!(err, BuildError::EmptyContent { .. }), "{err}");

    let empty_dir = dir.path().join("empty");
    fs::create_dir_all(empty_dir.join("sub/deeper")).unwrap();
    let err = TorrentBuilder::new(&empty_dir).build(&|_| {}).unwrap_err();
    assert!(matches!(err, BuildError::NoFiles { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!("no files to include under {}", empty_dir.display())
    );

    write_files(&empty_dir, &[("sub/zero", 0)]);
    let err = TorrentBuilder::new(&empty_dir).build(&|_| {}).unwrap_err();
    assert!(matches!(err, BuildError::EmptyContent { .. }), "{err}");
}

#[test]
fn piece_length_must_be_a_power_of_two_of_16_kib_or_more() {
    let dir = TempDir::new("builder-piece-length");
    let path = write_files(dir.path(), &[("f", 10)]).remove(0);
    for bad in [0, 1000, 8192, 3 * KIB16, 1 << 63] {
        let err = TorrentBuilder::new(&path)
            .piece_length(Some(bad))
            .scan()
            .unwrap_err();
        assert!(
            matches!(err, BuildError::BadPieceLength { got } if got == bad),
            "{bad}"
        );
    }
    assert_eq!(
        TorrentBuilder::new(&path)
            .piece_length(Some(1 << 20))
            .scan()
            .unwrap()
            .piece_length(),
        1 << 20
    );
    assert_eq!(TorrentBuilder::new(&path).scan().unwrap().piece_length(), KIB16);
    assert_eq!(auto_piece_length(1), KIB16);
    assert_eq!(auto_piece_length(1500 * KIB16), KIB16);
    assert_eq!(auto_piece_length(1500 * KIB16 + 1), KIB32);
    assert_eq!(auto_piece_length(1 << 30), 1 << 20);
    assert_eq!(auto_piece_length(1 << 50), MAX_AUTO_PIECE_LENGTH);
}

#[test]
fn symlinks_to_files_are_followed_and_others_skipped() {
    let dir = TempDir::new("builder-symlinks");
    let root = dir.path().join("l");
    let target = write_files(dir.path(), &[("outside", 5000)]).remove(0);
    write_files(&root, &[("real", 10)]);
    std::os::unix::fs::symlink(&target, root.join("link")).unwrap();
    std::os::unix::fs::symlink(dir.path(), root.join("loop")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("missing"), root.join("dangling")).unwrap();
    let content = TorrentBuilder::new(&root).scan().unwrap();
    let names: Vec<&[String]> = content.files().iter().map(ContentFile::path).collect();
    assert_eq!(names, vec![&["link".to_owned()][..], &["real".to_owned()]]);
    assert_eq!(content.total_size(), 5010);
}

#[test]
fn non_utf8_names_are_refused() {
    use std::os::unix::ffi::OsStrExt;
    let dir = TempDir::new("builder-utf8");
    let root = dir.path().join("u");
    fs::create_dir_all(&root).unwrap();
    let bad = root.join(std::ffi::OsStr::from_bytes(b"bad\xff"));
    fs::write(&bad, b"x").unwrap();
    let err = TorrentBuilder::new(&root).scan().unwrap_err();
    assert!(
        matches!(&err, BuildError::NonUtf8Path { path } if *path == bad),
        "{err}"
    );
}

#[test]
fn a_file_that_changes_size_is_reported() {
    let dir = TempDir::new("builder-changed");
    let root = dir.path().join("c");
    let written = write_files(&root, &[("a", 50_000), ("b", 50_000)]);
    let builder = TorrentBuilder::new(&root);
    for change in [40_000u64, 60_000] {
        let content = builder.scan().unwrap();
        fs::OpenOptions::new()
            .write(true)
            .open(&written[0])
            .unwrap()
            .set_len(change)
            .unwrap();
        let err = builder.build_scanned(&content, &|_| {}).unwrap_err();
        assert!(
            matches!(&err, BuildError::FileChanged { path, expected: 50_000 } if path == &written[0]),
            "{err}"
        );
        fs::write(&written[0], pseudo_random(0, 50_000)).unwrap();
    }
}

#[test]
fn a_missing_path_names_itself() {
    let dir = TempDir::new("builder-missing");
    let missing = dir.path().join("nope");
    let err = TorrentBuilder::new(&missing).scan().unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("cannot read {}: ", missing.display())),
        "{err}"
    );
}

#[test]
fn dht_nodes_are_written_and_read_back() {
    let dir = testkit::TempDir::new("builder-nodes");
    let file = dir.path().join("x.bin");
    std::fs::write(&file, b"hello").unwrap();
    let bytes = build(
        TorrentBuilder::new(&file)
            .dht_node("127.0.0.1".into(), 6881)
            .dht_node("router.example".into(), 25401),
    );
    let t = crate::Torrent::from_bytes(&bytes).unwrap();
    assert_eq!(
        t.nodes,
        vec![
            ("127.0.0.1".to_string(), 6881),
            ("router.example".to_string(), 25401)
        ]
    );
    assert!(t.trackers().is_empty());
    // Malformed entries are skipped, not fatal.
    let odd = b"d4:infod6:lengthi1e4:name1:x12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae5:nodesl1:xli1ei2eel1:hi7eeee";
    let t = crate::Torrent::from_bytes(odd).unwrap();
    assert_eq!(t.nodes, vec![("h".to_string(), 7)]);
}
