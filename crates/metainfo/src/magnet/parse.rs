//! Reading a magnet URI into a [`Magnet`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;

use super::error::clip;
use super::{FileSelection, MAX_LIST_PARAMS, MAX_URI_LEN, Magnet, MagnetError, PeerAddr, percent};
use ids::base32;
use ids::{InfoHash, InfoHashV2};

/// The parameters nexsuj reads; all others are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Param {
    Xt,
    Dn,
    Xl,
    Tr,
    Ws,
    Pe,
    So,
}

impl Param {
    /// The parameter a key names, ignoring an index suffix (`tr.1`, `xt.2`) that clients emit.
    fn of(key: &str) -> Option<Param> {
        let key = match key.rsplit_once('.') {
            Some((base, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => base,
            _ => key,
        };
        Some(match key {
            "xt" => Param::Xt,
            "dn" => Param::Dn,
            "xl" => Param::Xl,
            "tr" => Param::Tr,
            "ws" => Param::Ws,
            "x.pe" => Param::Pe,
            "so" => Param::So,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Param::Xt => "xt",
            Param::Dn => "dn",
            Param::Xl => "xl",
            Param::Tr => "tr",
            Param::Ws => "ws",
            Param::Pe => "x.pe",
            Param::So => "so",
        }
    }
}

pub(super) fn parse(uri: &str) -> Result<Magnet, MagnetError> {
    if uri.len() > MAX_URI_LEN {
        return Err(MagnetError::TooLong {
            len: uri.len(),
            max: MAX_URI_LEN,
        });
    }
    let query = strip_prefix_ci(uri, "magnet:?").ok_or(MagnetError::NotMagnet)?;
    let mut m = Magnet::default();
    let mut list_params = 0usize;
    for pair in query.split('&') {
        let Some((key, raw)) = pair.split_once('=') else {
            continue;
        };
        let Some(param) = Param::of(key) else { continue };
        if matches!(param, Param::Tr | Param::Ws | Param::Pe) {
            list_params += 1;
            if list_params > MAX_LIST_PARAMS {
                return Err(MagnetError::TooManyParameters { max: MAX_LIST_PARAMS });
            }
        }
        let value = decode(param, raw)?;
        apply(&mut m, param, value)?;
    }
    if m.info_hash_v1.is_none() && m.info_hash_v2.is_none() {
        return Err(MagnetError::NoInfoHash);
    }
    // Escaping can triple a value (`+` becomes `%20`); refusing what would not re-parse keeps
    // `parse(m.to_uri()) == m` true for everything parse accepts.
    let len = m.to_uri().len();
    if len > MAX_URI_LEN {
        return Err(MagnetError::TooLong {
            len,
            max: MAX_URI_LEN,
        });
    }
    Ok(m)
}

/// Percent-decodes a value into UTF-8 text; `+` is a space only in `dn`, because in URLs it is
/// a literal character.
fn decode(param: Param, raw: &str) -> Result<String, MagnetError> {
    let name = param.name();
    let bytes = percent::decode(raw, param == Param::Dn).map_err(|position| MagnetError::InvalidPercent {
        param: name,
        position,
    })?;
    String::from_utf8(bytes).map_err(|_| MagnetError::NotUtf8 { param: name })
}

fn apply(m: &mut Magnet, param: Param, value: String) -> Result<(), MagnetError> {
    match param {
        Param::Xt => exact_topic(m, &value)?,
        Param::Dn => {
            m.display_name.get_or_insert(value);
        }
        Param::Xl => {
            let xl = digits(&value).ok_or_else(|| MagnetError::InvalidExactLength { value: clip(&value) })?;
            m.exact_length.get_or_insert(xl);
        }
        Param::Tr => push_new(&mut m.trackers, value),
        Param::Ws => push_new(&mut m.web_seeds, value),
        Param::Pe => push_new(&mut m.peers, peer(&value)?),
        Param::So => selection(&value, &mut m.select_only)?,
    }
    Ok(())
}

/// An `xt` value: a v1 or v2 info-hash, or another URN, which is ignored.
fn exact_topic(m: &mut Magnet, value: &str) -> Result<(), MagnetError> {
    if let Some(rest) = strip_prefix_ci(value, "urn:btih:") {
        set_once(&mut m.info_hash_v1, btih(rest)?, "btih")
    } else if let Some(rest) = strip_prefix_ci(value, "urn:btmh:") {
        set_once(&mut m.info_hash_v2, btmh(rest)?, "btmh")
    } else {
        Ok(())
    }
}

fn set_once<T: PartialEq>(slot: &mut Option<T>, value: T, urn: &'static str) -> Result<(), MagnetError> {
    match slot {
        Some(old) if *old != value => Err(MagnetError::ConflictingInfoHash { urn }),
        Some(_) => Ok(()),
        None => {
            *slot = Some(value);
            Ok(())
        }
    }
}

/// A v1 info-hash: 40 hex digits, or 32 base32 characters as older clients wrote (BEP 9).
fn btih(s: &str) -> Result<InfoHash, MagnetError> {
    match s.chars().count() {
        40 => InfoHash::from_hex(s).ok_or_else(|| bad_hex("btih", s)),
        32 => {
            let bytes = base32::decode(s).map_err(|e| MagnetError::InvalidBase32 {
                position: e.position,
                found: e.found,
            })?;
            let hash = bytes
                .try_into()
                .map_err(|_| MagnetError::BtihLength { len: 32 })?;
            Ok(InfoHash(hash))
        }
        len => Err(MagnetError::BtihLength { len }),
    }
}

/// A v2 info-hash: a hex multihash that must be sha2-256 (code 0x12) of 32 bytes (BEP 52).
fn btmh(s: &str) -> Result<InfoHashV2, MagnetError> {
    let mut nibbles = Vec::with_capacity(s.len());
    for c in s.chars() {
        let digit = u8::try_from(c).ok().and_then(ids::hex::digit);
        nibbles.push(digit.ok_or_else(|| bad_hex("btmh", s))?);
    }
    if nibbles.len() % 2 != 0 {
        return Err(MagnetError::InvalidMultihash {
            reason: "odd number of hex digits",
        });
    }
    let bytes: Vec<u8> = nibbles.chunks_exact(2).map(|p| (p[0] << 4) | p[1]).collect();
    let (code, rest) = varint(&bytes).ok_or(MagnetError::InvalidMultihash {
        reason: "missing or bad hash function code",
    })?;
    if code != 0x12 {
        return Err(MagnetError::UnsupportedMultihash { code });
    }
    let (declared, digest) = varint(rest).ok_or(MagnetError::InvalidMultihash {
        reason: "missing or bad digest length",
    })?;
    let hash: [u8; 32] = match digest.try_into() {
        Ok(hash) if declared == 32 => hash,
        _ => {
            return Err(MagnetError::MultihashLength {
                declared,
                actual: digest.len(),
            });
        }
    };
    Ok(InfoHashV2(hash))
}

/// The error for the first character of `s` that is not a hex digit.
fn bad_hex(urn: &'static str, s: &str) -> MagnetError {
    match s.chars().enumerate().find(|(_, c)| !c.is_ascii_hexdigit()) {
        Some((position, found)) => MagnetError::InvalidHex { urn, position, found },
        None => MagnetError::BtihLength {
            len: s.chars().count(),
        },
    }
}

/// An unsigned LEB128 varint as multiformats use it (at most 9 bytes), and the bytes after it.
fn varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(9) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, bytes.get(i + 1..)?));
        }
    }
    None
}

