//! What the site does to `.torrent` files. On upload the file is parsed strictly and the
//! `info` dictionary is rewritten with `private=1` and `source=<site name>` (so the stored
//! info-hash is the site's own, as on NexusPHP, Gazelle and UNIT3D); every other value of
//! `info` keeps its exact bytes. On download a new file is built around the stored `info`
//! bytes, copied verbatim so the info-hash never changes, with the user's personal announce
//! URL and the site's tracker list (BEP 12), and nothing else from the uploader.

use bencode::{write_bytes, write_int};
use metainfo::{Torrent, Version};

use crate::error::ApiError;

/// Most keys an `info` dictionary may have.
pub const MAX_INFO_KEYS: usize = 64;
/// Most files listed on a detail page (the rest are counted).
pub const MAX_LISTED_FILES: usize = 5000;

/// An uploaded torrent, ready for the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The rewritten `info` dictionary.
    pub info: Vec<u8>,
    /// Hex SHA-1 of `info`.
    pub info_hash: String,
    /// `info.name`.
    pub name: String,
    /// Total size of the real files (padding excluded).
    pub size: u64,
    /// (path, length) of each real file.
    pub files: Vec<(String, u64)>,
}

/// Parses an upload strictly and rewrites its `info` for this site.
pub fn prepare_upload(bytes: &[u8], site_name: &str) -> Result<Prepared, ApiError> {
    let bad = |m: String| ApiError::field("torrent", m);
    let torrent = Torrent::from_bytes(bytes).map_err(|e| bad(format!("not a valid torrent file: {e}")))?;
    if torrent.info.version != Version::V1 {
        return Err(bad(
            "only v1 torrents are accepted (v2 and hybrid torrents are not)".into(),
        ));
    }
    let info = rewrite_info(torrent.info_bytes(), site_name)?;
    // Parse the result again: what we store must be exactly what clients will accept.
    let mut whole = Vec::with_capacity(info.len() + 8);
    whole.extend_from_slice(b"d4:info");
    whole.extend_from_slice(&info);
    whole.push(b'e');
    let check =
        Torrent::from_bytes(&whole).map_err(|e| bad(format!("torrent cannot be made private: {e}")))?;
    let files = check
        .info
        .files
        .iter()
        .filter(|f| !f.is_pad())
        .map(|f| {
            let path = if check.info.single_file {
                check.info.name.clone()
            } else {
                f.path.to_string()
            };
            (path, f.length)
        })
        .collect();
    Ok(Prepared {
        info_hash: ids::InfoHash::of_info(&info).to_hex(),
        name: check.info.name.clone(),
        size: check.info.total_size(),
        files,
        info,
    })
}

/// Returns `info` with `private` = 1 and `source` = `site_name`, other values untouched.
pub fn rewrite_info(info: &[u8], site_name: &str) -> Result<Vec<u8>, ApiError> {
    let bad = |m: &str| ApiError::field("torrent", m);
    let value = bencode::decode(info).map_err(|_| bad("info is not valid bencode"))?;
    let dict = value.as_dict().ok_or_else(|| bad("info is not a dictionary"))?;
    if dict.len() > MAX_INFO_KEYS {
        return Err(bad("info has too many keys"));
    }
    let mut private = Vec::new();
    write_int(&mut private, 1);
    let mut source = Vec::new();
    write_bytes(&mut source, site_name.as_bytes());
    let mut entries: Vec<(&[u8], &[u8])> = dict
        .iter()
        .filter(|(k, _)| *k != b"private" && *k != b"source")
        .map(|(k, v)| (k, v.raw()))
        .collect();
    entries.push((b"private", &private));
    entries.push((b"source", &source));
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = Vec::with_capacity(info.len() + site_name.len() + 32);
    out.push(b'd');
    for (k, v) in entries {
        write_bytes(&mut out, k);
        out.extend_from_slice(v);
    }
    out.push(b'e');
    Ok(out)
}

