//! Announces and scrapes over HTTP/1.1 and HTTPS: a `GET`, the reply read by its own framing
//! (sized or chunked; a connection that allows it is kept for the next request), redirects
//! followed to the same scheme only.

use std::time::Duration;

use ids::InfoHash;
use tracker_proto::common::{AnnounceRequest, AnnounceResponse, ScrapeStats};
use tracker_proto::http::{self as proto, AnnounceReply, HttpAnnounce};

use super::conn::{HttpClient, Stream};
use super::{MAX_REPLY, TrackerUrl, Via};
use crate::error::{ReplyError, TrackerError};

const TIMEOUT: Duration = Duration::from_secs(20);
/// Redirects followed for one request.
const MAX_REDIRECTS: usize = 3;

pub(super) async fn announce(
    url: &TrackerUrl,
    req: &AnnounceRequest,
    via: &Via,
) -> Result<AnnounceResponse, TrackerError> {
    let TrackerUrl::Http { target, .. } = url else {
        return Err(TrackerError::BadUrl("(not an http url)".into()));
    };
    let body = get(via, url, &announce_target(target, req)).await?;
    match proto::parse_announce_reply(root_value(&body)).map_err(ReplyError::Http)? {
        AnnounceReply::Ok(resp) => Ok(resp),
        AnnounceReply::Failure(reason) => Err(TrackerError::Refused(reason)),
    }
}

/// The request target of an announce: the URL's path and query, then ours.
fn announce_target(target: &str, req: &AnnounceRequest) -> String {
    let mut target = target.to_owned();
    if !target.contains('?') {
        target.push('?');
    }
    let ann = HttpAnnounce {
        request: req.clone(),
        compact: true,
        no_peer_id: true,
        auth_key: None,
        tracker_id: None,
        ipv4: None,
        ipv6: None,
    };
    proto::write_announce_query(&mut target, &ann);
    target
}

pub(super) async fn scrape(
    url: &TrackerUrl,
    info_hash: InfoHash,
    via: &Via,
) -> Result<ScrapeStats, TrackerError> {
    let TrackerUrl::Http { target, .. } = url else {
        return Err(TrackerError::BadUrl("(not an http url)".into()));
    };
    // BEP 48: replace the last `announce` of the path with `scrape`.
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let Some(at) = path.rfind("/announce") else {
        return Err(TrackerError::NoScrape);
    };
    let mut t = format!("{}/scrape{}?", &path[..at], &path[at + 9..]);
    if !query.is_empty() {
        t.push_str(query);
        t.push('&');
    }
    t.push_str("info_hash=");
    for b in info_hash.0 {
        t.push_str(&format!("%{b:02X}"));
    }
    let body = get(via, url, &t).await?;
    let files = proto::parse_scrape_reply(root_value(&body)).map_err(ReplyError::Http)?;
    files
        .into_iter()
        .find(|(h, _)| *h == info_hash)
        .map(|(_, s)| s)
        .ok_or(TrackerError::Invalid(ReplyError::NotInScrape))
}

use super::conn::Key;

/// What a complete reply asks of us.
enum Reply {
    Body(Vec<u8>),
    Redirect(String),
}

/// `GET target` from the tracker of `url`, following redirects.
async fn get(via: &Via, url: &TrackerUrl, target: &str) -> Result<Vec<u8>, TrackerError> {
    let TrackerUrl::Http { tls, host, port, .. } = url else {
        return Err(TrackerError::BadUrl("(not an http url)".into()));
    };
    let mut key: Key = (*tls, host.clone(), *port, via.bind);
    let mut target = target.to_owned();
    for _ in 0..=MAX_REDIRECTS {
        let reply = tokio::time::timeout(TIMEOUT, request(&via.http, &key, &target))
            .await
            .map_err(|_| TrackerError::Timeout)??;
        match reply {
            Reply::Body(body) => return Ok(body),
            Reply::Redirect(location) => (key, target) = redirect(&key, &location)?,
        }
    }
    Err(TrackerError::TooManyRedirects)
}

