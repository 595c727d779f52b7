//! Unit and property tests of magnet parsing and formatting.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use proptest::prelude::*;

use super::*;

const HEX: &str = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";
const B32: &str = "YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK";
const V2: &str = "caf1e1c30e81cb361b9ee167c4aa64228a7fa4fa9f6105232b28ad099f3a302e";

fn v1() -> InfoHash {
    InfoHash::from_hex(HEX).unwrap()
}

fn err(uri: &str) -> MagnetError {
    Magnet::parse(uri).unwrap_err()
}

fn with_v1(rest: &str) -> String {
    format!("magnet:?xt=urn:btih:{HEX}{rest}")
}

#[test]
fn libtorrent_hybrid_magnet() {
    // The hybrid test torrent from BEP 52, as libtorrent prints it.
    let uri = "magnet:?xt=urn:btih:631a31dd0a46257d5078c0dee4e66e26f73e42ac\
        &xt=urn:btmh:1220d8dd32ac93357c368556af3ac1d95c9d76bd0dff6fa9833ecdac3d53134efabb\
        &dn=bittorrent-v1-v2-hybrid-test";
    let m = Magnet::parse(uri).unwrap();
    assert_eq!(
        m.info_hash_v1.unwrap().to_hex(),
        "631a31dd0a46257d5078c0dee4e66e26f73e42ac"
    );
    assert_eq!(
        m.info_hash_v2.unwrap().to_hex(),
        "d8dd32ac93357c368556af3ac1d95c9d76bd0dff6fa9833ecdac3d53134efabb"
    );
    assert_eq!(m.display_name.as_deref(), Some("bittorrent-v1-v2-hybrid-test"));
    assert_eq!(m.to_uri(), uri);
}

#[test]
fn base32_btih_equals_hex() {
    let hex = Magnet::parse(&with_v1("")).unwrap();
    let upper = Magnet::parse(&format!("magnet:?xt=urn:btih:{B32}")).unwrap();
    let lower = Magnet::parse(&format!("magnet:?xt=urn:btih:{}", B32.to_lowercase())).unwrap();
    assert_eq!(upper, hex);
    assert_eq!(lower, hex);
    assert_eq!(ids::base32::encode(&v1().0), B32);
    // The same hash twice, once per spelling, is not a conflict.
    let both = Magnet::parse(&format!(
        "magnet:?xt=urn:btih:{B32}&xt=urn:btih:{}",
        HEX.to_uppercase()
    ))
    .unwrap();
    assert_eq!(both, hex);
}

#[test]
fn v2_only() {
    let m = Magnet::parse(&format!("magnet:?xt=urn:btmh:1220{V2}")).unwrap();
    assert_eq!(m.info_hash_v1, None);
    assert_eq!(m.info_hash_v2.unwrap().to_hex(), V2);
}

#[test]
fn display_name_plus_and_percent() {
    let m = Magnet::parse(&with_v1("&dn=Some+Name%20here%2B%26%3D%25%C3%A9")).unwrap();
    assert_eq!(m.display_name.as_deref(), Some("Some Name here+&=%é"));
    assert!(m.to_uri().ends_with("&dn=Some%20Name%20here%2B%26%3D%25%C3%A9"));
    // `+` is literal in a tracker URL.
    let m = Magnet::parse(&with_v1("&tr=http%3A%2F%2Ft.example%2Fa+b")).unwrap();
    assert_eq!(m.trackers, ["http://t.example/a+b"]);
}

#[test]
fn peers_ipv6_ipv4_and_host() {
    let m = Magnet::parse(&with_v1(
        "&x.pe=[::1]:6881&x.pe=10.0.0.2:51413&x.pe=peer.example.org:6882&x.pe=%5B2001%3Adb8%3A%3A2%5D%3A1",
    ))
    .unwrap();
    let loopback6 = SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 6881, 0, 0));
    let v4 = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 51413));
    assert_eq!(m.peers[0], PeerAddr::Ip(loopback6));
    assert_eq!(m.peers[1], PeerAddr::Ip(v4));
    assert_eq!(
        m.peers[2],
        PeerAddr::Host {
            host: "peer.example.org".into(),
            port: 6882
        }
    );
    assert_eq!(m.peers[3].to_string(), "[2001:db8::2]:1");
    assert!(
        m.to_uri()
            .contains("&x.pe=[::1]:6881&x.pe=10.0.0.2:51413&x.pe=peer.example.org:6882&")
    );
}

