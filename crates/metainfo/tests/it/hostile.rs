//! Hand-made torrents: every path rule, every structural rule, strict vs lenient reading.

use metainfo::{MetainfoError, PathProblem, Strictness, Torrent};
use sha1::Digest;

/// A tiny bencode writer that keeps keys in the order given (so tests can write bad order).
enum B {
    I(i64),
    S(Vec<u8>),
    L(Vec<B>),
    D(Vec<(&'static str, B)>),
}

fn s(x: &str) -> B {
    B::S(x.as_bytes().to_vec())
}

fn enc(b: &B, out: &mut Vec<u8>) {
    match b {
        B::I(i) => bencode::write_int(out, *i),
        B::S(v) => bencode::write_bytes(out, v),
        B::L(l) => {
            out.push(b'l');
            l.iter().for_each(|x| enc(x, out));
            out.push(b'e');
        }
        B::D(d) => {
            out.push(b'd');
            for (k, v) in d {
                enc(&s(k), out);
                enc(v, out);
            }
            out.push(b'e');
        }
    }
}

fn torrent(info: B) -> Vec<u8> {
    let mut out = Vec::new();
    enc(
        &B::D(vec![("announce", s("http://t/a")), ("info", info)]),
        &mut out,
    );
    out
}

fn multi(paths: Vec<B>) -> Vec<u8> {
    let files = paths
        .into_iter()
        .map(|p| B::D(vec![("length", B::I(1)), ("path", p)]))
        .collect::<Vec<_>>();
    let n = files.len();
    torrent(B::D(vec![
        ("files", B::L(files)),
        ("name", s("dir")),
        ("piece length", B::I(16384)),
        ("pieces", B::S(vec![0; 20 * n.div_ceil(16384).max(1)])),
    ]))
}

fn path(parts: &[&str]) -> B {
    B::L(parts.iter().map(|p| s(p)).collect())
}

fn path_problem(bytes: &[u8]) -> PathProblem {
    match Torrent::from_bytes(bytes) {
        Err(MetainfoError::UnsafePath { reason, .. }) => reason,
        other => panic!("expected an unsafe path error, got {other:?}"),
    }
}

#[test]
fn paths_that_escape_are_refused() {
    assert_eq!(
        path_problem(&multi(vec![path(&["..", "etc", "passwd"])])),
        PathProblem::DotComponent
    );
    assert_eq!(
        path_problem(&multi(vec![path(&["a", "."])])),
        PathProblem::DotComponent
    );
    assert_eq!(
        path_problem(&multi(vec![path(&["/etc/passwd"])])),
        PathProblem::Separator
    );
    assert_eq!(
        path_problem(&multi(vec![path(&["a\\..\\b"])])),
        PathProblem::Separator
    );
    assert_eq!(
        path_problem(&multi(vec![path(&["a", ""])])),
        PathProblem::EmptyComponent
    );
    assert_eq!(path_problem(&multi(vec![path(&["a\0b"])])), PathProblem::Nul);
    assert_eq!(path_problem(&multi(vec![path(&[])])), PathProblem::Empty);
    assert_eq!(
        path_problem(&multi(vec![B::L(vec![B::S(vec![0xff])])])),
        PathProblem::NotUtf8
    );
}

#[test]
fn error_names_the_key() {
    let err = Torrent::from_bytes(&multi(vec![path(&["ok"]), path(&["..", "x"])])).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("info.files[1].path"), "{msg}");
    assert!(msg.contains("\"../x\""), "{msg}");
}

#[test]
fn hostile_names_are_refused() {
    for name in ["..", ".", "", "a/b", "/abs"] {
        let bytes = torrent(B::D(vec![
            ("length", B::I(1)),
            ("name", s(name)),
            ("piece length", B::I(16384)),
            ("pieces", B::S(vec![0; 20])),
        ]));
        assert!(
            matches!(Torrent::from_bytes(&bytes), Err(MetainfoError::UnsafePath { .. })),
            "{name:?}"
        );
    }
}

#[test]
fn windows_reserved_names_stay() {
    let t = Torrent::from_bytes(&multi(vec![path(&["aux"]), path(&["con", "nul.txt"])])).unwrap();
    assert_eq!(t.info.files[1].path.to_string(), "con/nul.txt");
}

#[test]
fn utf8_variants_win() {
    let files = B::L(vec![B::D(vec![
        ("length", B::I(1)),
        ("path", B::L(vec![B::S(vec![0xe9])])),
        ("path.utf-8", path(&["é"])),
    ])]);
    let bytes = torrent(B::D(vec![
        ("files", files),
        ("name", B::S(vec![0xe9])),
        ("name.utf-8", s("é")),
        ("piece length", B::I(16384)),
        ("pieces", B::S(vec![0; 20])),
    ]));
    let t = Torrent::from_bytes(&bytes).unwrap();
    assert_eq!(t.info.name, "é");
    assert_eq!(t.info.files[0].path.to_string(), "é");
}

#[test]
fn v2_file_tree_paths_are_checked() {
    let leaf = || B::D(vec![("", B::D(vec![("length", B::I(0))]))]);
    let bytes = torrent(B::D(vec![
        ("file tree", B::D(vec![("..", B::D(vec![("x", leaf())]))])),
        ("meta version", B::I(2)),
        ("name", s("t")),
        ("piece length", B::I(16384)),
    ]));
    assert_eq!(path_problem(&bytes), PathProblem::DotComponent);
}

fn single(extra: Vec<(&'static str, B)>) -> Result<Torrent, MetainfoError> {
    let mut d = vec![
        ("length", B::I(40000)),
        ("name", s("f")),
        ("piece length", B::I(16384)),
    ];
    d.extend(extra);
    d.sort_by_key(|(k, _)| *k);
    Torrent::from_bytes(&torrent(B::D(d)))
}

fn invalid_key(r: Result<Torrent, MetainfoError>) -> String {
    match r {
        Err(MetainfoError::InvalidValue { key, .. }) | Err(MetainfoError::MissingKey { key }) => key,
        other => panic!("expected an invalid or missing key, got {other:?}"),
    }
}

#[test]
fn structural_rules() {
    assert!(single(vec![("pieces", B::S(vec![0; 60]))]).is_ok());
    assert_eq!(
        invalid_key(single(vec![("pieces", B::S(vec![0; 59]))])),
        "info.pieces"
    );
    assert_eq!(
        invalid_key(single(vec![("pieces", B::S(vec![0; 40]))])),
        "info.pieces"
    );
    assert_eq!(invalid_key(single(vec![])), "info.pieces");
    assert_eq!(
        invalid_key(single(vec![("pieces", B::S(vec![0; 60])), ("private", B::I(2))])),
        "info.private"
    );
    assert_eq!(
        invalid_key(single(vec![
            ("pieces", B::S(vec![0; 60])),
            ("files", B::L(vec![]))
        ])),
        "info"
    );
    let neg = torrent(B::D(vec![
        ("length", B::I(-1)),
        ("name", s("f")),
        ("piece length", B::I(16384)),
        ("pieces", B::S(vec![])),
    ]));
    assert_eq!(invalid_key(Torrent::from_bytes(&neg)), "info.length");
    let zero_pl = torrent(B::D(vec![
        ("length", B::I(1)),
        ("name", s("f")),
        ("piece length", B::I(0)),
        ("pieces", B::S(vec![0; 20])),
    ]));
    assert_eq!(invalid_key(Torrent::from_bytes(&zero_pl)), "info.piece length");
    assert_eq!(
        invalid_key(single(vec![
            ("meta version", B::I(3)),
            ("pieces", B::S(vec![0; 60]))
        ])),
        "info.meta version"
    );
}

#[test]
fn keys_of_bep_12_19_27() {
    let mut out = Vec::new();
    let info = B::D(vec![
        ("length", B::I(1)),
        ("name", s("f")),
        ("piece length", B::I(16384)),
        ("pieces", B::S(vec![0; 20])),
        ("private", B::I(1)),
        ("source", s("SITE")),
    ]);
    enc(
        &B::D(vec![
            ("announce", s("http://a/1")),
            (
                "announce-list",
                B::L(vec![
                    B::L(vec![s("http://a/1"), s("udp://b/2")]),
                    B::L(vec![]),
                    B::L(vec![s("http://c/3")]),
                ]),
            ),
            ("comment", s("hello")),
            ("created by", s("me")),
            ("creation date", B::I(1_700_000_000)),
            ("encoding", s("UTF-8")),
            ("info", info),
            ("url-list", s("http://seed/")),
        ]),
        &mut out,
    );
    let t = Torrent::from_bytes(&out).unwrap();
    assert_eq!(
        t.announce_list,
        vec![
            vec!["http://a/1".to_string(), "udp://b/2".into()],
            vec!["http://c/3".into()]
        ]
    );
    assert_eq!(t.trackers().len(), 2);
    assert_eq!(t.url_list, ["http://seed/"]);
    assert_eq!(t.about.comment.as_deref(), Some("hello"));
    assert_eq!(t.about.created_by.as_deref(), Some("me"));
    assert_eq!(t.about.creation_date, Some(1_700_000_000));
    assert_eq!(t.about.encoding.as_deref(), Some("UTF-8"));
    assert!(t.info.private);
    assert_eq!(t.info.source.as_deref(), Some("SITE"));
}

#[test]
fn lenient_reading_hashes_the_original_bytes() {
    // Keys of `info` out of order: strict refuses, lenient reads and hashes the bytes as they are.
    let info = B::D(vec![
        ("name", s("f")),
        ("length", B::I(1)),
        ("piece length", B::I(16384)),
        ("pieces", B::S(vec![7; 20])),
    ]);
    let mut info_bytes = Vec::new();
    enc(&info, &mut info_bytes);
    let bytes = torrent(info);
    assert!(matches!(
        Torrent::from_bytes(&bytes),
        Err(MetainfoError::Bencode(_))
    ));
    let t = Torrent::from_bytes_with(&bytes, Strictness::Lenient).unwrap();
    assert_eq!(t.info_bytes(), &info_bytes[..]);
    let want: [u8; 20] = sha1::Sha1::digest(&info_bytes).into();
    assert_eq!(t.info_hash_v1().unwrap().0, want);
}

#[test]
fn hybrid_mismatch_is_refused() {
    let root = vec![1u8; 32];
    let tree = B::D(vec![(
        "g",
        B::D(vec![(
            "",
            B::D(vec![("length", B::I(10)), ("pieces root", B::S(root))]),
        )]),
    )]);
    let files = B::L(vec![B::D(vec![("length", B::I(10)), ("path", path(&["f"]))])]);
    let bytes = torrent(B::D(vec![
        ("file tree", tree),
        ("files", files),
        ("meta version", B::I(2)),
        ("name", s("t")),
        ("piece length", B::I(16384)),
        ("pieces", B::S(vec![0; 20])),
    ]));
    assert!(matches!(
        Torrent::from_bytes(&bytes),
        Err(MetainfoError::HybridMismatch(_))
    ));
}