/// Where a `Location` sends us: an absolute URL of the same scheme, or a path on the same
/// tracker. A redirect from HTTPS to HTTP would send the passkey in the clear.
fn redirect(from: &Key, location: &str) -> Result<(Key, String), TrackerError> {
    if location.starts_with('/') {
        return Ok((from.clone(), location.to_owned()));
    }
    match TrackerUrl::parse(location) {
        Ok(TrackerUrl::Http {
            tls,
            host,
            port,
            target,
        }) if tls == from.0 => Ok(((tls, host, port, from.3), target)),
        _ => Err(TrackerError::BadRedirect(super::url::redact(location))),
    }
}

/// One request on a kept connection if there is one (a fresh one if the tracker closed it
/// meanwhile), else on a new one.
async fn request(client: &HttpClient, key: &Key, target: &str) -> Result<Reply, TrackerError> {
    if let Some(kept) = client.take(key)
        && let Ok(reply) = exchange(client, key, kept, target, true).await
    {
        return Ok(reply);
    }
    let fresh = client.connect(key).await?;
    exchange(client, key, fresh, target, false).await
}

/// Sends the request and reads the reply; the connection is kept when the reply allows it.
/// On a `kept` connection, a failure before the first byte of the reply means it was stale.
async fn exchange(
    client: &HttpClient,
    key: &Key,
    mut stream: Stream,
    target: &str,
    kept: bool,
) -> Result<Reply, TrackerError> {
    let (_, host, port, _) = key;
    let host_header = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let req = format!(
        "GET {target} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: nexsuj/{}\r\nAccept-Encoding: identity\r\nConnection: keep-alive\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    stream
        .write_all(req.as_bytes())
        .await
        .map_err(TrackerError::Network)?;
    // Read until the response is complete by its own framing: trackers that keep the
    // connection alive never send the end of the stream.
    let mut raw = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let resp = loop {
        let n = stream.read(&mut chunk).await.map_err(TrackerError::Network)?;
        if n == 0 && raw.is_empty() && kept {
            return Err(TrackerError::Network(std::io::ErrorKind::ConnectionReset.into()));
        }
        raw.extend_from_slice(&chunk[..n]);
        if raw.len() > MAX_REPLY {
            return Err(ReplyError::TooLarge.into());
        }
        if let Some(resp) = parse_response(&raw, n == 0)? {
            break resp;
        }
    };
    // Bytes past the response would be read as the start of the next one: not reused then.
    if resp.reusable && raw.len() == resp.len {
        client.keep(key.clone(), stream);
    }
    interpret(resp)
}

/// The reply a complete response makes.
fn interpret(resp: Response) -> Result<Reply, TrackerError> {
    match (resp.code, resp.location) {
        (301 | 302 | 303 | 307 | 308, Some(location)) => Ok(Reply::Redirect(location)),
        (200, _) => Ok(Reply::Body(resp.body)),
        // Trackers answer failures with a bencoded `failure reason` under any status.
        _ if resp.body.first() == Some(&b'd') => Ok(Reply::Body(resp.body)),
        (code, _) => Err(TrackerError::HttpStatus(code)),
    }
}

/// A complete HTTP/1.1 response.
#[derive(Debug)]
struct Response {
    code: u16,
    body: Vec<u8>,
    location: Option<String>,
    /// The connection may carry another request (HTTP/1.1, framed, no `Connection: close`).
    reusable: bool,
    /// Bytes of the response in what was read.
    len: usize,
}

/// The HTTP/1.1 response in `raw` (chunked, sized, or up to the end of the stream), once all
/// of it is there; `None` while more is to come. `eof`: the stream has ended.
fn parse_response(raw: &[u8], eof: bool) -> Result<Option<Response>, TrackerError> {
    let invalid = TrackerError::Invalid;
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if eof {
            Err(invalid(ReplyError::NoEndOfHeaders))
        } else {
            Ok(None)
        };
    };
    let head = String::from_utf8_lossy(&raw[..end]);
    let body = &raw[end + 4..];
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    let code: u16 = status
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or(invalid(ReplyError::BadStatusLine))?;
    let mut chunked = false;
    let mut length = None;
    let mut location = None;
    let mut reusable = status.starts_with("HTTP/1.1");
    for line in lines {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
        match k.as_str() {
            "transfer-encoding" if v.to_ascii_lowercase().contains("chunked") => chunked = true,
            "content-length" => length = v.parse::<usize>().ok(),
            "location" => location = Some(v.to_owned()),
            "connection" if v.eq_ignore_ascii_case("close") => reusable = false,
            _ => {}
        }
    }
    let (body, len) = match (chunked, length) {
        (true, _) => match dechunk_framed(body) {
            Some((b, used)) => (b, used.map(|u| end + 4 + u)),
            None if eof => return Err(invalid(ReplyError::BadChunkedBody)),
            None => return Ok(None),
        },
        (false, Some(n)) if body.len() >= n => (body[..n].to_vec(), Some(end + 4 + n)),
        // A short body at the end of the stream is what there is (the bencode will tell).
        (false, Some(_)) | (false, None) if eof => (body.to_vec(), None),
        (false, _) => return Ok(None),
    };
    Ok(Some(Response {
        code,
        body,
        location,
        reusable: reusable && len.is_some() && !eof,
        len: len.unwrap_or(raw.len()),
    }))
}

