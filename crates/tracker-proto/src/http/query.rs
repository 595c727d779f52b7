//! The announce query string (BEP 3, BEP 7, BEP 27 passkeys): parsing on the tracker side,
//! writing on the client side.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use super::HttpAnnounce;
use super::error::HttpError;
use super::percent::{self, BadEscape, EncodeWriter, Plus};
use crate::common::{AnnounceEvent, AnnounceRequest, Transfer};
use ids::{InfoHash, PeerId};

/// The longest query string [`parse_announce`] accepts, in bytes (8 KiB).
pub const MAX_QUERY_LEN: usize = 8 * 1024;
/// The most `&`-separated parameters [`parse_announce`] accepts.
pub const MAX_PARAMS: usize = 64;
/// The longest `key`, `trackerid` and `auth_key` accepted, in bytes after percent-decoding.
pub const MAX_TOKEN_LEN: usize = 128;

/// Calls `f(name, raw_value)` for each non-empty `&`-separated parameter, refusing more than
/// `max_params` of them. A parameter without `=` has an empty value. Names are compared
/// as sent: clients never percent-encode them.
pub(super) fn for_each_param<'q>(
    query: &'q [u8],
    max_params: usize,
    mut f: impl FnMut(&'q [u8], &'q [u8]) -> Result<(), HttpError>,
) -> Result<(), HttpError> {
    let mut count = 0;
    for param in query.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        count += 1;
        if count > max_params {
            return Err(HttpError::TooManyParams { limit: max_params });
        }
        let (name, value) = match param.iter().position(|&b| b == b'=') {
            Some(i) => (&param[..i], &param[i + 1..]),
            None => (param, &b""[..]),
        };
        f(name, value)?;
    }
    Ok(())
}

fn bad_escape(name: &'static str) -> impl Fn(BadEscape) -> HttpError {
    move |_: BadEscape| HttpError::InvalidPercentEncoding { name }
}

/// Decodes a binary parameter that must be exactly 20 bytes (`info_hash`, `peer_id`) with
/// no allocation.
pub(super) fn fixed20(raw: &[u8], name: &'static str) -> Result<[u8; 20], HttpError> {
    let mut buf = [0u8; 20];
    let got = percent::decode_into(raw, Plus::Literal, &mut buf).map_err(bad_escape(name))?;
    if got != buf.len() {
        return Err(HttpError::InvalidLength {
            name,
            expected: buf.len(),
            got,
        });
    }
    Ok(buf)
}

