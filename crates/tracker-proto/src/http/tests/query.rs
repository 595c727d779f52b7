//! `parse_announce` and `write_announce_query`: every rule and every error message.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

fn peer_bytes() -> [u8; 20] {
    let mut id = [0u8; 20];
    id[..8].copy_from_slice(b"-LT2080-");
    id[8..].copy_from_slice(&[
        0x8a, 0xfd, 0x11, 0xa9, b'k', 0xad, 0xb5, 0xa3, 0x16, 0x40, 0xe5, 0x0c,
    ]);
    id
}

#[test]
fn libtorrent_query() {
    let q = "info_hash=%124Vx%9a%bc%de%f1%23Eg%89%ab%cd%ef%124Vx%9a&peer_id=-LT2080-%8a%fd%11%a9k%ad%b5%a3%16%40%e5%0c\
             &port=6881&uploaded=0&downloaded=0&left=1234&corrupt=0&key=1A2B3C4D&event=started&numwant=200\
             &compact=1&no_peer_id=1&supportcrypto=1&redundant=0";
    let ann = parse_announce(q.as_bytes()).unwrap();
    let hash = [
        0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf1, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x12, 0x34,
        0x56, 0x78, 0x9a,
    ];
    let mut want = minimal(hash, peer_bytes(), 6881);
    want.request.transfer.left = 1234;
    want.request.key = Some(b"1A2B3C4D".to_vec());
    want.request.event = AnnounceEvent::Started;
    want.request.numwant = Some(200);
    want.no_peer_id = true;
    assert_eq!(ann, want);
}

#[test]
fn transmission_query() {
    let q = format!(
        "info_hash={HASH}&peer_id=-TR3000-k2x9w0q1z7ab&port=51413&uploaded=1024&downloaded=2048&left=0\
         &numwant=80&key=5e7a1b2c&compact=1&supportcrypto=1&event=completed&ipv6=2001%3Adb8%3A%3A1\
         &trackerid=abc"
    );
    let ann = parse_announce(q.as_bytes()).unwrap();
    let mut want = minimal(hash_bytes(), *b"-TR3000-k2x9w0q1z7ab", 51413);
    want.request.transfer = Transfer {
        uploaded: 1024,
        downloaded: 2048,
        left: 0,
    };
    want.request.numwant = Some(80);
    want.request.key = Some(b"5e7a1b2c".to_vec());
    want.request.event = AnnounceEvent::Completed;
    want.ipv6 = Some("2001:db8::1".parse().unwrap());
    want.tracker_id = Some(b"abc".to_vec());
    assert_eq!(ann, want);
}

#[test]
fn aria2_binary_key() {
    // aria2 sends non-UTF-8 bytes in `key`; aquatic_http drops such requests (INTEROP.md).
    let q = format!(
        "info_hash={HASH}&peer_id=A2-1-37-0-%00%ff%10%80%fe%01%9c%a3%7f%20&uploaded=0&downloaded=0\
         &left=1234&compact=1&key=%00%ff%a3%10%80%fe%01%9c&numwant=50&no_peer_id=1&port=6881\
         &event=started&supportcrypto=1"
    );
    let ann = parse_announce(q.as_bytes()).unwrap();
    assert_eq!(
        ann.request.key.as_deref(),
        Some(&[0x00, 0xff, 0xa3, 0x10, 0x80, 0xfe, 0x01, 0x9c][..])
    );
    assert_eq!(&ann.request.peer_id.0[..10], b"A2-1-37-0-");
    assert_eq!(
        ann.request.peer_id.0[10..],
        [0x00, 0xff, 0x10, 0x80, 0xfe, 0x01, 0x9c, 0xa3, 0x7f, 0x20]
    );
}

#[test]
fn minimal_query_defaults() {
    let ann = ok("");
    assert_eq!(ann, minimal(hash_bytes(), peer_bytes(), 6881));
    assert!(ann.compact, "compact defaults to true");
}