#[test]
fn select_only_indices_and_ranges() {
    let m = Magnet::parse(&with_v1("&so=0,2,4-6")).unwrap();
    use FileSelection::*;
    assert_eq!(m.select_only, [Index(0), Index(2), Range(4, 6)]);
    assert!(m.to_uri().ends_with("&so=0,2,4-6"));
    assert!(Range(4, 6).contains(5) && !Range(4, 6).contains(7) && Index(2).contains(2));
    assert_eq!(Magnet::parse(&with_v1("&so=")).unwrap().select_only, []);
}

#[test]
fn indexed_keys_duplicates_and_unknowns() {
    let uri = format!(
        "MAGNET:?xt.1=urn:ed2k:31d6cfe0d16ae931b73c59d7e0c089c0&xt.2=URN:BTIH:{HEX}&tr.1=udp%3A%2F%2Fa%3A1\
         &tr.2=udp%3A%2F%2Fb%3A2&tr=udp%3A%2F%2Fa%3A1&ws=http%3A%2F%2Fw&ws=http%3A%2F%2Fw&x.pe=h:1&x.pe=h:1\
         &kt=some+words&foo&&dn=first&dn=second&xl=10&xl=20&x.pe.1=h:2"
    );
    let m = Magnet::parse(&uri).unwrap();
    assert_eq!(m.info_hash_v1, Some(v1()));
    assert_eq!(m.trackers, ["udp://a:1", "udp://b:2"]);
    assert_eq!(m.web_seeds, ["http://w"]);
    assert_eq!(m.peers.len(), 2);
    assert_eq!(m.display_name.as_deref(), Some("first"));
    assert_eq!(m.exact_length, Some(10));
}

#[test]
fn formats_in_order() {
    let m = Magnet {
        info_hash_v1: Some(v1()),
        info_hash_v2: InfoHashV2::from_hex(V2),
        display_name: Some("a b".into()),
        trackers: vec!["udp://t:1/announce".into()],
        web_seeds: vec!["http://w/".into()],
        peers: vec![PeerAddr::Host {
            host: "h".into(),
            port: 2,
        }],
        exact_length: Some(7),
        select_only: vec![FileSelection::Index(1)],
    };
    let want = format!(
        "magnet:?xt=urn:btih:{HEX}&xt=urn:btmh:1220{V2}&dn=a%20b&xl=7&tr=udp%3A%2F%2Ft%3A1%2Fannounce\
         &ws=http%3A%2F%2Fw%2F&x.pe=h:2&so=1"
    );
    assert_eq!(m.to_uri(), want);
    assert_eq!(m.to_string(), want);
    assert_eq!(want.parse::<Magnet>().unwrap(), m);
    let bare = Magnet::from_info_hashes(Some(v1()), None);
    assert_eq!(bare.to_uri(), format!("magnet:?xt=urn:btih:{HEX}"));
}

#[test]
fn v6_scope_id_round_trips() {
    let addr = SocketAddr::V6(SocketAddrV6::new("fe80::1".parse().unwrap(), 80, 0, 3));
    let mut m = Magnet::from_info_hashes(Some(v1()), None);
    m.peers.push(PeerAddr::Ip(addr));
    assert!(m.to_uri().ends_with("x.pe=[fe80::1%253]:80"));
    assert_eq!(Magnet::parse(&m.to_uri()).unwrap(), m);
}

#[test]
fn size_limits() {
    let long = with_v1(&"&kt=x".repeat(MAX_URI_LEN / 5));
    assert!(matches!(
        err(&long),
        MagnetError::TooLong { max: MAX_URI_LEN, .. }
    ));
    let ok = with_v1(&"&tr=a".repeat(400)) + &"&ws=b".repeat(400) + &"&x.pe=h:1".repeat(200);
    assert_eq!(Magnet::parse(&ok).unwrap().trackers, ["a"]);
    // Short enough as given, too long once `+` is written as `%20`.
    let grows = with_v1(&format!("&dn={}", "+".repeat(MAX_URI_LEN / 2)));
    assert!(grows.len() < MAX_URI_LEN);
    assert!(matches!(err(&grows), MagnetError::TooLong { len, .. } if len > MAX_URI_LEN));
    let many = ok + "&tr=c";
    assert_eq!(
        err(&many),
        MagnetError::TooManyParameters { max: MAX_LIST_PARAMS }
    );
}