fn number(raw: &[u8], name: &'static str) -> Result<u64, HttpError> {
    let invalid = || HttpError::InvalidNumber { name };
    // A bad escape is reported as such even after a non-digit.
    percent::decode_into(raw, Plus::Space, &mut []).map_err(bad_escape(name))?;
    let mut n: u64 = 0;
    let mut digits = 0usize;
    for b in percent::Decoder::new(raw, Plus::Space) {
        let b = b.map_err(bad_escape(name))?;
        if !b.is_ascii_digit() {
            return Err(invalid());
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
            .ok_or_else(invalid)?;
        digits += 1;
    }
    if digits == 0 {
        return Err(invalid());
    }
    Ok(n)
}

fn port(raw: &[u8]) -> Result<u16, HttpError> {
    match u16::try_from(number(raw, "port")?) {
        Ok(0) | Err(_) => Err(HttpError::InvalidPort),
        Ok(p) => Ok(p),
    }
}

fn event(raw: &[u8]) -> Result<AnnounceEvent, HttpError> {
    let mut buf = [0u8; 16];
    let n = percent::decode_into(raw, Plus::Space, &mut buf).map_err(bad_escape("event"))?;
    match buf.get(..n) {
        Some(b"") => Ok(AnnounceEvent::None),
        Some(b"started") => Ok(AnnounceEvent::Started),
        Some(b"completed") => Ok(AnnounceEvent::Completed),
        // `stoped` is how the seed protocol spells it.
        Some(b"stopped" | b"stoped") => Ok(AnnounceEvent::Stopped),
        // BEP 21: a partial seed's `paused` is a regular announce for the swarm's counts.
        Some(b"paused") => Ok(AnnounceEvent::None),
        _ => Err(HttpError::InvalidEvent),
    }
}

fn flag(raw: &[u8], name: &'static str) -> Result<bool, HttpError> {
    let mut buf = [0u8; 1];
    let n = percent::decode_into(raw, Plus::Space, &mut buf).map_err(bad_escape(name))?;
    match (n, buf[0]) {
        (1, b'0') => Ok(false),
        (1, b'1') => Ok(true),
        _ => Err(HttpError::InvalidFlag { name }),
    }
}

/// Reads an address literal in any of the forms clients and trackers send: `1.2.3.4`,
/// `::1`, `[::1]`, `1.2.3.4:6881`, `[::1]:6881` (BEP 7). Anything else (a DNS name, which
/// BEP 3 allows, or garbage) is `None`: we never resolve names.
pub(super) fn ip_literal(text: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(text).ok()?;
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = text.parse::<SocketAddr>() {
        return Some(sa.ip());
    }
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    inner.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
}

fn address(raw: &[u8]) -> Option<IpAddr> {
    let mut buf = [0u8; 64];
    let n = percent::decode_into(raw, Plus::Space, &mut buf).ok()?;
    ip_literal(buf.get(..n)?)
}

/// Decodes a variable-length parameter of at most [`MAX_TOKEN_LEN`] bytes; empty is `None`.
fn token(raw: &[u8], name: &'static str, plus: Plus) -> Result<Option<Vec<u8>>, HttpError> {
    let len = percent::decode_into(raw, plus, &mut []).map_err(bad_escape(name))?;
    if len > MAX_TOKEN_LEN {
        return Err(HttpError::TooLong {
            name,
            len,
            limit: MAX_TOKEN_LEN,
        });
    }
    if len == 0 {
        return Ok(None);
    }
    percent::decode_vec(raw, plus).map(Some).map_err(bad_escape(name))
}

fn auth_key(raw: &[u8], name: &'static str) -> Result<Option<String>, HttpError> {
    let Some(bytes) = token(raw, name, Plus::Space)? else {
        return Ok(None);
    };
    if !bytes.iter().all(|b| (0x20..=0x7e).contains(b)) {
        return Err(HttpError::InvalidAuthKey { name });
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| HttpError::InvalidAuthKey { name })
}

/// The parameters that are required or may appear only once.
#[derive(Default)]
struct Seen {
    info_hash: bool,
    peer_id: bool,
    port: bool,
    left: bool,
}

fn once(seen: &mut bool, name: &'static str) -> Result<(), HttpError> {
    if std::mem::replace(seen, true) {
        return Err(HttpError::DuplicateParam { name });
    }
    Ok(())
}

fn apply(ann: &mut HttpAnnounce, seen: &mut Seen, name: &[u8], raw: &[u8]) -> Result<(), HttpError> {
    let req = &mut ann.request;
    match name {
        b"info_hash" => {
            once(&mut seen.info_hash, "info_hash")?;
            req.info_hash = InfoHash(fixed20(raw, "info_hash")?);
        }
        b"peer_id" => {
            once(&mut seen.peer_id, "peer_id")?;
            req.peer_id = PeerId(fixed20(raw, "peer_id")?);
        }
        b"port" => {
            once(&mut seen.port, "port")?;
            req.port = port(raw)?;
        }
        b"uploaded" => req.transfer.uploaded = number(raw, "uploaded")?,
        b"downloaded" => req.transfer.downloaded = number(raw, "downloaded")?,
        b"left" => {
            seen.left = true;
            req.transfer.left = number(raw, "left")?;
        }
        b"event" => req.event = event(raw)?,
        b"numwant" => {
            let n = u32::try_from(number(raw, "numwant")?);
            req.numwant = Some(n.map_err(|_| HttpError::InvalidNumber { name: "numwant" })?);
        }
        b"compact" => ann.compact = flag(raw, "compact")?,
        b"no_peer_id" => ann.no_peer_id = flag(raw, "no_peer_id")?,
        b"key" => req.key = token(raw, "key", Plus::Literal)?,
        b"trackerid" => ann.tracker_id = token(raw, "trackerid", Plus::Literal)?,
        b"auth_key" => ann.auth_key = auth_key(raw, "auth_key")?,
        b"passkey" => ann.auth_key = auth_key(raw, "passkey")?,
        b"ip" => req.ip = address(raw).or(req.ip),
        b"ipv4" => {
            if let Some(IpAddr::V4(a)) = address(raw) {
                ann.ipv4 = Some(a);
            }
        }
        b"ipv6" => {
            if let Some(IpAddr::V6(a)) = address(raw) {
                ann.ipv6 = Some(a);
            }
        }
        _ => {}
    }
    Ok(())
}

/// Parses an announce query string: the bytes after `?` in `GET /announce?…` (BEP 3).
///
/// `info_hash` and `peer_id` are decoded straight into their 20-byte arrays; the only
/// allocations are the `key`, `trackerid` and `auth_key` values returned. Required:
/// `info_hash`, `peer_id`, `port` (1–65535) and `left`; `uploaded`/`downloaded` default to 0,
/// `compact` to 1 (BEP 23). `event=stoped` (the seed protocol's spelling) means `stopped`;
/// `event=paused` (BEP 21) is a regular announce. `ip`, `ipv4` and `ipv6` (BEP 7) that are
/// not address literals are ignored. `passkey` is an alias of `auth_key` (BEP 27 private
/// trackers). Parameters other than `info_hash`, `peer_id` and `port` may repeat (the last
/// wins); unknown ones are ignored.
///
/// # Errors
///
/// An [`HttpError`] whose message can be sent as the `failure reason`.
pub fn parse_announce(query: &[u8]) -> Result<HttpAnnounce, HttpError> {
    if query.len() > MAX_QUERY_LEN {
        return Err(HttpError::QueryTooLong {
            len: query.len(),
            limit: MAX_QUERY_LEN,
        });
    }
    let mut ann = HttpAnnounce {
        request: AnnounceRequest {
            info_hash: InfoHash([0; 20]),
            peer_id: PeerId([0; 20]),
            port: 0,
            transfer: Transfer::default(),
            event: AnnounceEvent::None,
            numwant: None,
            ip: None,
            key: None,
        },
        compact: true,
        no_peer_id: false,
        auth_key: None,
        tracker_id: None,
        ipv4: None,
        ipv6: None,
    };
    let mut seen = Seen::default();
    for_each_param(query, MAX_PARAMS, |name, raw| {
        apply(&mut ann, &mut seen, name, raw)
    })?;
    let missing = [
        (seen.info_hash, "info_hash"),
        (seen.peer_id, "peer_id"),
        (seen.port, "port"),
        (seen.left, "left"),
    ];
    match missing.iter().find(|(present, _)| !present) {
        Some(&(_, name)) => Err(HttpError::MissingParam { name }),
        None => Ok(ann),
    }
}

fn event_name(event: AnnounceEvent) -> Option<&'static str> {
    match event {
        AnnounceEvent::None => None,
        AnnounceEvent::Started => Some("started"),
        AnnounceEvent::Completed => Some("completed"),
        AnnounceEvent::Stopped => Some("stopped"),
    }
}

