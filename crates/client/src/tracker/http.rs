//! A minimal HTTP/1.1 client for announces and scrapes.

use std::net::IpAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracker_proto::common::{AnnounceRequest, AnnounceResponse, InfoHash, ScrapeStats};
use tracker_proto::http::{self as proto, AnnounceReply, HttpAnnounce};

use super::{MAX_REPLY, TrackerUrl};
use crate::error::TrackerError;

const TIMEOUT: Duration = Duration::from_secs(20);

pub(super) async fn announce(
    url: &TrackerUrl,
    req: &AnnounceRequest,
    bind: Option<IpAddr>,
) -> Result<AnnounceResponse, TrackerError> {
    let TrackerUrl::Http { host, port, target } = url else {
        return Err(TrackerError::BadUrl(format!("{url:?}")));
    };
    let mut target = target.clone();
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
    let body = get(host, *port, &target, bind).await?;
    match proto::parse_announce_reply(&body).map_err(|e| TrackerError::Invalid(e.to_string()))? {
        AnnounceReply::Ok(resp) => Ok(resp),
        AnnounceReply::Failure(reason) => Err(TrackerError::Refused(reason)),
    }
}

pub(super) async fn scrape(
    url: &TrackerUrl,
    info_hash: InfoHash,
    bind: Option<IpAddr>,
) -> Result<ScrapeStats, TrackerError> {
    let TrackerUrl::Http { host, port, target } = url else {
        return Err(TrackerError::BadUrl(format!("{url:?}")));
    };
    // BEP 48: replace the last `announce` of the path with `scrape`.
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let Some(at) = path.rfind("/announce") else {
        return Err(TrackerError::BadUrl(format!(
            "{target} has no /announce to scrape"
        )));
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
    let files = proto::parse_scrape_reply(&body).map_err(|e| TrackerError::Invalid(e.to_string()))?;
    files
        .into_iter()
        .find(|(h, _)| *h == info_hash)
        .map(|(_, s)| s)
        .ok_or_else(|| TrackerError::Invalid("torrent missing from scrape".into()))
}

async fn get(host: &str, port: u16, target: &str, bind: Option<IpAddr>) -> Result<Vec<u8>, TrackerError> {
    let work = async {
        let net = |e: std::io::Error| TrackerError::Network(e.to_string());
        let addr = tokio::net::lookup_host((host, port))
            .await
            .map_err(net)?
            .next()
            .ok_or_else(|| TrackerError::Network(format!("{host} has no address")))?;
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
        stream
            .write_all(req.as_bytes())
            .await
            .map_err(|e| TrackerError::Network(e.to_string()))?;
        let mut raw = Vec::new();
        let mut limited = stream.take(MAX_REPLY as u64 + 1);
        limited
            .read_to_end(&mut raw)
            .await
            .map_err(|e| TrackerError::Network(e.to_string()))?;
        if raw.len() > MAX_REPLY {
            return Err(TrackerError::Invalid("reply larger than 2 MiB".into()));
        }
        parse_response(&raw)
    };
    tokio::time::timeout(TIMEOUT, work)
        .await
        .map_err(|_| TrackerError::Timeout)?
}

/// Splits an HTTP/1.1 response into status and body (chunked or not).
fn parse_response(raw: &[u8]) -> Result<Vec<u8>, TrackerError> {
    let invalid = |m: &str| TrackerError::Invalid(m.to_owned());
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| invalid("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let body = &raw[end + 4..];
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    let code: u16 = status
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| invalid("bad status line"))?;
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
    let body = if chunked {
        dechunk(body).ok_or_else(|| invalid("bad chunked body"))?
    } else {
        let n = length.unwrap_or(body.len()).min(body.len());
        body[..n].to_vec()
    };
    if code != 200 && body.first() != Some(&b'd') {
        return Err(TrackerError::Network(format!("HTTP {code}")));
    }
    Ok(body)
}

fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
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
        assert_eq!(parse_response(plain).unwrap(), b"d1:x");
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nd1:\r\n2\r\nxe\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked).unwrap(), b"d1:xe");
        assert!(matches!(
            parse_response(b"HTTP/1.1 404 Not Found\r\n\r\nnope"),
            Err(TrackerError::Network(_))
        ));
        assert!(parse_response(b"garbage").is_err());
    }
}
