//! Scrape (BEP 48): the query on the tracker side, the `files` reply both ways.

use bencode::{write_bytes, write_int};

use super::announce::{invalid, reply_root, u32_field};
use super::error::HttpError;
use super::query::{MAX_PARAMS, MAX_QUERY_LEN, fixed20, for_each_param};
use crate::common::ScrapeStats;
use ids::InfoHash;

/// Bytes one fully percent-encoded `info_hash=…&` takes.
const ENCODED_INFO_HASH_PARAM: usize = "info_hash=".len() + 3 * 20 + 1;

/// Parses a scrape query string (the bytes after `?` in `GET /scrape?…`, BEP 48).
///
/// Every `info_hash` parameter counts; each must decode to exactly 20 bytes. Duplicates are
/// removed, keeping first-seen order. No `info_hash` at all gives an empty vector, which
/// BEP 48 reads as "every torrent" (a tracker may refuse that). Other parameters are ignored.
/// The query may be [`MAX_QUERY_LEN`] bytes longer than `max` fully encoded hashes need, and
/// hold [`MAX_PARAMS`] parameters besides them; `max` is the tracker's per-request cap
/// (50–70 is usual), and duplicates count against it.
///
/// # Errors
///
/// More than `max` `info_hash` parameters, a malformed one, or a query over the caps.
pub fn parse_scrape(query: &[u8], max: usize) -> Result<Vec<InfoHash>, HttpError> {
    let limit = max
        .saturating_mul(ENCODED_INFO_HASH_PARAM)
        .saturating_add(MAX_QUERY_LEN);
    if query.len() > limit {
        return Err(HttpError::QueryTooLong {
            len: query.len(),
            limit,
        });
    }
    let mut hashes = Vec::new();
    let mut count = 0usize;
    for_each_param(query, max.saturating_add(MAX_PARAMS), |name, raw| {
        if name != b"info_hash" {
            return Ok(());
        }
        count += 1;
        if count > max {
            return Err(HttpError::TooManyInfoHashes { limit: max });
        }
        let hash = InfoHash(fixed20(raw, "info_hash")?);
        if !hashes.contains(&hash) {
            hashes.push(hash);
        }
        Ok(())
    })?;
    Ok(hashes)
}

/// Appends a scrape reply, `d5:filesd<info-hash>d8:completei…e10:downloadedi…e10:incompletei…eee…ee`
/// (BEP 48), to `out` (tracker side).
///
/// Bencode wants the info-hash keys sorted, so `files` is sorted in place (no allocation).
/// An info-hash listed twice is written once, with the smaller counts.
pub fn write_scrape(out: &mut Vec<u8>, files: &mut [(InfoHash, ScrapeStats)]) {
    let counts = |s: &ScrapeStats| (s.complete, s.downloaded, s.incomplete);
    files.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| counts(&a.1).cmp(&counts(&b.1))));
    out.reserve(16 + files.len() * 90);
    out.extend_from_slice(b"d5:filesd");
    let mut previous = None;
    for (hash, stats) in files.iter() {
        if previous == Some(hash) {
            continue;
        }
        previous = Some(hash);
        write_bytes(out, &hash.0);
        out.extend_from_slice(b"d8:complete");
        write_int(out, i64::from(stats.complete));
        write_bytes(out, b"downloaded");
        write_int(out, i64::from(stats.downloaded));
        write_bytes(out, b"incomplete");
        write_int(out, i64::from(stats.incomplete));
        out.push(b'e');
    }
    out.extend_from_slice(b"ee");
}

/// Parses a tracker's scrape reply (client side, BEP 48), in info-hash order. Missing counts
/// are 0; keys may come unsorted.
///
/// # Errors
///
/// Invalid bencode, a reply of the wrong shape, or [`HttpError::Refused`] when the tracker
/// sent a `failure reason`.
pub fn parse_scrape_reply(bytes: &[u8]) -> Result<Vec<(InfoHash, ScrapeStats)>, HttpError> {
    let root = bencode::DecodeOptions::lenient().decode(bytes)?;
    let (dict, failure) = reply_root(&root)?;
    if let Some(reason) = failure {
        return Err(HttpError::Refused { reason });
    }
    let files = dict
        .get(b"files")
        .ok_or_else(|| invalid("files", "is missing"))?
        .as_dict()
        .ok_or_else(|| invalid("files", "is not a dictionary"))?;
    let mut out = Vec::with_capacity(files.len());
    for (key, value) in files.iter() {
        let hash =
            <[u8; 20]>::try_from(key).map_err(|_| invalid("files", "has a key that is not 20 bytes"))?;
        let stats = value
            .as_dict()
            .ok_or_else(|| invalid("files", "has an entry that is not a dictionary"))?;
        let stats = ScrapeStats {
            complete: u32_field(stats, "complete")?.unwrap_or(0),
            downloaded: u32_field(stats, "downloaded")?.unwrap_or(0),
            incomplete: u32_field(stats, "incomplete")?.unwrap_or(0),
        };
        out.push((InfoHash(hash), stats));
    }
    Ok(out)
}
