//! BEP 41 options after the announce: URLData, NOP, EndOfOptions, unknown types.

use super::{cat, sample_announce, sample_announce_bytes};
use crate::udp::{MAX_URL_DATA, Request, RequestError, RequestErrorKind, UdpAnnounce, parse_request};

fn with_options(options: &[u8]) -> Vec<u8> {
    cat(&[&sample_announce_bytes(), options])
}

fn url_data(options: &[u8]) -> Result<Option<Vec<u8>>, RequestError> {
    match parse_request(&with_options(options))? {
        Request::Announce(a) => Ok(a.url_data),
        other => panic!("not an announce: {other:?}"),
    }
}

#[test]
fn no_options_means_no_url_data() {
    assert_eq!(url_data(&[]).unwrap(), None);
}

#[test]
fn passkey_split_over_two_url_data_options() {
    let options = cat(&[&[0x02, 9], b"/announce", &[0x02, 13], b"?auth_key=abc"]);
    assert_eq!(url_data(&options).unwrap().unwrap(), b"/announce?auth_key=abc");
}

#[test]
fn bep_41_examples() {
    // "udp://tracker.example.com:80/dir?a=b&c=d", as one option ...
    let one = cat(&[&[0x2, 0xC], b"/dir?a=b&c=d"]);
    assert_eq!(url_data(&one).unwrap().unwrap(), b"/dir?a=b&c=d");
    // ... and padded with two NOPs and closed by EndOfOptions.
    let padded = cat(&[&one, &[0x1, 0x1, 0x0]]);
    assert_eq!(url_data(&padded).unwrap().unwrap(), b"/dir?a=b&c=d");
    // "udp://tracker.example.com:80": an empty URLData says "supported, no path".
    assert_eq!(url_data(&[0x2, 0x0]).unwrap().unwrap(), b"");
}

#[test]
fn nop_before_url_data() {
    let options = cat(&[&[0x01, 0x01, 0x02, 4], b"/a/b"]);
    assert_eq!(url_data(&options).unwrap().unwrap(), b"/a/b");
}

#[test]
fn end_of_options_stops_parsing() {
    // Bytes after EndOfOptions are not options, even malformed ones.
    let options = cat(&[&[0x02, 2], b"/x", &[0x00, 0x02, 200, 0xff]]);
    assert_eq!(url_data(&options).unwrap().unwrap(), b"/x");
    assert_eq!(url_data(&[0x00, 0x02, 3]).unwrap(), None);
}

#[test]
fn unknown_option_is_skipped_by_its_length() {
    // BEP 41: types >= 2 always carry a length byte "so that parsers can safely skip over
    // unknown option-types".
    let options = cat(&[&[0x07, 3, 0x02, 0x02, 0x02], &[0x02, 4], b"/abc", &[0xff, 0]]);
    assert_eq!(url_data(&options).unwrap().unwrap(), b"/abc");
    assert_eq!(url_data(&[0x80, 0]).unwrap(), None);
}

#[test]
fn truncated_options_are_errors_with_the_transaction_id() {
    let cases: [(&[u8], u8, usize); 5] = [
        (&[0x02], 0x02, 98),
        (&[0x02, 10, b'a', b'b', b'c'], 0x02, 98),
        (&[0x01, 0x02, 1], 0x02, 99),
        (&[0x02, 0, 0x09], 0x09, 100),
        (&[0x09, 5, 1, 2], 0x09, 98),
    ];
    for (options, option, offset) in cases {
        let err = url_data(options).unwrap_err();
        assert_eq!(err.transaction_id, Some(0xdead_beef));
        assert_eq!(err.kind, RequestErrorKind::TruncatedOption { option, offset });
    }
    let err = url_data(&[0x02, 10]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "option 2 at byte 98 runs past the end of the packet"
    );
}

#[test]
fn url_data_is_capped() {
    let chunk = [b'k'; 255];
    let mut options = Vec::new();
    for _ in 0..4 {
        options.extend_from_slice(&[0x02, 255]);
        options.extend_from_slice(&chunk);
    }
    options.extend_from_slice(&[0x02, 4, b'a', b'b', b'c', b'd']);
    assert_eq!(url_data(&options).unwrap().unwrap().len(), MAX_URL_DATA);
    options.extend_from_slice(&[0x02, 1, b'e']);
    let err = url_data(&options).unwrap_err();
    assert_eq!(err.kind, RequestErrorKind::UrlDataTooLong { max: 1024 });
    assert_eq!(err.transaction_id, Some(0xdead_beef));
    assert_eq!(err.to_string(), "url data longer than 1024 bytes");
}

fn written(url: &[u8]) -> Vec<u8> {
    let announce = UdpAnnounce {
        url_data: Some(url.to_vec()),
        ..sample_announce()
    };
    let mut out = Vec::new();
    announce.write(&mut out);
    assert_eq!(parse_request(&out).unwrap(), Request::Announce(announce));
    out.split_off(98)
}

#[test]
fn url_data_is_written_in_chunks_of_255() {
    assert_eq!(written(b""), [0x02, 0]);
    assert_eq!(
        written(b"/announce?auth_key=abc"),
        cat(&[&[0x02, 22], b"/announce?auth_key=abc"])
    );
    let long = [b'x'; 300];
    assert_eq!(
        written(&long),
        cat(&[&[0x02, 255], &[b'x'; 255], &[0x02, 45], &[b'x'; 45]])
    );
    let exact = [b'y'; 510];
    assert_eq!(written(&exact).len(), 514);
}