/// Appends the announce query string for `req` to `out` (client side, BEP 3).
///
/// If `out` is non-empty and does not end in `?` or `&`, a `&` is written first, so `out`
/// can already hold an announce URL with a query (a NexusPHP `?passkey=…`). Binary values are
/// percent-encoded byte by byte, everything outside RFC 3986 unreserved as `%XX`, the way
/// libtorrent does. `compact` is always written; `event` only when not
/// [`AnnounceEvent::None`]; `no_peer_id`, `numwant`, `ip`, `ipv4`, `ipv6`, `key`, `trackerid`
/// and `auth_key` only when set (empty `key`/`trackerid`/`auth_key` are left out).
/// [`parse_announce`] reads back exactly what was written.
pub fn write_announce_query(out: &mut String, req: &HttpAnnounce) {
    if !out.is_empty() && !out.ends_with(['?', '&']) {
        out.push('&');
    }
    let r = &req.request;
    out.push_str("info_hash=");
    r.info_hash.percent_encode_into(out);
    out.push_str("&peer_id=");
    r.peer_id.percent_encode_into(out);
    let t = &r.transfer;
    // Writing into a String cannot fail.
    let _ = write!(
        out,
        "&port={}&uploaded={}&downloaded={}&left={}&compact={}",
        r.port,
        t.uploaded,
        t.downloaded,
        t.left,
        u8::from(req.compact)
    );
    if let Some(name) = event_name(r.event) {
        out.push_str("&event=");
        out.push_str(name);
    }
    if req.no_peer_id {
        out.push_str("&no_peer_id=1");
    }
    if let Some(n) = r.numwant {
        let _ = write!(out, "&numwant={n}");
    }
    let ips = [
        ("&ip=", r.ip),
        ("&ipv4=", req.ipv4.map(IpAddr::V4)),
        ("&ipv6=", req.ipv6.map(IpAddr::V6)),
    ];
    for (prefix, ip) in ips {
        if let Some(ip) = ip {
            out.push_str(prefix);
            let _ = write!(EncodeWriter(out), "{ip}");
        }
    }
    let tokens = [
        ("&key=", r.key.as_deref()),
        ("&trackerid=", req.tracker_id.as_deref()),
        ("&auth_key=", req.auth_key.as_deref().map(str::as_bytes)),
    ];
    for (prefix, value) in tokens {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            out.push_str(prefix);
            ids::percent::encode_into(out, v);
        }
    }
}