#[test]
fn events() {
    assert_eq!(ok("&event=started").request.event, AnnounceEvent::Started);
    assert_eq!(ok("&event=completed").request.event, AnnounceEvent::Completed);
    assert_eq!(ok("&event=stopped").request.event, AnnounceEvent::Stopped);
    assert_eq!(ok("&event=").request.event, AnnounceEvent::None);
    assert_eq!(ok("&event").request.event, AnnounceEvent::None);
    assert_eq!(ok("&event=%73tarted").request.event, AnnounceEvent::Started);
    assert_eq!(ok("&event=paused").request.event, AnnounceEvent::None, "BEP 21");
    let msg = "unknown event (expected started, completed or stopped)";
    for bad in [
        "start",
        "STARTED",
        "started+",
        "stopped%00",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ] {
        assert_eq!(err(&query(&format!("&event={bad}"))), msg, "{bad}");
    }
    assert_eq!(err(&query("&event=%zz")), "invalid percent-encoding in event");
}

#[test]
fn seed_spelling_stoped() {
    // Seed 000 lists the events as "empty, started, completed, stoped".
    assert_eq!(ok("&event=stoped").request.event, AnnounceEvent::Stopped);
}

#[test]
fn flags() {
    assert!(!ok("&compact=0").compact);
    assert!(ok("&compact=1").compact);
    assert!(ok("&no_peer_id=1").no_peer_id);
    assert!(!ok("&no_peer_id=0").no_peer_id);
    assert_eq!(
        err(&query("&compact=2")),
        "invalid value for compact (expected 0 or 1)"
    );
    assert_eq!(
        err(&query("&compact=")),
        "invalid value for compact (expected 0 or 1)"
    );
    assert_eq!(
        err(&query("&compact=10")),
        "invalid value for compact (expected 0 or 1)"
    );
    assert_eq!(
        err(&query("&no_peer_id=yes")),
        "invalid value for no_peer_id (expected 0 or 1)"
    );
}

#[test]
fn missing_required() {
    let parts = [
        ("info_hash", format!("info_hash={HASH}")),
        ("peer_id", format!("peer_id={PEER}")),
        ("port", "port=6881".to_string()),
        ("left", "left=0".to_string()),
    ];
    for (i, (name, _)) in parts.iter().enumerate() {
        let q: Vec<&str> = parts
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, p)| p.1.as_str())
            .collect();
        assert_eq!(err(&q.join("&")), format!("missing parameter: {name}"));
    }
    assert_eq!(err(""), "missing parameter: info_hash");
}

#[test]
fn fixed_lengths() {
    let h19 = &HASH[..HASH.len() - 3];
    assert_eq!(
        err(&format!("info_hash={h19}&peer_id={PEER}&port=1&left=0")),
        "info_hash must be 20 bytes, got 19"
    );
    assert_eq!(
        err(&format!("info_hash={HASH}%14&peer_id={PEER}&port=1&left=0")),
        "info_hash must be 20 bytes, got 21"
    );
    assert_eq!(
        err(&format!("info_hash={HASH}&peer_id=abc&port=1&left=0")),
        "peer_id must be 20 bytes, got 3"
    );
    assert_eq!(
        err(&format!("info_hash=&peer_id={PEER}&port=1&left=0")),
        "info_hash must be 20 bytes, got 0"
    );
}

#[test]
fn plus_is_literal_in_binary_params() {
    let q = format!(
        "info_hash=+++++%00%01%02%03%04%05%06%07%08%09%0A%0B%0C%0D%0E&peer_id={PEER}&port=1&left=0&key=a+b"
    );
    let ann = parse_announce(q.as_bytes()).unwrap();
    assert_eq!(ann.request.info_hash.0[..5], [b'+'; 5]);
    assert_eq!(ann.request.key.as_deref(), Some(&b"a+b"[..]));
}

#[test]
fn plus_is_space_in_text_params() {
    assert_eq!(ok("&auth_key=a+b").auth_key.as_deref(), Some("a b"));
    assert_eq!(err(&query("&uploaded=+5")), "invalid number in uploaded");
}

#[test]
fn bad_percent_encoding_names_the_param() {
    for bad in ["%G1", "%", "%4", "abc%4", "%%"] {
        let q = format!("info_hash={HASH}&peer_id={bad}&port=1&left=0");
        assert_eq!(err(&q), "invalid percent-encoding in peer_id", "{bad}");
        let q = format!("info_hash={bad}&peer_id={PEER}&port=1&left=0");
        assert_eq!(err(&q), "invalid percent-encoding in info_hash", "{bad}");
        assert_eq!(
            err(&query(&format!("&key={bad}"))),
            "invalid percent-encoding in key"
        );
        assert_eq!(
            err(&query(&format!("&trackerid={bad}"))),
            "invalid percent-encoding in trackerid"
        );
        assert_eq!(
            err(&query(&format!("&passkey={bad}"))),
            "invalid percent-encoding in passkey"
        );
        assert_eq!(
            err(&query(&format!("&numwant={bad}"))),
            "invalid percent-encoding in numwant"
        );
    }
    // A bad escape in a parameter we do not read is not our business.
    assert!(parse_announce(query("&supportcrypto=%G1").as_bytes()).is_ok());
}

