//! Every error, with and without a transaction id, and the replies the server sends for them.

use super::{cat, sample_announce_bytes};
use crate::udp::{
    Action, AddressFamily, RequestErrorKind, Response, ResponseErrorKind, parse_request, parse_response,
};

const CONNECTION_ID: [u8; 8] = [0, 0, 0, 0, 0, 0, 0, 1];
const TID: [u8; 4] = [0, 0, 0x10, 0x20];
const TID_VALUE: u32 = 0x1020;

#[test]
fn short_packets_have_no_transaction_id() {
    for len in [0, 1, 8, 12, 15] {
        let packet = vec![0; len];
        let err = parse_request(&packet).unwrap_err();
        assert_eq!(err.transaction_id, None, "len {len}");
        assert_eq!(err.kind, RequestErrorKind::TooShort { len });
        let mut out = Vec::new();
        assert!(!err.write_reply(&mut out));
        assert!(out.is_empty());
    }
    let err = parse_request(&[0; 15]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "packet of 15 bytes is too short for a request (at least 16)"
    );
}

#[test]
fn short_announce() {
    for len in [16, 50, 97] {
        let packet = &sample_announce_bytes()[..len];
        let err = parse_request(packet).unwrap_err();
        assert_eq!(err.transaction_id, Some(0xdead_beef));
        let kind = RequestErrorKind::TooShortFor {
            action: Action::Announce,
            len,
            need: 98,
        };
        assert_eq!(err.kind, kind);
    }
    let err = parse_request(&sample_announce_bytes()[..97]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "packet too short for an announce: 97 bytes, need 98"
    );
}

#[test]
fn unknown_actions() {
    for action in [3u32, 4, 7, u32::MAX] {
        let packet = cat(&[&CONNECTION_ID, &action.to_be_bytes(), &TID]);
        let err = parse_request(&packet).unwrap_err();
        assert_eq!(err.transaction_id, Some(TID_VALUE));
        assert_eq!(err.kind, RequestErrorKind::UnknownAction { action });
    }
    let packet = cat(&[&CONNECTION_ID, &[0, 0, 0, 7], &TID, &[0; 30]]);
    assert_eq!(
        parse_request(&packet).unwrap_err().to_string(),
        "unknown action 7"
    );
}

#[test]
fn connect_without_protocol_id() {
    let packet = cat(&[&CONNECTION_ID, &[0, 0, 0, 0], &TID]);
    let err = parse_request(&packet).unwrap_err();
    assert_eq!(err.transaction_id, Some(TID_VALUE));
    assert_eq!(err.kind, RequestErrorKind::ProtocolId { got: 1 });
    assert_eq!(
        err.to_string(),
        "connect request without the protocol id 0x41727101980 (got 0x1)"
    );
}

#[test]
fn invalid_event() {
    let mut packet = sample_announce_bytes();
    packet[80..84].copy_from_slice(&[0, 0, 0, 9]);
    let err = parse_request(&packet).unwrap_err();
    assert_eq!(err.transaction_id, Some(0xdead_beef));
    assert_eq!(err.kind, RequestErrorKind::InvalidEvent { event: 9 });
    assert_eq!(err.to_string(), "invalid event 9");
}

#[test]
fn announce_with_any_connection_id_parses() {
    // The connection id is the tracker's to check; a zero or a protocol id is just a number.
    let mut packet = sample_announce_bytes();
    packet[..8].copy_from_slice(&0x417_2710_1980u64.to_be_bytes());
    assert_eq!(
        parse_request(&packet).unwrap().connection_id(),
        Some(0x417_2710_1980)
    );
}

fn scrape(hashes: usize, extra: usize) -> Vec<u8> {
    cat(&[
        &CONNECTION_ID,
        &[0, 0, 0, 2],
        &TID,
        &vec![0x5a; 20 * hashes + extra],
    ])
}

#[test]
fn scrape_errors() {
    let err = parse_request(&scrape(0, 0)).unwrap_err();
    assert_eq!(err.transaction_id, Some(TID_VALUE));
    assert_eq!(err.kind, RequestErrorKind::NoInfoHashes);
    assert_eq!(err.to_string(), "scrape of 0 info-hashes");

    for (hashes, extra) in [(0, 19), (1, 1), (2, 19)] {
        let err = parse_request(&scrape(hashes, extra)).unwrap_err();
        assert_eq!(err.transaction_id, Some(TID_VALUE));
        let len = 20 * hashes + extra;
        assert_eq!(err.kind, RequestErrorKind::ScrapeLength { len });
    }

    assert!(parse_request(&scrape(74, 0)).is_ok());
    let err = parse_request(&scrape(75, 0)).unwrap_err();
    assert_eq!(err.transaction_id, Some(TID_VALUE));
    assert_eq!(
        err.kind,
        RequestErrorKind::TooManyInfoHashes { count: 75, max: 74 }
    );
    assert_eq!(err.to_string(), "scrape of 75 info-hashes, at most 74 allowed");
}

