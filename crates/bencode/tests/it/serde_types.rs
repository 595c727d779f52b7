//! serde: structs as sorted dictionaries, options left out, byte strings, enums, errors with paths.

use std::collections::BTreeMap;

use bencode::{ByteBuf, ByteStr, DecodeErrorKind, EncodeError, Raw, from_bytes, to_bytes};
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct File<'a> {
    length: u64,
    #[serde(borrow)]
    path: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    md5sum: Option<ByteBuf>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Info<'a> {
    #[serde(borrow)]
    name: &'a str,
    #[serde(rename = "piece length")]
    piece_length: u32,
    #[serde(borrow)]
    pieces: ByteStr<'a>,
    #[serde(borrow)]
    files: Vec<File<'a>>,
    private: Option<bool>,
}

#[test]
fn struct_round_trip_sorted_keys() {
    let info = Info {
        name: "dir",
        piece_length: 16384,
        pieces: ByteStr(&[0xff; 20]),
        files: vec![File {
            length: 3,
            path: vec!["a", "b.txt"],
            md5sum: None,
        }],
        private: None,
    };
    let bytes = to_bytes(&info).unwrap();
    let expected = [
        &b"d5:filesld6:lengthi3e4:pathl1:a5:b.txteee4:name3:dir12:piece lengthi16384e6:pieces20:"[..],
        &[0xff; 20],
        b"e",
    ]
    .concat();
    assert_eq!(bytes, expected);
    assert_eq!(from_bytes::<Info>(&bytes).unwrap(), info);
    assert!(
        bencode::decode(&bytes).is_ok(),
        "serializer output must pass the strict decoder"
    );
}

#[test]
fn bool_option_and_arrays() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Msg {
        private: Option<bool>,
        id: [u8; 4],
        port: u16,
    }
    let bytes = b"d2:id4:abcd4:porti6881e7:privatei1ee";
    let m: Msg = from_bytes(bytes).unwrap();
    assert_eq!(
        m,
        Msg {
            private: Some(true),
            id: *b"abcd",
            port: 6881
        }
    );
    let e = from_bytes::<Msg>(b"d2:id4:abcd4:porti70000ee").unwrap_err();
    assert_eq!(e.path().to_string(), "port");
    let e = from_bytes::<Msg>(b"d2:id3:abc4:porti1ee").unwrap_err();
    assert_eq!(e.path().to_string(), "id");
}

#[test]
fn maps_sort_keys_and_reject_duplicates_and_bad_keys() {
    let mut m = BTreeMap::new();
    m.insert(ByteBuf(b"zz".to_vec()), 1);
    m.insert(ByteBuf(b"a".to_vec()), 2);
    assert_eq!(to_bytes(&m).unwrap(), b"d1:ai2e2:zzi1ee");
    let mut bad = BTreeMap::new();
    bad.insert(1u32, 1u32);
    assert_eq!(to_bytes(&bad).unwrap_err(), EncodeError::NonStringKey);
    assert_eq!(to_bytes(&1.5f64).unwrap_err(), EncodeError::Float);
    assert_eq!(
        to_bytes(&u64::MAX).unwrap_err(),
        EncodeError::IntegerOverflow(u64::MAX)
    );
    assert_eq!(to_bytes(&vec![None::<u8>]).unwrap_err(), EncodeError::Missing);
    assert_eq!(to_bytes(&None::<u8>).unwrap_err(), EncodeError::Missing);
}

#[test]
fn enums() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Event {
        Started,
        Stopped,
        Data(u32),
        Peer { port: u16 },
    }
    for e in [
        Event::Started,
        Event::Stopped,
        Event::Data(7),
        Event::Peer { port: 1 },
    ] {
        let bytes = to_bytes(&e).unwrap();
        assert_eq!(from_bytes::<Event>(&bytes).unwrap(), e);
    }
    assert_eq!(to_bytes(&Event::Started).unwrap(), b"7:started");
    assert_eq!(to_bytes(&Event::Data(7)).unwrap(), b"d4:datai7ee");
}

#[test]
fn type_errors_name_path_and_offset() {
    let e = from_bytes::<Info>(b"d5:filesli1ee4:name1:x12:piece lengthi1e6:pieces0:e").unwrap_err();
    assert!(matches!(
        e.kind(),
        DecodeErrorKind::WrongType {
            expected: "dictionary",
            found: "integer"
        }
    ));
    assert_eq!(e.path().to_string(), "files[0]");
    assert_eq!(e.offset(), Some(9));
    let e = from_bytes::<Info>(b"d4:name1:xe").unwrap_err();
    assert!(e.to_string().contains("missing field"), "{e}");
}

#[test]
fn raw_is_embedded_verbatim() {
    #[derive(Serialize)]
    struct Torrent<'a> {
        announce: &'a str,
        info: Raw<'a>,
    }
    let t = Torrent {
        announce: "u",
        info: Raw(b"d4:name1:xe"),
    };
    assert_eq!(to_bytes(&t).unwrap(), b"d8:announce1:u4:infod4:name1:xee");
}

#[test]
fn value_serializes_canonically() {
    let v = bencode::DecodeOptions::lenient()
        .decode(b"d1:bi1e1:ai2ee")
        .unwrap();
    assert_eq!(to_bytes(&v).unwrap(), b"d1:ai2e1:bi1ee");
}
