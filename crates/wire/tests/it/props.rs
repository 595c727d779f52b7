//! Round trips (everything written parses back to itself) and the "never panics on any
//! input" sweep, for frames, handshakes and extension messages.

use proptest::collection::vec;
use proptest::prelude::*;
use wire::extended::ExtendedHandshake;
use wire::metadata::MetadataMessage;
use wire::pex::Pex;
use wire::{BlockRequest, Handshake, Limits, MAX_REQUEST_LEN, Message, Parsed, Reserved, decode};

fn block() -> impl Strategy<Value = BlockRequest> {
    (any::<u32>(), any::<u32>(), 1..=MAX_REQUEST_LEN).prop_map(|(index, begin, length)| BlockRequest {
        index,
        begin,
        length,
    })
}

/// Owned parts for messages that borrow.
#[derive(Debug, Clone)]
enum Owned {
    Simple(u8),
    Int(u8, u32),
    Block(u8, BlockRequest),
    Bits(Vec<u8>),
    Piece(u32, u32, Vec<u8>),
    Port(u16),
    Ext(u8, Vec<u8>),
    Unknown(u8, Vec<u8>),
}

impl Owned {
    fn message(&self) -> Message<'_> {
        match self {
            Self::Simple(0) => Message::KeepAlive,
            Self::Simple(1) => Message::Choke,
            Self::Simple(2) => Message::Unchoke,
            Self::Simple(3) => Message::Interested,
            Self::Simple(4) => Message::NotInterested,
            Self::Simple(5) => Message::HaveAll,
            Self::Simple(_) => Message::HaveNone,
            Self::Int(0, n) => Message::Have(*n),
            Self::Int(1, n) => Message::Suggest(*n),
            Self::Int(_, n) => Message::AllowedFast(*n),
            Self::Block(0, b) => Message::Request(*b),
            Self::Block(1, b) => Message::Cancel(*b),
            Self::Block(_, b) => Message::Reject(*b),
            Self::Bits(b) => Message::Bitfield(b),
            Self::Piece(index, begin, data) => Message::Piece {
                index: *index,
                begin: *begin,
                data,
            },
            Self::Port(p) => Message::Port(*p),
            Self::Ext(id, payload) => Message::Extended { id: *id, payload },
            Self::Unknown(id, payload) => Message::Unknown { id: *id, payload },
        }
    }
}

fn owned() -> impl Strategy<Value = Owned> {
    prop_oneof![
        (0u8..7).prop_map(Owned::Simple),
        (0u8..3, any::<u32>()).prop_map(|(k, n)| Owned::Int(k, n)),
        (0u8..3, block()).prop_map(|(k, b)| Owned::Block(k, b)),
        vec(any::<u8>(), 0..600).prop_map(Owned::Bits),
        (any::<u32>(), any::<u32>(), vec(any::<u8>(), 0..20_000)).prop_map(|(i, b, d)| Owned::Piece(i, b, d)),
        any::<u16>().prop_map(Owned::Port),
        (any::<u8>(), vec(any::<u8>(), 0..300)).prop_map(|(i, p)| Owned::Ext(i, p)),
        (21u8.., vec(any::<u8>(), 0..300)).prop_map(|(i, p)| Owned::Unknown(i, p)),
    ]
}

proptest! {
    #[test]
    fn messages_round_trip(msgs in vec(owned(), 1..8)) {
        let mut buf = Vec::new();
        for m in &msgs {
            let before = buf.len();
            m.message().write(&mut buf);
            prop_assert_eq!(buf.len() - before, m.message().wire_len());
        }
        let limits = Limits::default();
        let mut rest = &buf[..];
        for m in &msgs {
            // Every strict prefix of the frame is Incomplete, never an error.
            let Parsed::Done { value, len } = decode(rest, &limits).unwrap() else {
                panic!("whole frame incomplete");
            };
            prop_assert_eq!(value, m.message());
            for cut in [0, 1, 3, len / 2, len - 1] {
                prop_assert!(
                    matches!(decode(&rest[..cut], &limits), Ok(Parsed::Incomplete { .. })),
                    "prefix {} of {}", cut, len
                );
            }
            rest = &rest[len..];
        }
        prop_assert!(rest.is_empty());
    }

    #[test]
    fn handshakes_round_trip(r in any::<[u8; 8]>(), ih in any::<[u8; 20]>(), id in any::<[u8; 20]>()) {
        let hs = Handshake { reserved: Reserved(r), info_hash: ids::InfoHash(ih), peer_id: ids::PeerId(id) };
        prop_assert_eq!(Handshake::parse(&hs.to_bytes()), Ok(Parsed::Done { value: hs, len: 68 }));
    }

    #[test]
    fn decoders_never_panic(data in vec(any::<u8>(), 0..400)) {
        let limits = Limits::for_torrent(1000, 16 * 1024);
        let _ = decode(&data, &limits);
        let _ = Handshake::parse(&data);
        let _ = ExtendedHandshake::parse(&data);
        let _ = MetadataMessage::parse(&data);
        let _ = Pex::parse(&data);
        let _ = wire::Bitfield::from_bytes(&data, data.len() * 8 - data.len().min(3));
    }

    #[test]
    fn frames_with_any_body_never_panic(id in any::<u8>(), body in vec(any::<u8>(), 0..40)) {
        let mut buf = ((body.len() + 1) as u32).to_be_bytes().to_vec();
        buf.push(id);
        buf.extend_from_slice(&body);
        if let Ok(Parsed::Done { value, len }) = decode(&buf, &Limits::default()) {
            prop_assert_eq!(len, buf.len());
            let mut again = Vec::new();
            value.write(&mut again);
            prop_assert_eq!(again, buf);
        }
    }
}

#[test]
fn every_length_of_a_sweep_is_safe() {
    // All inputs of length 0..=6 over a small alphabet that hits every id and length corner.
    let alphabet = [0u8, 1, 4, 5, 7, 9, 13, 20, 0xff];
    let limits = Limits::default();
    let mut input = Vec::new();
    fn rec(input: &mut Vec<u8>, depth: usize, alphabet: &[u8], limits: &Limits) {
        let _ = decode(input, limits);
        if depth == 0 {
            return;
        }
        for &b in alphabet {
            input.push(b);
            rec(input, depth - 1, alphabet, limits);
            input.pop();
        }
    }
    rec(&mut input, 6, &alphabet, &limits);
}