/// [`dechunk`], and how many bytes the chunked body took when it ends without trailers.
fn dechunk_framed(body: &[u8]) -> Option<(Vec<u8>, Option<usize>)> {
    let out = dechunk(body)?;
    // The last chunk is `0\r\n` then an empty line (or trailers, which we do not reuse past).
    let mut at = 0;
    loop {
        let eol = body[at..].windows(2).position(|w| w == b"\r\n")?;
        let size = usize::from_str_radix(
            std::str::from_utf8(&body[at..at + eol])
                .ok()?
                .split(';')
                .next()?
                .trim(),
            16,
        )
        .ok()?;
        at += eol + 2;
        if size == 0 {
            return Some((out, body[at..].starts_with(b"\r\n").then_some(at + 2)));
        }
        at += size + 2;
    }
}

/// The bencoded value at the start of a reply body, without what follows it: aquatic_http
/// ends its bodies with a CRLF (counted in Content-Length), and libtorrent reads past such
/// trailing bytes too.
fn root_value(body: &[u8]) -> &[u8] {
    let rest = bencode::DecodeOptions::lenient()
        .decode_prefix(body)
        .map_or(0, |(_, rest)| rest.len());
    &body[..body.len() - rest]
}

/// The body of a chunked HTTP/1.1 message (`Transfer-Encoding: chunked`), or `None` when it
/// is malformed or incomplete.
pub fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = body.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&body[..eol]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        body = &body[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses() {
        let body = |raw: &[u8], eof| parse_response(raw, eof).unwrap().unwrap().body;
        let plain = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nd1:xe";
        assert_eq!(body(plain, true), b"d1:x");
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nd1:\r\n2\r\nxe\r\n0\r\n\r\n";
        assert_eq!(body(chunked, true), b"d1:xe");
        let not_found = parse_response(b"HTTP/1.1 404 Not Found\r\n\r\nnope", true)
            .unwrap()
            .unwrap();
        assert!(matches!(interpret(not_found), Err(TrackerError::HttpStatus(404))));
        assert!(parse_response(b"garbage", true).is_err());
    }

    #[test]
    fn a_response_is_complete_by_its_framing_before_the_stream_ends() {
        // aquatic_http: sized, a CRLF after the bencode, the connection left open.
        let sized = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nd1:xe\r\n";
        let r = parse_response(sized, false).unwrap().unwrap();
        assert_eq!(
            (r.body.as_slice(), r.reusable, r.len),
            (&b"d1:xe\r\n"[..], true, sized.len())
        );
        assert!(
            parse_response(&sized[..sized.len() - 1], false)
                .unwrap()
                .is_none()
        );
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nd1:xe\r\n0\r\n\r\n";
        let r = parse_response(chunked, false).unwrap().unwrap();
        assert_eq!(
            (r.body.as_slice(), r.reusable, r.len),
            (&b"d1:xe"[..], true, chunked.len())
        );
        assert!(
            parse_response(&chunked[..chunked.len() - 7], false)
                .unwrap()
                .is_none()
        );
        // Neither: the end of the stream ends the body, and the connection with it.
        let bare = b"HTTP/1.0 200 OK\r\n\r\nd1:xe";
        assert!(parse_response(bare, false).unwrap().is_none());
        let r = parse_response(bare, true).unwrap().unwrap();
        assert_eq!((r.body.as_slice(), r.reusable), (&b"d1:xe"[..], false));
        assert!(parse_response(b"HTTP/1.1 200", false).unwrap().is_none());
        // `Connection: close` and HTTP/1.0 are not reused; a redirect names where to.
        let close = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nde";
        assert!(!parse_response(close, false).unwrap().unwrap().reusable);
        let moved = b"HTTP/1.1 301 Moved\r\nLocation: https://t.example/a\r\nContent-Length: 0\r\n\r\n";
        let r = parse_response(moved, false).unwrap().unwrap();
        assert!(matches!(interpret(r), Ok(Reply::Redirect(l)) if l == "https://t.example/a"));
    }

    #[test]
    fn redirects_keep_the_scheme() {
        let from: Key = (true, "t.example".into(), 443, None);
        let (k, t) = redirect(&from, "/other?passkey=x").unwrap();
        assert_eq!((k, t.as_str()), (from.clone(), "/other?passkey=x"));
        let (k, t) = redirect(&from, "https://u.example:8443/announce").unwrap();
        assert_eq!(
            (k, t.as_str()),
            ((true, "u.example".into(), 8443, None), "/announce")
        );
        assert!(matches!(
            redirect(&from, "http://u.example/announce?passkey=secret"),
            Err(TrackerError::BadRedirect(u)) if !u.contains("secret")
        ));
        let plain: Key = (false, "t.example".into(), 80, None);
        assert!(redirect(&plain, "https://u.example/announce").is_err());
    }

    #[test]
    fn bytes_after_the_reply_are_ignored() {
        assert_eq!(root_value(b"d1:xi1ee\r\n"), b"d1:xi1ee");
        assert_eq!(root_value(b"d1:xi1ee"), b"d1:xi1ee");
        // Not bencode at all: left to the parser to report.
        assert_eq!(root_value(b"<html>"), b"<html>");
    }

    #[test]
    fn announce_urls_carry_the_key_as_eight_hex_digits_and_nothing_binary_but_the_hashes() {
        let req = AnnounceRequest {
            info_hash: InfoHash([0xAB; 20]),
            peer_id: ids::PeerId(*b"-NX0001-abcdefABCDEF"),
            port: 6881,
            transfer: tracker_proto::common::Transfer {
                uploaded: 1,
                downloaded: 2,
                left: 3,
            },
            event: tracker_proto::common::AnnounceEvent::Started,
            numwant: Some(80),
            ip: None,
            key: Some(crate::tracker::key_param(0x1B9C_AD20)),
        };
        let hash = "%AB".repeat(20);
        assert_eq!(
            announce_target("/announce", &req),
            format!(
                "/announce?info_hash={hash}&peer_id=-NX0001-abcdefABCDEF&port=6881&uploaded=1\
                 &downloaded=2&left=3&compact=1&event=started&no_peer_id=1&numwant=80&key=1B9CAD20"
            )
        );
        // A passkey in the announce URL stays first.
        assert!(
            announce_target("/announce?passkey=abc", &req).starts_with("/announce?passkey=abc&info_hash=")
        );
    }
}