#[test]
fn duplicates() {
    assert_eq!(
        err(&query(&format!("&info_hash={HASH}"))),
        "duplicate parameter: info_hash"
    );
    assert_eq!(
        err(&query(&format!("&peer_id={PEER}"))),
        "duplicate parameter: peer_id"
    );
    assert_eq!(err(&query("&port=6881")), "duplicate parameter: port");
    // Others: the last one wins.
    assert_eq!(ok("&left=7").request.transfer.left, 7);
    assert_eq!(
        ok("&event=started&event=stopped").request.event,
        AnnounceEvent::Stopped
    );
}

#[test]
fn ports() {
    let base = format!("info_hash={HASH}&peer_id={PEER}&left=0");
    assert_eq!(
        parse_announce(format!("{base}&port=65535").as_bytes())
            .unwrap()
            .request
            .port,
        65535
    );
    assert_eq!(
        parse_announce(format!("{base}&port=00080").as_bytes())
            .unwrap()
            .request
            .port,
        80
    );
    assert_eq!(err(&format!("{base}&port=0")), "port must be between 1 and 65535");
    assert_eq!(
        err(&format!("{base}&port=65536")),
        "port must be between 1 and 65535"
    );
    assert_eq!(err(&format!("{base}&port=-1")), "invalid number in port");
    assert_eq!(err(&format!("{base}&port=")), "invalid number in port");
    assert_eq!(err(&format!("{base}&port=68x1")), "invalid number in port");
}

#[test]
fn counters_and_numwant() {
    let ann = ok("&uploaded=18446744073709551615&downloaded=%31%30&left=42");
    assert_eq!(
        ann.request.transfer,
        Transfer {
            uploaded: u64::MAX,
            downloaded: 10,
            left: 42
        }
    );
    assert_eq!(
        err(&query("&uploaded=18446744073709551616")),
        "invalid number in uploaded"
    );
    assert_eq!(err(&query("&downloaded=1.5")), "invalid number in downloaded");
    assert_eq!(err(&query("&left=-1")), "invalid number in left");
    assert_eq!(ok("&numwant=0").request.numwant, Some(0));
    assert_eq!(ok("&numwant=4294967295").request.numwant, Some(u32::MAX));
    assert_eq!(err(&query("&numwant=4294967296")), "invalid number in numwant");
    assert_eq!(err(&query("&numwant=-1")), "invalid number in numwant");
    assert_eq!(err(&query("&numwant=lots")), "invalid number in numwant");
}

#[test]
fn ip_param() {
    assert_eq!(
        ok("&ip=10.1.2.3").request.ip,
        Some(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)))
    );
    assert_eq!(
        ok("&ip=2001%3adb8%3a%3a2").request.ip,
        Some("2001:db8::2".parse().unwrap())
    );
    assert_eq!(
        ok("&ip=2001:db8::2").request.ip,
        Some("2001:db8::2".parse().unwrap())
    );
    assert_eq!(
        ok("&ip=%5B%3A%3A1%5D").request.ip,
        Some(IpAddr::V6(Ipv6Addr::LOCALHOST))
    );
    for not_ip in [
        "tracker.example.org",
        "",
        "300.1.1.1",
        "%G1",
        "%FF%FE",
        "1.2.3.4.5",
    ] {
        assert_eq!(ok(&format!("&ip={not_ip}")).request.ip, None, "{not_ip}");
    }
}

#[test]
fn bep7_ipv4_ipv6_params() {
    let ann = ok("&ipv4=192.0.2.1:6881&ipv6=%5B2001%3Adb8%3A%3A1%5D%3A6881");
    assert_eq!(ann.ipv4, Some(Ipv4Addr::new(192, 0, 2, 1)));
    assert_eq!(ann.ipv6, Some("2001:db8::1".parse().unwrap()));
    let ann = ok("&ipv4=192.0.2.1&ipv6=[::1]");
    assert_eq!(
        (ann.ipv4, ann.ipv6),
        (Some(Ipv4Addr::new(192, 0, 2, 1)), Some(Ipv6Addr::LOCALHOST))
    );
    // Wrong family or garbage: ignored.
    let ann = ok("&ipv4=::1&ipv6=192.0.2.1");
    assert_eq!((ann.ipv4, ann.ipv6), (None, None));
    let ann = ok("&ipv4=host.example&ipv6=%ZZ");
    assert_eq!((ann.ipv4, ann.ipv6), (None, None));
}

