//! A minimal HTTP/1.1 client for announces and scrapes.

use std::net::IpAddr;
use std::time::Duration;

use ids::InfoHash;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracker_proto::common::{AnnounceRequest, AnnounceResponse, ScrapeStats};
use tracker_proto::http::{self as proto, AnnounceReply, HttpAnnounce};

use super::{MAX_REPLY, TrackerUrl};
use crate::error::{ReplyError, TrackerError};

const TIMEOUT: Duration = Duration::from_secs(20);

pub(super) async fn announce(
    url: &TrackerUrl,
    req: &AnnounceRequest,
    bind: Option<IpAddr>,
) -> Result<AnnounceResponse, TrackerError> {
    let TrackerUrl::Http { host, port, target } = url else {
        return Err(TrackerError::BadUrl("(not an http url)".into()));
    };
    let body = get(host, *port, &announce_target(target, req), bind).await?;
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
    bind: Option<IpAddr>,
) -> Result<ScrapeStats, TrackerError> {
    let TrackerUrl::Http { host, port, target } = url else {
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
    let body = get(host, *port, &t, bind).await?;
    let files = proto::parse_scrape_reply(root_value(&body)).map_err(ReplyError::Http)?;
    files
        .into_iter()
        .find(|(h, _)| *h == info_hash)
        .map(|(_, s)| s)
        .ok_or(TrackerError::Invalid(ReplyError::NotInScrape))
}

async fn get(host: &str, port: u16, target: &str, bind: Option<IpAddr>) -> Result<Vec<u8>, TrackerError> {
    let work = async {
        let net = TrackerError::Network;
        let addr = tokio::net::lookup_host((host, port))
            .await
            .map_err(net)?
            .next()
            .ok_or_else(|| TrackerError::NoAddress {
                host: host.to_owned(),
            })?;
        let mut stream = crate::net::connect(addr, bind).await.map_err(net)?;
        let host_header = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let req = format!(
            "GET {target} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: nexsuj/{}\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        );
        stream.write_all(req.as_bytes()).await.map_err(net)?;
        // Read until the response is complete by its own framing: trackers that keep the
        // connection alive (aquatic_http ignores `Connection: close`) never send the end of
        // the stream.
        let mut raw = Vec::new();
        let mut chunk = vec![0u8; 16 * 1024];
        loop {
            let n = stream.read(&mut chunk).await.map_err(net)?;
            raw.extend_from_slice(&chunk[..n]);
            if raw.len() > MAX_REPLY {
                return Err(ReplyError::TooLarge.into());
            }
            if let Some(body) = parse_response(&raw, n == 0)? {
                return Ok(body);
            }
        }
    };
    tokio::time::timeout(TIMEOUT, work)
        .await
        .map_err(|_| TrackerError::Timeout)?
}

/// The body of an HTTP/1.1 response (chunked, sized, or up to the end of the stream), once
/// `raw` holds all of it; `None` while more is to come. `eof`: the stream has ended.
fn parse_response(raw: &[u8], eof: bool) -> Result<Option<Vec<u8>>, TrackerError> {
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
    for line in lines {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
        if k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked") {
            chunked = true;
        } else if k == "content-length" {
            length = v.parse::<usize>().ok();
        }
    }
    let body = match (chunked, length) {
        (true, _) => match dechunk(body) {
            Some(b) => b,
            None if eof => return Err(invalid(ReplyError::BadChunkedBody)),
            None => return Ok(None),
        },
        // A short body at the end of the stream is what there is (the bencode will tell).
        (false, Some(n)) if body.len() >= n || eof => body[..n.min(body.len())].to_vec(),
        (false, None) if eof => body.to_vec(),
        (false, _) => return Ok(None),
    };
    if code != 200 && body.first() != Some(&b'd') {
        return Err(TrackerError::HttpStatus(code));
    }
    Ok(Some(body))
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
        let plain = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nd1:xe";
        assert_eq!(parse_response(plain, true).unwrap().unwrap(), b"d1:x");
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nd1:\r\n2\r\nxe\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked, true).unwrap().unwrap(), b"d1:xe");
        assert!(matches!(
            parse_response(b"HTTP/1.1 404 Not Found\r\n\r\nnope", true),
            Err(TrackerError::HttpStatus(404))
        ));
        assert!(parse_response(b"garbage", true).is_err());
    }

    #[test]
    fn a_response_is_complete_by_its_framing_before_the_stream_ends() {
        // aquatic_http: sized, a CRLF after the bencode, the connection left open.
        let sized = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nd1:xe\r\n";
        assert_eq!(parse_response(sized, false).unwrap().unwrap(), b"d1:xe\r\n");
        assert_eq!(parse_response(&sized[..sized.len() - 1], false).unwrap(), None);
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nd1:xe\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked, false).unwrap().unwrap(), b"d1:xe");
        assert_eq!(
            parse_response(&chunked[..chunked.len() - 7], false).unwrap(),
            None
        );
        // Neither: the end of the stream ends the body.
        let bare = b"HTTP/1.0 200 OK\r\n\r\nd1:xe";
        assert_eq!(parse_response(bare, false).unwrap(), None);
        assert_eq!(parse_response(bare, true).unwrap().unwrap(), b"d1:xe");
        assert_eq!(parse_response(b"HTTP/1.1 200", false).unwrap(), None);
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