/// An `x.pe` address: `ipv4:port`, `[ipv6]:port` or `host:port` (BEP 9).
fn peer(s: &str) -> Result<PeerAddr, MagnetError> {
    if let Ok(addr) = SocketAddr::from_str(s) {
        return Ok(PeerAddr::Ip(addr));
    }
    let invalid = || MagnetError::InvalidPeer { value: clip(s) };
    let (host, port) = s.rsplit_once(':').ok_or_else(invalid)?;
    let port = digits(port).ok_or_else(invalid)?;
    // A dotted quad with an unusual port spelling (`080`); a bare IPv6 host is ambiguous and refused.
    if let Ok(ip) = Ipv4Addr::from_str(host) {
        return Ok(PeerAddr::Ip(SocketAddr::new(IpAddr::V4(ip), port)));
    }
    let name_ok = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if host.is_empty() || host.len() > 253 || !name_ok {
        return Err(invalid());
    }
    Ok(PeerAddr::Host {
        host: host.to_owned(),
        port,
    })
}

/// A BEP 53 `so` list, `0,2,4-6`, appended to `out`. An empty value selects nothing extra.
fn selection(value: &str, out: &mut Vec<FileSelection>) -> Result<(), MagnetError> {
    if value.is_empty() {
        return Ok(());
    }
    for item in value.split(',') {
        let parsed = match item.split_once('-') {
            None => digits(item).map(FileSelection::Index),
            Some((a, b)) => match (digits(a), digits(b)) {
                (Some(a), Some(b)) if a <= b => Some(FileSelection::Range(a, b)),
                _ => None,
            },
        };
        out.push(parsed.ok_or_else(|| MagnetError::InvalidSelection { item: clip(item) })?);
    }
    Ok(())
}

/// A number of ASCII digits only (`FromStr` alone would also take a leading `+`).
fn digits<T: FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn push_new<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}
