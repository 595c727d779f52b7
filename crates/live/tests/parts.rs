//! The pure parts: data-channel messages and pieces, channel ids, peer lists.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::time::{Duration, Instant};

use live::datachannel::{Assembler, MAX_CHUNK, Message, PieceError, piece};
use live::peer::{Device, LivePeerId, channel_id};
use live::swarm::{Report, SwarmError, SwarmLimits, Swarms};

#[test]
fn messages_are_the_seed_s_json() {
    let cases = [
        (
            Message::Request { sn: 7, urgent: true },
            r#"{"event":"REQUEST","sn":7,"urgent":true}"#,
        ),
        (
            Message::Piece {
                attachments: 2,
                url: "seg7.ts".into(),
                sn: 7,
                size: 70000,
            },
            r#"{"event":"PIECE","attachments":2,"url":"seg7.ts","sn":7,"size":70000}"#,
        ),
        (
            Message::PieceAck {
                url: "seg7.ts".into(),
                sn: 7,
            },
            r#"{"event":"PIECE_ACK","url":"seg7.ts","sn":7}"#,
        ),
        (
            Message::PieceNotFound { sn: 9 },
            r#"{"event":"PIECE_NOT_FOUND","sn":9}"#,
        ),
        (Message::Close, r#"{"event":"CLOSE"}"#),
        (Message::Error, r#"{"event":"ERROR"}"#),
        (
            Message::Bitfield { field: vec![1, 2, 3] },
            r#"{"event":"BITFIELD","field":[1,2,3]}"#,
        ),
        (Message::Have { sn: 4 }, r#"{"event":"HAVE","sn":4}"#),
        (Message::Lost { sn: 4 }, r#"{"event":"LOST","sn":4}"#),
    ];
    for (m, text) in cases {
        assert_eq!(m.to_json(), text);
        assert_eq!(Message::from_json(text), Some(m));
    }
    assert_eq!(
        Message::from_json(r#"{"event":"REQUEST","sn":3}"#),
        Some(Message::Request { sn: 3, urgent: false })
    );
    for bad in [
        r#"{"event":"NOPE"}"#,
        r#"{"sn":1}"#,
        "[]",
        r#"{"event":"HAVE","sn":-1}"#,
        "x",
    ] {
        assert_eq!(Message::from_json(bad), None, "{bad}");
    }
}

#[test]
fn pieces_split_and_reassemble_and_lies_are_caught() {
    let bytes: Vec<u8> = (0..150_000u32).map(|i| (i % 251) as u8).collect();
    let (header, chunks) = piece("s.ts", 5, &bytes);
    let Message::Piece {
        attachments, size, ..
    } = header
    else {
        panic!()
    };
    assert_eq!((attachments, size, chunks.len()), (3, 150_000, 3));
    assert!(chunks.iter().all(|c| c.len() <= MAX_CHUNK));
    let mut a = Assembler::new("s.ts".into(), 5, size, attachments).unwrap();
    assert_eq!(a.push(chunks[0]).unwrap(), None);
    assert_eq!(a.push(chunks[1]).unwrap(), None);
    assert_eq!(a.push(chunks[2]).unwrap(), Some(bytes.clone()));
    // A header whose chunk count cannot carry its size, an empty or huge piece.
    for (size, n) in [(150_000, 2), (0, 0), (1 << 40, 16_777_216)] {
        assert!(
            matches!(
                Assembler::new("s".into(), 1, size, n),
                Err(PieceError::BadHeader { .. })
            ),
            "{size} {n}"
        );
    }
    // Too many bytes, and too few.
    let mut a = Assembler::new("s".into(), 1, 10, 1).unwrap();
    assert_eq!(a.push(&[0; 11]), Err(PieceError::Overflow));
    let mut a = Assembler::new("s".into(), 1, 70_000, 2).unwrap();
    a.push(&[0; 100]).unwrap();
    assert_eq!(
        a.push(&[0; 100]),
        Err(PieceError::Short {
            got: 200,
            want: 70_000
        })
    );
}

#[test]
fn channel_ids_are_hex_or_the_hash_of_the_url() {
    let hex = "0123456789abcdef0123456789abcdef01234567";
    assert_eq!(channel_id(hex).unwrap().to_hex(), hex);
    // SHA-1 of "abc".
    assert_eq!(
        channel_id("abc").unwrap().to_hex(),
        "a9993e364706816aba3e25717850c26c9cd0d89d"
    );
    assert!(channel_id("").is_err());
    assert!(channel_id(&"x".repeat(5000)).is_err());
    assert_eq!(LivePeerId::from_random([255; 20]).as_str().len(), 20);
    assert!(LivePeerId::parse("ABCDEFGHIJ0123456789").is_none());
}

fn limits() -> SwarmLimits {
    SwarmLimits {
        peer_timeout: Duration::from_secs(25),
        max_peers_returned: 3,
        max_peers_per_channel: 6,
        max_channels: 2,
        max_peers: 10,
        connection_target: 2,
    }
}

#[test]
fn peer_lists_prefer_the_same_device_and_room_never_the_asker() {
    let now = Instant::now();
    let ip: IpAddr = "192.0.2.1".parse().unwrap();
    let ch = channel_id("c").unwrap();
    let mut s = Swarms::new(limits());
    let mut ids = Vec::new();
    for (i, d) in [Device::Pc, Device::Mobile, Device::Pc, Device::Mobile, Device::Pc]
        .into_iter()
        .enumerate()
    {
        let (id, _) = s.announce(ch, d, ip, now, [i as u8; 20], 0).unwrap();
        ids.push(id);
    }
    // PC viewer 2 has no room left.
    s.report(
        &ch,
        &ids[2],
        Report {
            conns: 5,
            ..Report::default()
        },
        now,
    )
    .unwrap();
    for pick in 0..10 {
        let list = s.get_peers(&ch, &ids[0], now, pick).unwrap();
        assert_eq!(list.len(), 3);
        assert!(!list.contains(&ids[0]));
        assert_eq!(list[0], ids[4], "the PC viewer with room comes first");
        assert_eq!(list[1], ids[2], "then the PC viewer without");
    }
    // Caps per channel, channels and in total.
    s.announce(ch, Device::Pc, ip, now, [9; 20], 0).unwrap();
    assert_eq!(
        s.announce(ch, Device::Pc, ip, now, [10; 20], 0),
        Err(SwarmError::Full("viewers of this channel"))
    );
    s.announce(channel_id("d").unwrap(), Device::Pc, ip, now, [11; 20], 0)
        .unwrap();
    assert_eq!(
        s.announce(channel_id("e").unwrap(), Device::Pc, ip, now, [12; 20], 0),
        Err(SwarmError::Full("channels"))
    );
    // Silence drops viewers; the channel goes with its last one.
    s.heartbeat(&ch, &ids[1], now + Duration::from_secs(20)).unwrap();
    s.expire(now + Duration::from_secs(30));
    assert_eq!(s.len(), 1);
    assert_eq!(s.channels().len(), 1);
    assert_eq!(s.get_peers(&ch, &ids[0], now, 0), Err(SwarmError::UnknownPeer));
}
