//! `GET /stream/<infohash>/<file index>`: a file while it downloads, with HTTP `Range`. The
//! pieces under the requested range are fetched before any other (a window that moves ahead
//! of the reader), and a read waits for its pieces instead of failing.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use http_body::Frame;
use tokio::sync::mpsc;

use crate::App;
use crate::error::{ApiError, ApiResult};
use crate::params::parse_info_hash;

/// Bytes read from disk and sent at a time.
const CHUNK: u64 = 256 << 10;
/// How far ahead of the reader pieces are fetched first, in bytes (at least four pieces).
const WINDOW: u64 = 16 << 20;
/// How long a read waits for one piece before the stream ends.
const PIECE_WAIT: Duration = Duration::from_secs(120);

/// A response body fed by a task.
struct ChannelBody(mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0.poll_recv(cx).map(|c| c.map(|r| r.map(Frame::data)))
    }
}

/// The byte range asked for: `[start, end)`, or `None` for the whole file. Only the first
/// range of a multi-range request is served.
pub fn range(headers: &HeaderMap, len: u64) -> ApiResult<Option<(u64, u64)>> {
    let Some(value) = headers.get(header::RANGE) else {
        return Ok(None);
    };
    let bad = || ApiError::BadRange(len);
    let spec = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("bytes="))
        .ok_or_else(bad)?;
    let first = spec.split(',').next().unwrap_or("").trim();
    let (a, b) = first.split_once('-').ok_or_else(bad)?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().map_err(|_| bad())?;
            (len.saturating_sub(n), len)
        }
        (s, "") => (s.parse().map_err(|_| bad())?, len),
        (s, e) => {
            let e: u64 = e.parse().map_err(|_| bad())?;
            (s.parse().map_err(|_| bad())?, e.saturating_add(1).min(len))
        }
    };
    if start >= end || start >= len {
        return Err(bad());
    }
    Ok(Some((start, end)))
}

/// A media type from the file name, for players that need one.
fn media_type(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "mkv" => "video/x-matroska",
        "ogv" => "video/ogg",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "ogg" | "oga" => "audio/ogg",
        "flac" => "audio/flac",
        "txt" => "text/plain; charset=utf-8",
        "pdf" => "application/pdf",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        _ => "application/octet-stream",
    }
}

/// `GET /stream/{infohash}/{index}`.
pub async fn file(
    State(app): State<Arc<App>>,
    Path((hash, index)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let info_hash = parse_info_hash(&hash)?;
    let index: usize = index
        .parse()
        .map_err(|_| ApiError::param("index", "expected a file index"))?;
    let (handle, torrent) = app.daemon.handle(info_hash)?;
    let info = &torrent.info;
    let f = info
        .files
        .get(index)
        .filter(|f| !f.is_pad())
        .ok_or_else(|| ApiError::NotFound(format!("torrent {info_hash} has no file {index}")))?;
    let len = f.length;
    let asked = range(&headers, len)?;
    let (start, end) = asked.unwrap_or((0, len));
    let path = info.relative_disk_path(f).to_string_lossy().into_owned();
    let (tx, rx) = mpsc::channel(4);
    let (offset, piece_len) = (f.offset, info.piece_length.max(1));
    tokio::spawn(async move {
        let window = WINDOW.max(4 * piece_len).div_ceil(piece_len) as u32;
        let mut pos = start;
        while pos < end {
            let at = offset + pos;
            let piece = (at / piece_len) as u32;
            let begin = at % piece_len;
            let n = (end - pos).min(piece_len - begin).min(CHUNK);
            if !handle.has_piece(piece) {
                handle.set_focus(Some(piece..piece.saturating_add(window)));
                tokio::select! {
                    () = tx.closed() => break,
                    waited = tokio::time::timeout(PIECE_WAIT, handle.wait_piece(piece)) => {
                        if waited.is_err() {
                            let _ = tx.send(Err(std::io::Error::other("timed out waiting for a piece"))).await;
                            break;
                        }
                    }
                }
            }
            let sent = match handle.read(piece, begin as u32, n as usize).await {
                Ok(data) => tx.send(Ok(Bytes::from(data))).await.is_ok(),
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    false
                }
            };
            if !sent {
                break;
            }
            pos += n;
        }
        handle.set_focus(None);
    });
    let mut response = Response::new(Body::new(ChannelBody(rx)));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type(&path)));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    if asked.is_some() {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{len}", end - 1)) {
            response.headers_mut().insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(range: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, range.parse().unwrap());
        h
    }

    #[test]
    fn ranges() {
        assert_eq!(range(&HeaderMap::new(), 100).unwrap(), None);
        assert_eq!(range(&with("bytes=0-9"), 100).unwrap(), Some((0, 10)));
        assert_eq!(range(&with("bytes=90-"), 100).unwrap(), Some((90, 100)));
        assert_eq!(range(&with("bytes=-10"), 100).unwrap(), Some((90, 100)));
        assert_eq!(range(&with("bytes=50-500"), 100).unwrap(), Some((50, 100)));
        assert_eq!(range(&with("bytes=0-0, 5-6"), 100).unwrap(), Some((0, 1)));
        for bad in ["bytes=100-", "bytes=5-1", "items=0-1", "bytes=x-1", "bytes=-0"] {
            assert!(
                matches!(range(&with(bad), 100), Err(ApiError::BadRange(100))),
                "{bad}"
            );
        }
    }
}
