//! Strict decoding: the rules of BEP 3 as the seeds state them, each with its own error.

use bencode::{DecodeErrorKind as K, DecodeOptions, Kind, decode};

fn err(input: &[u8]) -> bencode::DecodeError {
    decode(input).expect_err(&format!("{:?} should fail", String::from_utf8_lossy(input)))
}

#[test]
fn seed_examples_decode() {
    assert_eq!(decode(b"4:spam").unwrap().as_bytes(), Some(&b"spam"[..]));
    assert_eq!(decode(b"i3e").unwrap().as_int(), Some(3));
    assert_eq!(decode(b"i-3e").unwrap().as_int(), Some(-3));
    assert_eq!(decode(b"i0e").unwrap().as_int(), Some(0));
    let l = decode(b"l4:spam4:eggse").unwrap();
    let items: Vec<_> = l.as_list().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(items, ["spam", "eggs"]);
    let d = decode(b"d3:cow3:moo4:spam4:eggse").unwrap();
    assert_eq!(d.get(b"cow").unwrap().as_str(), Some("moo"));
    assert_eq!(d.get(b"spam").unwrap().as_str(), Some("eggs"));
    let d = decode(b"d4:spaml1:a1:bee").unwrap();
    assert_eq!(d.get(b"spam").unwrap().as_list().unwrap().len(), 2);
}

#[test]
fn integer_extremes() {
    assert_eq!(decode(b"i9223372036854775807e").unwrap().as_int(), Some(i64::MAX));
    assert_eq!(
        decode(b"i-9223372036854775808e").unwrap().as_int(),
        Some(i64::MIN)
    );
    assert_eq!(err(b"i9223372036854775808e").kind(), &K::IntegerOverflow);
    assert_eq!(err(b"i-9223372036854775809e").kind(), &K::IntegerOverflow);
    assert_eq!(err(b"i99999999999999999999999999e").kind(), &K::IntegerOverflow);
}

#[test]
fn each_malformation_has_its_own_error_and_offset() {
    let cases: &[(&[u8], K, usize)] = &[
        (b"i-0e", K::NegativeZero, 0),
        (b"i03e", K::IntegerLeadingZero, 0),
        (b"i-03e", K::IntegerLeadingZero, 0),
        (b"ie", K::EmptyInteger, 0),
        (b"i-e", K::EmptyInteger, 0),
        (b"03:abc", K::LengthLeadingZero, 0),
        (b"00:", K::LengthLeadingZero, 0),
        (b"di1e3:abce", K::NonStringKey, 1),
        (
            b"d1:b0:1:a0:e",
            K::UnsortedKey {
                key: "a".into(),
                previous: "b".into(),
            },
            6,
        ),
        (b"d1:a0:1:a0:e", K::DuplicateKey { key: "a".into() }, 6),
        (b"i1ei2e", K::TrailingBytes { count: 3 }, 3),
        (b"4:spamx", K::TrailingBytes { count: 1 }, 6),
        (
            b"i12",
            K::UnexpectedEof {
                expected: "'e' closing an integer",
            },
            3,
        ),
        (
            b"5:spam",
            K::UnexpectedEof {
                expected: "the rest of a string",
            },
            6,
        ),
        (
            b"l4:spam",
            K::UnexpectedEof {
                expected: "a list element or 'e'",
            },
            7,
        ),
        (b"d3:cow", K::UnexpectedEof { expected: "a value" }, 6),
        (b"", K::UnexpectedEof { expected: "a value" }, 0),
        (
            b"x",
            K::UnexpectedByte {
                found: b'x',
                expected: "a value (i, l, d or a digit)",
            },
            0,
        ),
        (
            b"i1x2e",
            K::UnexpectedByte {
                found: b'x',
                expected: "a digit or 'e' in an integer",
            },
            2,
        ),
        (
            b"3x:abc",
            K::UnexpectedByte {
                found: b'x',
                expected: "a digit or ':' in a string length",
            },
            1,
        ),
    ];
    for (input, kind, offset) in cases {
        let e = err(input);
        assert_eq!(e.kind(), kind, "input {:?}", String::from_utf8_lossy(input));
        assert_eq!(
            e.offset(),
            Some(*offset),
            "input {:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn errors_name_the_key_path() {
    let e = err(b"d4:infod5:filesld6:lengthi03eeeee");
    assert_eq!(e.kind(), &K::IntegerLeadingZero);
    assert_eq!(e.path().to_string(), "info.files[0].length");
    assert_eq!(
        e.to_string(),
        "integer with a leading zero at byte 25 (in info.files[0].length)"
    );
}

#[test]
fn lenient_accepts_unsorted_keys_and_keeps_raw_bytes() {
    let input = b"d4:infod4:name1:x6:lengthi1ee1:a0:e";
    assert!(matches!(err(input).kind(), K::UnsortedKey { .. }));
    let v = DecodeOptions::lenient().decode(input).unwrap();
    let info = v.get(b"info").unwrap();
    assert_eq!(info.raw(), b"d4:name1:x6:lengthi1ee");
    assert_eq!(info.get(b"length").unwrap().as_int(), Some(1));
    assert_eq!(info.to_bytes(), b"d6:lengthi1e4:name1:xe");
    // Duplicates stay an error even in lenient mode.
    let dup = DecodeOptions::lenient().decode(b"d1:b0:1:a0:1:b0:e").unwrap_err();
    assert_eq!(dup.kind(), &K::DuplicateKey { key: "b".into() });
}

#[test]
fn limits() {
    let deep = [&b"l".repeat(300)[..], &b"e".repeat(300)[..]].concat();
    assert!(matches!(err(&deep).kind(), K::DepthLimit { limit: 256 }));
    let shallow = DecodeOptions::strict().max_depth(2);
    assert!(shallow.decode(b"lli1eee").is_ok());
    assert!(matches!(
        shallow.decode(b"llli1eeee").unwrap_err().kind(),
        K::DepthLimit { limit: 2 }
    ));
    let short = DecodeOptions::strict().max_string_len(3);
    assert!(matches!(
        short.decode(b"4:spam").unwrap_err().kind(),
        K::StringTooLong { len: 4, limit: 3 }
    ));
    let small = DecodeOptions::strict().max_input_len(4);
    assert!(matches!(
        small.decode(b"4:spam").unwrap_err().kind(),
        K::InputTooLarge { len: 6, limit: 4 }
    ));
    let huge = b"99999999999999999999999999:";
    assert_eq!(err(huge).kind(), &K::LengthOverflow);
    assert!(matches!(
        err(b"1000:abc").kind(),
        K::StringTooLong { .. } | K::UnexpectedEof { .. }
    ));
}

#[test]
fn raw_spans_are_exact() {
    let input = b"d8:announce3:url4:infod6:lengthi5e4:name3:abcee";
    let v = decode(input).unwrap();
    let info = v.get(b"info").unwrap();
    assert_eq!(info.raw(), b"d6:lengthi5e4:name3:abce");
    assert_eq!(
        &input[info.offset()..info.offset() + info.raw().len()],
        info.raw()
    );
    assert!(matches!(info.kind(), Kind::Dict(_)));
    assert_eq!(v.to_bytes(), input);
}

#[test]
fn prefix_decoding_returns_the_rest() {
    let (v, rest) = DecodeOptions::strict()
        .decode_prefix(b"d8:msg_typei1eeRAWDATA")
        .unwrap();
    assert_eq!(v.get(b"msg_type").unwrap().as_int(), Some(1));
    assert_eq!(rest, b"RAWDATA");
}