/// A `.torrent` for one user: `announce`, `announce-list` and the stored `info` bytes
/// verbatim. Keys are written in sorted order.
///
/// The site's URLs (HTTP and UDP) form one BEP 12 tier: they are one tracker reached two
/// ways, so a client uses whichever answers and does not announce to both. Two tiers would
/// make clients that "announce to all tiers" (qBittorrent's default) send each event twice,
/// and a second `stopped` after the first removed the peer would count its totals again.
pub fn download_bytes(info: &[u8], announce: &str, announce_list: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(info.len() + 256);
    out.push(b'd');
    write_bytes(&mut out, b"announce");
    write_bytes(&mut out, announce.as_bytes());
    if !announce_list.is_empty() {
        write_bytes(&mut out, b"announce-list");
        out.extend_from_slice(b"ll");
        for url in announce_list {
            write_bytes(&mut out, url.as_bytes());
        }
        out.extend_from_slice(b"ee");
    }
    write_bytes(&mut out, b"info");
    out.extend_from_slice(info);
    out.push(b'e');
    out
}

/// RFC 5987 `attr-char` beyond RFC 3986's unreserved set: what else may stay unencoded in
/// `filename*`.
const ATTR_EXTRA: &[u8] = b"!#$&+^`|";

/// `Content-Disposition` for `<name>.torrent` (RFC 6266): an ASCII `filename` fallback and,
/// when the name is not plain ASCII, `filename*` in UTF-8.
pub fn content_disposition(name: &str) -> String {
    let file = format!("{name}.torrent");
    let ascii: String = file
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if ascii == file {
        format!("attachment; filename=\"{ascii}\"")
    } else {
        let mut encoded = String::with_capacity(file.len() * 3);
        ids::percent::encode_keeping(&mut encoded, file.as_bytes(), ATTR_EXTRA);
        format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::secret::hex;
    use sha1::{Digest, Sha1};

    const PLAIN: &[u8] = b"d8:announce17:http://x/announce7:comment3:hi!4:infod6:lengthi3e4:name5:a.txt12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAAee";

    #[test]
    fn upload_sets_private_and_source() {
        let p = prepare_upload(PLAIN, "nexsuj").unwrap();
        assert_eq!(
            p.info,
            b"d6:lengthi3e4:name5:a.txt12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAA7:privatei1e6:source6:nexsuje"
        );
        assert_eq!(p.info_hash, hex(&Sha1::digest(&p.info)));
        assert_eq!((p.name.as_str(), p.size), ("a.txt", 3));
        assert_eq!(p.files, vec![("a.txt".to_string(), 3)]);
        // Uploading the site's own torrent again gives the same info (idempotent).
        let again = rewrite_info(&p.info, "nexsuj").unwrap();
        assert_eq!(again, p.info);
        // A torrent from another site (private, other source) gets ours.
        let other = rewrite_info(b"d4:name1:x7:privatei1e6:source5:othere", "nexsuj").unwrap();
        assert_eq!(other, b"d4:name1:x7:privatei1e6:source6:nexsuje");
    }

    #[test]
    fn upload_refuses_bad_files() {
        assert!(prepare_upload(b"not bencode", "n").is_err());
        assert!(prepare_upload(b"d4:infoi1ee", "n").is_err());
        // Unsorted keys are refused by the strict parser.
        assert!(prepare_upload(b"d4:infod4:name1:x6:lengthi1eee", "n").is_err());
    }

    #[test]
    fn download_keeps_info_verbatim() {
        let p = prepare_upload(PLAIN, "nexsuj").unwrap();
        let list = vec![
            "http://s/announce?auth_key=k".to_string(),
            "udp://s:1/announce?auth_key=k".into(),
        ];
        let bytes = download_bytes(&p.info, "http://s/announce?auth_key=k", &list);
        let t = Torrent::from_bytes(&bytes).unwrap();
        assert_eq!(t.info_bytes(), p.info.as_slice());
        assert_eq!(t.announce.as_deref(), Some("http://s/announce?auth_key=k"));
        assert_eq!(
            t.announce_list,
            vec![list.clone()],
            "one tier: one tracker, two protocols"
        );
        assert!(t.about.comment.is_none());
        assert!(t.info.private);
        assert_eq!(t.info.source.as_deref(), Some("nexsuj"));
    }

    #[test]
    fn dispositions() {
        assert_eq!(
            content_disposition("a b.txt"),
            "attachment; filename=\"a b.txt.torrent\""
        );
        assert_eq!(
            content_disposition("電影 \"x\""),
            "attachment; filename=\"__ _x_.torrent\"; filename*=UTF-8''%E9%9B%BB%E5%BD%B1%20%22x%22.torrent"
        );
    }
}
