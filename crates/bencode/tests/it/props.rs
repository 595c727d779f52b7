//! Property tests: encode → decode round trip, and no panic on any input.

use std::collections::BTreeMap;

use bencode::{ByteBuf, DecodeOptions, Kind, Value, decode, to_bytes};
use proptest::prelude::*;
use serde::Serialize;

/// An owned tree to generate, since `Value` borrows from its input.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
enum Tree {
    Int(i64),
    Bytes(ByteBuf),
    List(Vec<Tree>),
    Dict(BTreeMap<ByteBuf, Tree>),
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Tree::Int),
        proptest::collection::vec(any::<u8>(), 0..24).prop_map(|b| Tree::Bytes(ByteBuf(b))),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Tree::List),
            proptest::collection::btree_map(
                proptest::collection::vec(any::<u8>(), 0..8).prop_map(ByteBuf),
                inner,
                0..6
            )
            .prop_map(Tree::Dict),
        ]
    })
}

fn same(t: &Tree, v: &Value<'_>) -> bool {
    match (t, v.kind()) {
        (Tree::Int(a), Kind::Int(b)) => a == b,
        (Tree::Bytes(a), Kind::Bytes(b)) => a.0 == *b,
        (Tree::List(a), Kind::List(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y)),
        (Tree::Dict(a), Kind::Dict(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b.iter())
                    .all(|((ka, va), (kb, vb))| ka.0 == kb && same(va, vb))
        }
        _ => false,
    }
}

proptest! {
    #[test]
    fn encode_decode_round_trip(t in tree()) {
        let bytes = to_bytes(&t).unwrap();
        let v = decode(&bytes).unwrap();
        prop_assert!(same(&t, &v));
        prop_assert_eq!(v.raw(), &bytes[..]);
        prop_assert_eq!(v.to_bytes(), bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..256)) {
        let strict = decode(&input);
        let lenient = DecodeOptions::lenient().decode(&input);
        // Whatever strict accepts, lenient accepts identically, and it re-encodes to the input.
        if let Ok(v) = &strict {
            prop_assert_eq!(v.to_bytes(), input.clone());
            prop_assert_eq!(lenient.as_ref().ok(), Some(v));
        }
    }

    #[test]
    fn mutated_valid_input_never_panics(t in tree(), pos in any::<usize>(), byte in any::<u8>()) {
        let mut bytes = to_bytes(&t).unwrap();
        let i = pos % bytes.len();
        bytes[i] = byte;
        let _ = decode(&bytes);
        let _ = DecodeOptions::lenient().decode(&bytes);
        // A proper prefix of an encoding is never valid: bencode is prefix-free.
        bytes.truncate(i);
        prop_assert!(bytes.is_empty() || decode(&bytes).is_err());
    }
}