#[test]
fn every_error() {
    use MagnetError::*;
    let cases: Vec<(String, MagnetError)> = vec![
        ("http://x/?xt=urn:btih:".into(), NotMagnet),
        ("magnet:xt=urn:btih:".into(), NotMagnet),
        ("magnét:?".into(), NotMagnet),
        ("magnet:?dn=x&xt=urn:ed2k:abc".into(), NoInfoHash),
        ("magnet:?".into(), NoInfoHash),
        (
            with_v1("&dn=a%2"),
            InvalidPercent {
                param: "dn",
                position: 1,
            },
        ),
        (
            with_v1("&tr=%zz"),
            InvalidPercent {
                param: "tr",
                position: 0,
            },
        ),
        (with_v1("&dn=%FF%FE"), NotUtf8 { param: "dn" }),
        ("magnet:?xt=urn:btih:abc".into(), BtihLength { len: 3 }),
        (
            format!("magnet:?xt=urn:btih:{}g", &HEX[1..]),
            InvalidHex {
                urn: "btih",
                position: 39,
                found: 'g',
            },
        ),
        (
            format!("magnet:?xt=urn:btih:é{}", &HEX[1..]),
            InvalidHex {
                urn: "btih",
                position: 0,
                found: 'é',
            },
        ),
        (
            format!("magnet:?xt=urn:btih:1{}", &B32[1..]),
            InvalidBase32 {
                position: 0,
                found: '1',
            },
        ),
        (
            format!("magnet:?xt=urn:btmh:1220{}x", &V2[1..]),
            InvalidHex {
                urn: "btmh",
                position: 67,
                found: 'x',
            },
        ),
        (
            format!("magnet:?xt=urn:btmh:1220{V2}0"),
            InvalidMultihash {
                reason: "odd number of hex digits",
            },
        ),
        (
            "magnet:?xt=urn:btmh:".into(),
            InvalidMultihash {
                reason: "missing or bad hash function code",
            },
        ),
        (
            "magnet:?xt=urn:btmh:12".into(),
            InvalidMultihash {
                reason: "missing or bad digest length",
            },
        ),
        (
            format!("magnet:?xt=urn:btmh:1b20{V2}"),
            UnsupportedMultihash { code: 0x1b },
        ),
        (
            format!("magnet:?xt=urn:btmh:b024{V2}"),
            UnsupportedMultihash { code: 0x1230 },
        ),
        (
            format!("magnet:?xt=urn:btmh:1214{}", &V2[..40]),
            MultihashLength {
                declared: 20,
                actual: 20,
            },
        ),
        (
            format!("magnet:?xt=urn:btmh:1220{}", &V2[..62]),
            MultihashLength {
                declared: 32,
                actual: 31,
            },
        ),
        (
            with_v1(&format!("&xt=urn:btih:{}", "0".repeat(40))),
            ConflictingInfoHash { urn: "btih" },
        ),
        (
            format!("magnet:?xt=urn:btmh:1220{V2}&xt=urn:btmh:1220{}", "0".repeat(64)),
            ConflictingInfoHash { urn: "btmh" },
        ),
        (with_v1("&xl=+5"), InvalidExactLength { value: "+5".into() }),
        (
            with_v1("&xl=18446744073709551616"),
            InvalidExactLength {
                value: "18446744073709551616".into(),
            },
        ),
        (
            with_v1("&x.pe=[::1]"),
            InvalidPeer {
                value: "[::1]".into(),
            },
        ),
        (
            with_v1("&x.pe=::1:80"),
            InvalidPeer {
                value: "::1:80".into(),
            },
        ),
        (
            with_v1("&x.pe=host:70000"),
            InvalidPeer {
                value: "host:70000".into(),
            },
        ),
        (with_v1("&x.pe=:80"), InvalidPeer { value: ":80".into() }),
        (
            with_v1("&x.pe=a%20b:80"),
            InvalidPeer {
                value: "a b:80".into(),
            },
        ),
        (with_v1("&so=6-4"), InvalidSelection { item: "6-4".into() }),
        (with_v1("&so=1,,2"), InvalidSelection { item: "".into() }),
        (with_v1("&so=1-"), InvalidSelection { item: "1-".into() }),
        (with_v1("&so=a"), InvalidSelection { item: "a".into() }),
    ];
    for (uri, want) in cases {
        let got = err(&uri);
        assert_eq!(got, want, "{uri}");
        let msg = got.to_string();
        assert!(!msg.starts_with(char::is_uppercase), "{msg}");
    }
}