#[test]
fn key_limits() {
    let k128 = "%AB".repeat(128);
    assert_eq!(ok(&format!("&key={k128}")).request.key, Some(vec![0xab; 128]));
    assert_eq!(
        err(&query(&format!("&key={k128}x"))),
        "key too long (129 bytes, limit 128)"
    );
    assert_eq!(ok("&key=").request.key, None);
    assert_eq!(
        err(&query(&format!("&trackerid={}", "t".repeat(129)))),
        "trackerid too long (129 bytes, limit 128)"
    );
}

#[test]
fn auth_key_and_passkey() {
    assert_eq!(ok("&auth_key=0123abcdef").auth_key.as_deref(), Some("0123abcdef"));
    assert_eq!(ok("&passkey=%7Epk%21").auth_key.as_deref(), Some("~pk!"));
    assert_eq!(ok("&passkey=").auth_key, None);
    assert_eq!(
        err(&query("&passkey=ab%01")),
        "invalid passkey: only printable ascii characters are allowed"
    );
    assert_eq!(
        err(&query("&auth_key=caf%C3%A9")),
        "invalid auth_key: only printable ascii characters are allowed"
    );
    assert_eq!(
        err(&query(&format!("&auth_key={}", "a".repeat(129)))),
        "auth_key too long (129 bytes, limit 128)"
    );
}

#[test]
fn caps() {
    let long = query(&format!("&pad={}", "x".repeat(MAX_QUERY_LEN)));
    let len = long.len();
    assert_eq!(err(&long), format!("query too long ({len} bytes, limit 8192)"));
    let fits = query("&pad=");
    let fits = format!("{fits}{}", "x".repeat(MAX_QUERY_LEN - fits.len()));
    assert!(parse_announce(fits.as_bytes()).is_ok());

    let params = |n: usize| query(&"&x=1".repeat(n));
    assert!(parse_announce(params(MAX_PARAMS - 4).as_bytes()).is_ok());
    assert_eq!(err(&params(MAX_PARAMS - 3)), "too many parameters (limit 64)");
}

#[test]
fn unknown_and_empty_params_ignored() {
    let ann = ok("&&supportcrypto=1&requirecrypto&=&corrupt=0&&");
    assert_eq!(ann, minimal(hash_bytes(), peer_bytes(), 6881));
}

#[test]
fn query_writer_exact() {
    let mut ann = minimal(hash_bytes(), peer_bytes(), 6881);
    ann.request.transfer = Transfer {
        uploaded: 1,
        downloaded: 2,
        left: 3,
    };
    ann.request.event = AnnounceEvent::Started;
    ann.request.numwant = Some(50);
    ann.request.ip = Some("::1".parse().unwrap());
    ann.request.key = Some(vec![0x00, b'a', b'+']);
    ann.no_peer_id = true;
    ann.ipv4 = Some(Ipv4Addr::new(1, 2, 3, 4));
    ann.auth_key = Some("p k".to_string());
    let mut out = String::new();
    write_announce_query(&mut out, &ann);
    let want = format!(
        "info_hash={HASH}&peer_id=-LT2080-%8A%FD%11%A9k%AD%B5%A3%16%40%E5%0C&port=6881&uploaded=1\
         &downloaded=2&left=3&compact=1&event=started&no_peer_id=1&numwant=50&ip=%3A%3A1&ipv4=1.2.3.4\
         &key=%00a%2B&auth_key=p%20k"
    );
    assert_eq!(out, want);
    assert_eq!(parse_announce(out.as_bytes()).unwrap(), ann);
}

#[test]
fn query_writer_separator() {
    let ann = minimal(hash_bytes(), peer_bytes(), 1);
    for (prefix, sep) in [
        ("http://t.example/announce?", ""),
        ("announce.php?passkey=abc", "&"),
        ("a&", ""),
    ] {
        let mut out = prefix.to_string();
        write_announce_query(&mut out, &ann);
        assert!(out.starts_with(&format!("{prefix}{sep}info_hash=")), "{out}");
    }
}