#[test]
fn error_reply_names_the_problem() {
    let packet = cat(&[&CONNECTION_ID, &[0, 0, 0, 7], &TID]);
    let err = parse_request(&packet).unwrap_err();
    let mut out = b"x".to_vec();
    assert!(err.write_reply(&mut out));
    assert_eq!(out, cat(&[b"x", &[0, 0, 0, 3], &TID, b"unknown action 7"]));
    assert_eq!(
        parse_response(&out[1..], AddressFamily::V4).unwrap(),
        Response::Error {
            transaction_id: TID_VALUE,
            message: "unknown action 7".into()
        }
    );
}

#[test]
fn response_errors() {
    let v4 = AddressFamily::V4;
    let err = parse_response(&[0, 0, 0, 0, 0, 0, 0], v4).unwrap_err();
    assert_eq!(err.transaction_id, None);
    assert_eq!(err.kind, ResponseErrorKind::TooShort { len: 7 });
    assert_eq!(
        err.to_string(),
        "packet of 7 bytes is too short for a reply (at least 8)"
    );

    let err = parse_response(&cat(&[&[0, 0, 0, 0], &TID, &[0; 7]]), v4).unwrap_err();
    assert_eq!(err.transaction_id, Some(TID_VALUE));
    let kind = ResponseErrorKind::TooShortFor {
        action: Action::Connect,
        len: 15,
        need: 16,
    };
    assert_eq!(err.kind, kind);
    assert_eq!(
        err.to_string(),
        "packet too short for a connect reply: 15 bytes, need 16"
    );

    let err = parse_response(&cat(&[&[0, 0, 0, 1], &TID, &[0; 11]]), v4).unwrap_err();
    assert_eq!(err.transaction_id, Some(TID_VALUE));
    assert!(matches!(
        err.kind,
        ResponseErrorKind::TooShortFor { need: 20, .. }
    ));

    let err = parse_response(&cat(&[&[0, 0, 0, 4], &TID]), v4).unwrap_err();
    assert_eq!(err.kind, ResponseErrorKind::UnknownAction { action: 4 });

    let err = parse_response(&cat(&[&[0, 0, 0, 2], &TID, &[0; 13]]), v4).unwrap_err();
    assert_eq!(err.kind, ResponseErrorKind::ScrapeLength { len: 13 });
    assert_eq!(err.transaction_id, Some(TID_VALUE));
}

#[test]
fn peer_list_length_depends_on_family() {
    let header = cat(&[&[0, 0, 0, 1], &TID, &[0; 12]]);
    let eighteen = cat(&[&header, &[1; 18]]);
    let Response::Announce { response, .. } = parse_response(&eighteen, AddressFamily::V4).unwrap() else {
        panic!("not an announce")
    };
    assert_eq!(response.peers.len(), 3);
    let Response::Announce { response, .. } = parse_response(&eighteen, AddressFamily::V6).unwrap() else {
        panic!("not an announce")
    };
    assert_eq!(response.peers.len(), 1);

    let twelve = cat(&[&header, &[1; 12]]);
    let err = parse_response(&twelve, AddressFamily::V6).unwrap_err();
    assert_eq!(err.transaction_id, Some(TID_VALUE));
    assert_eq!(
        err.kind,
        ResponseErrorKind::PeerListLength {
            len: 12,
            peer_len: 18
        }
    );
    let err = parse_response(&cat(&[&header, &[1; 7]]), AddressFamily::V4).unwrap_err();
    assert_eq!(
        err.kind,
        ResponseErrorKind::PeerListLength { len: 7, peer_len: 6 }
    );
}

#[test]
fn error_message_is_lossy_and_capped() {
    let packet = cat(&[&[0, 0, 0, 3], &TID, b"bad \xff key"]);
    let Response::Error { message, .. } = parse_response(&packet, AddressFamily::V4).unwrap() else {
        panic!("not an error")
    };
    assert_eq!(message, "bad \u{fffd} key");

    let written = |message: String| {
        let mut out = Vec::new();
        Response::Error {
            transaction_id: 1,
            message,
        }
        .write(&mut out, AddressFamily::V4);
        out.split_off(8)
    };
    assert_eq!(written("a".repeat(2000)), "a".repeat(1024).as_bytes());
    // 'é' is 2 bytes: after "a" only 511 whole ones fit in 1024.
    let cut = written(format!("a{}", "é".repeat(600)));
    assert_eq!(cut, format!("a{}", "é".repeat(511)).as_bytes());
}

#[test]
fn error_message_cut_mid_piece_drops_later_pieces() {
    struct TwoPieces;
    impl std::fmt::Display for TwoPieces {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&"€".repeat(342))?; // 1026 bytes, cut to 1023
            f.write_str("z")
        }
    }
    let mut out = Vec::new();
    crate::udp::write_error(&mut out, 1, TwoPieces);
    assert_eq!(&out[8..], "€".repeat(341).as_bytes());
}