#[test]
fn error_values_are_clipped() {
    let MagnetError::InvalidPeer { value } = err(&with_v1(&format!("&x.pe={}", "x".repeat(500)))) else {
        panic!("wrong error")
    };
    assert_eq!(value.len(), 64);
}

#[test]
fn ipv4_host_is_normalised_to_ip() {
    let m = Magnet::parse(&with_v1("&x.pe=1.2.3.4:080")).unwrap();
    assert_eq!(m.peers, [PeerAddr::Ip("1.2.3.4:80".parse().unwrap())]);
}

fn unique<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut out = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[ &=%+#?a-zA-Z0-9:/.~é日本]{0,24}"]
}

fn hashes() -> impl Strategy<Value = (Option<InfoHash>, Option<InfoHashV2>)> {
    let v1 = any::<[u8; 20]>().prop_map(InfoHash);
    let v2 = any::<[u8; 32]>().prop_map(InfoHashV2);
    prop_oneof![
        v1.clone().prop_map(|h| (Some(h), None)),
        v2.clone().prop_map(|h| (None, Some(h))),
        (v1, v2).prop_map(|(a, b)| (Some(a), Some(b))),
    ]
}

fn peer() -> impl Strategy<Value = PeerAddr> {
    prop_oneof![
        any::<SocketAddrV4>().prop_map(|a| PeerAddr::Ip(a.into())),
        (
            any::<Ipv6Addr>(),
            any::<u16>(),
            prop_oneof![Just(0u32), any::<u32>()]
        )
            .prop_map(|(ip, port, scope)| PeerAddr::Ip(SocketAddrV6::new(ip, port, 0, scope).into())),
        ("[a-z][a-z0-9-]{0,10}(\\.[a-z0-9_-]{1,10}){0,3}", any::<u16>())
            .prop_map(|(host, port)| PeerAddr::Host { host, port }),
    ]
}

fn selection() -> impl Strategy<Value = FileSelection> {
    prop_oneof![
        any::<usize>().prop_map(FileSelection::Index),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| FileSelection::Range(a.min(b), a.max(b))),
    ]
}

fn magnet() -> impl Strategy<Value = Magnet> {
    let lists = (
        prop::collection::vec(text(), 0..5),
        prop::collection::vec(text(), 0..5),
        prop::collection::vec(peer(), 0..5),
        prop::collection::vec(selection(), 0..5),
    );
    (
        hashes(),
        prop::option::of(text()),
        prop::option::of(any::<u64>()),
        lists,
    )
        .prop_map(
            |((v1, v2), display_name, exact_length, (trackers, web_seeds, peers, select_only))| Magnet {
                info_hash_v1: v1,
                info_hash_v2: v2,
                display_name,
                trackers: unique(trackers),
                web_seeds: unique(web_seeds),
                peers: unique(peers),
                exact_length,
                select_only,
            },
        )
}

proptest! {
    #[test]
    fn format_then_parse_is_identity(m in magnet()) {
        let uri = m.to_uri();
        prop_assert_eq!(Magnet::parse(&uri), Ok(m), "{}", uri);
    }

    #[test]
    fn never_panics_on_any_query(rest in any::<String>()) {
        if let Ok(m) = Magnet::parse(&format!("magnet:?{rest}")) {
            prop_assert_eq!(Magnet::parse(&m.to_uri()), Ok(m));
        }
    }

    #[test]
    fn never_panics_on_magnet_like_queries(
        rest in "(xt(\\.[0-9])?=urn:bt(ih|mh):[0-9a-zA-Z%]{0,70}|(dn|tr|ws|x\\.pe|xl|so)=[0-9a-f%:\\[\\].,+-]{0,12}|&){0,12}"
    ) {
        if let Ok(m) = Magnet::parse(&format!("magnet:?{rest}")) {
            prop_assert_eq!(Magnet::parse(&m.to_uri()), Ok(m));
        }
    }
}
