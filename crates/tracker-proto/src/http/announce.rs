//! Announce replies (BEP 3 dictionary peers, BEP 23 compact peers, BEP 7 `peers6`, BEP 24
//! `external ip`): writing on the tracker side, parsing on the client side.

use std::fmt::{self, Write as _};
use std::net::{IpAddr, SocketAddr};

use bencode::{Dict, Value, write_bytes, write_int};

use super::AnnounceReply;
use super::error::HttpError;
use super::query::ip_literal;
use crate::common::{AnnounceResponse, ResponsePeer};
use ids::PeerId;

/// The most peers [`parse_announce_reply`] accepts in one reply (`peers` and `peers6`
/// together); no tracker sends more than a few hundred.
pub const MAX_REPLY_PEERS: usize = 10_000;

/// Appends a bencode string header `<len>:`.
fn write_len(out: &mut Vec<u8>, mut n: usize) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
    out.push(b':');
}

fn write_key_int(out: &mut Vec<u8>, key: &[u8], n: u32) {
    write_bytes(out, key);
    write_int(out, i64::from(n));
}

/// An address formatted on the stack (the longest, an IPv4-mapped IPv6 address, is 45 bytes).
struct StackStr {
    buf: [u8; 64],
    len: usize,
}

impl fmt::Write for StackStr {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let slot = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

fn write_compact_peers(out: &mut Vec<u8>, peers: &[ResponsePeer]) {
    let v4 = peers.iter().filter(|p| p.addr.is_ipv4()).count();
    write_bytes(out, b"peers");
    write_len(out, v4 * 6);
    for p in peers {
        if let SocketAddr::V4(a) = p.addr {
            out.extend_from_slice(&a.ip().octets());
            out.extend_from_slice(&a.port().to_be_bytes());
        }
    }
    let v6 = peers.len() - v4;
    if v6 > 0 {
        write_bytes(out, b"peers6");
        write_len(out, v6 * 18);
        for p in peers {
            if let SocketAddr::V6(a) = p.addr {
                out.extend_from_slice(&a.ip().octets());
                out.extend_from_slice(&a.port().to_be_bytes());
            }
        }
    }
}

fn write_dict_peers(out: &mut Vec<u8>, peers: &[ResponsePeer], no_peer_id: bool) {
    write_bytes(out, b"peers");
    out.push(b'l');
    for p in peers {
        let mut ip = StackStr { buf: [0; 64], len: 0 };
        // Cannot fail: every address fits in 64 bytes.
        if write!(ip, "{}", p.addr.ip()).is_err() {
            continue;
        }
        out.extend_from_slice(b"d2:ip");
        write_bytes(out, &ip.buf[..ip.len]);
        if let Some(id) = p.peer_id.filter(|_| !no_peer_id) {
            write_bytes(out, b"peer id");
            write_bytes(out, &id.0);
        }
        write_bytes(out, b"port");
        write_int(out, i64::from(p.addr.port()));
        out.push(b'e');
    }
    out.push(b'e');
}

/// Appends a successful announce reply to `out` (tracker side).
///
/// Keys are written in bencode's sorted order: `complete`, `external ip` (BEP 24: 4 or 16 raw
/// bytes), `incomplete`, `interval`, `min interval`, `peers`, `peers6`, `tracker id`,
/// `warning message`; optional ones only when set. With `compact` (BEP 23, BEP 7) `peers`
/// holds 6-byte IPv4 entries (always present, maybe empty) and `peers6` 18-byte IPv6
/// entries (only when there are any); peer ids are not sent. Without it (BEP 3) `peers` is a
/// list of `{ip, peer id, port}` dictionaries for both families, `peer id` left out when
/// `no_peer_id` is set or the id is unknown. The only allocation is the growth of `out`.
pub fn write_announce(out: &mut Vec<u8>, resp: &AnnounceResponse, compact: bool, no_peer_id: bool) {
    out.reserve(96 + resp.peers.len() * if compact { 18 } else { 80 });
    out.push(b'd');
    write_key_int(out, b"complete", resp.complete);
    match resp.external_ip {
        Some(IpAddr::V4(a)) => {
            write_bytes(out, b"external ip");
            write_bytes(out, &a.octets());
        }
        Some(IpAddr::V6(a)) => {
            write_bytes(out, b"external ip");
            write_bytes(out, &a.octets());
        }
        None => {}
    }
    write_key_int(out, b"incomplete", resp.incomplete);
    write_key_int(out, b"interval", resp.interval);
    if let Some(m) = resp.min_interval {
        write_key_int(out, b"min interval", m);
    }
    if compact {
        write_compact_peers(out, &resp.peers);
    } else {
        write_dict_peers(out, &resp.peers, no_peer_id);
    }
    if let Some(id) = &resp.tracker_id {
        write_bytes(out, b"tracker id");
        write_bytes(out, id);
    }
    if let Some(w) = &resp.warning {
        write_bytes(out, b"warning message");
        write_bytes(out, w.as_bytes());
    }
    out.push(b'e');
}

/// Appends `d14:failure reason<len>:<reason>e`, the BEP 3 error reply (tracker side). Pass
/// an [`HttpError`]'s `to_string()` for a refused request.
pub fn write_failure(out: &mut Vec<u8>, reason: &str) {
    out.extend_from_slice(b"d14:failure reason");
    write_bytes(out, reason.as_bytes());
    out.push(b'e');
}

pub(super) fn invalid(field: &'static str, problem: &'static str) -> HttpError {
    HttpError::InvalidReply { field, problem }
}

/// Reads an optional non-negative integer that must fit in a `u32`.
pub(super) fn u32_field(dict: &Dict<'_>, field: &'static str) -> Result<Option<u32>, HttpError> {
    let Some(v) = dict.get(field.as_bytes()) else {
        return Ok(None);
    };
    let n = v.as_int().ok_or_else(|| invalid(field, "is not an integer"))?;
    u32::try_from(n)
        .map(Some)
        .map_err(|_| invalid(field, "is out of range"))
}

/// The top-level dictionary of a reply and its `failure reason`, if any.
pub(super) fn reply_root<'v, 'a>(root: &'v Value<'a>) -> Result<(&'v Dict<'a>, Option<String>), HttpError> {
    let dict = root
        .as_dict()
        .ok_or_else(|| invalid("reply", "is not a dictionary"))?;
    let failure = match dict.get(b"failure reason") {
        Some(v) => {
            let r = v
                .as_bytes()
                .ok_or_else(|| invalid("failure reason", "is not a string"))?;
            Some(String::from_utf8_lossy(r).into_owned())
        }
        None => None,
    };
    Ok((dict, failure))
}

/// How many entries a `peers`/`peers6` value holds (`stride` = bytes per compact entry).
fn peer_count(v: &Value<'_>, field: &'static str, stride: usize) -> Result<usize, HttpError> {
    if let Some(b) = v.as_bytes() {
        if b.len() % stride != 0 {
            return Err(invalid(field, "has a length that is not a whole number of peers"));
        }
        return Ok(b.len() / stride);
    }
    v.as_list()
        .map(<[_]>::len)
        .ok_or_else(|| invalid(field, "is neither a string nor a list"))
}

/// Reads one dictionary peer (BEP 3). A name instead of an address literal is skipped
/// (`Ok(None)`): we never resolve names. A `peer id` that is not 20 bytes is dropped.
fn dict_peer(v: &Value<'_>, field: &'static str) -> Result<Option<ResponsePeer>, HttpError> {
    let d = v
        .as_dict()
        .ok_or_else(|| invalid(field, "has an entry that is not a dictionary"))?;
    let ip = d
        .get(b"ip")
        .and_then(Value::as_bytes)
        .ok_or_else(|| invalid(field, "has an entry without an ip"))?;
    let port = d
        .get(b"port")
        .and_then(Value::as_int)
        .and_then(|p| u16::try_from(p).ok())
        .ok_or_else(|| invalid(field, "has an entry without a valid port"))?;
    let peer_id = d
        .get(b"peer id")
        .and_then(Value::as_bytes)
        .and_then(|b| <[u8; 20]>::try_from(b).ok())
        .map(PeerId);
    Ok(ip_literal(ip).map(|ip| ResponsePeer {
        addr: SocketAddr::new(ip, port),
        peer_id,
    }))
}

fn read_peers(
    v: &Value<'_>,
    field: &'static str,
    stride: usize,
    out: &mut Vec<ResponsePeer>,
) -> Result<(), HttpError> {
    if let Some(b) = v.as_bytes() {
        let peers = b.chunks_exact(stride).filter_map(ids::compact::decode);
        out.extend(peers.map(|addr| ResponsePeer { addr, peer_id: None }));
        return Ok(());
    }
    for entry in v.as_list().unwrap_or_default() {
        out.extend(dict_peer(entry, field)?);
    }
    Ok(())
}

/// Parses a tracker's announce reply (client side): `failure reason`, or `interval`
/// (required), `min interval`, `complete`, `incomplete`, `peers` (BEP 23 compact or BEP 3
/// dictionaries), `peers6` (BEP 7), `external ip` (BEP 24; ignored unless 4 or 16 bytes),
/// `warning message` and `tracker id`.
///
/// Keys may come unsorted, as some trackers write them. Compact IPv4 peers come first, then
/// compact IPv6 peers; dictionary peers keep their order, and those whose `ip` is a DNS name
/// are skipped.
///
/// # Errors
///
/// Invalid bencode, a reply of the wrong shape, or more than [`MAX_REPLY_PEERS`] peers.
pub fn parse_announce_reply(bytes: &[u8]) -> Result<AnnounceReply, HttpError> {
    let root = bencode::DecodeOptions::lenient().decode(bytes)?;
    let (dict, failure) = reply_root(&root)?;
    if let Some(reason) = failure {
        return Ok(AnnounceReply::Failure(reason));
    }
    let interval = u32_field(dict, "interval")?.ok_or_else(|| invalid("interval", "is missing"))?;
    let lists = [("peers", 6), ("peers6", 18)];
    let mut count = 0;
    for (field, stride) in lists {
        if let Some(v) = dict.get(field.as_bytes()) {
            count += peer_count(v, field, stride)?;
        }
    }
    if count > MAX_REPLY_PEERS {
        return Err(HttpError::TooManyPeers {
            limit: MAX_REPLY_PEERS,
        });
    }
    let mut peers = Vec::with_capacity(count);
    for (field, stride) in lists {
        if let Some(v) = dict.get(field.as_bytes()) {
            read_peers(v, field, stride, &mut peers)?;
        }
    }
    let bytes_of = |key: &[u8]| dict.get(key).and_then(Value::as_bytes);
    let external_ip = bytes_of(b"external ip").and_then(|b| match b.len() {
        4 => <[u8; 4]>::try_from(b).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(b).ok().map(IpAddr::from),
        _ => None,
    });
    Ok(AnnounceReply::Ok(AnnounceResponse {
        interval,
        min_interval: u32_field(dict, "min interval")?,
        complete: u32_field(dict, "complete")?.unwrap_or(0),
        incomplete: u32_field(dict, "incomplete")?.unwrap_or(0),
        peers,
        external_ip,
        warning: bytes_of(b"warning message").map(|w| String::from_utf8_lossy(w).into_owned()),
        tracker_id: bytes_of(b"tracker id").map(<[u8]>::to_vec),
    }))
}
