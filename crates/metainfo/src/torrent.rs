//! A whole `.torrent` file: trackers, web seeds, descriptive keys, the `info` dictionary and
//! its info-hashes, and the v2 piece layers.

use std::collections::BTreeMap;

use bencode::{DecodeOptions, Value};

use crate::error::{MetainfoError, invalid};
use crate::info::Info;
use crate::read::{DictReader, wrong};
use ids::{InfoHash, InfoHashV2};

/// How strictly to read a torrent file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Strictness {
    /// Canonical bencode only (BEP 3).
    #[default]
    Strict,
    /// Also accept dictionaries with keys out of order, as some tools in the wild write them.
    /// The info-hash is still computed over the original bytes.
    Lenient,
}

impl Strictness {
    fn decode_options(self) -> DecodeOptions {
        match self {
            Self::Strict => DecodeOptions::strict(),
            Self::Lenient => DecodeOptions::lenient(),
        }
    }
}

/// A parsed `.torrent` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Torrent {
    /// `announce`: the main tracker URL.
    pub announce: Option<String>,
    /// `announce-list` (BEP 12): tiers of tracker URLs, empty tiers dropped.
    pub announce_list: Vec<Vec<String>>,
    /// `url-list` (BEP 19): web seeds.
    pub url_list: Vec<String>,
    /// DHT nodes to join through, `(host, port)` (BEP 5 `nodes`, for trackerless torrents).
    pub nodes: Vec<(String, u16)>,
    /// Descriptive keys that are not part of the info-hash.
    pub about: About,
    /// The `info` dictionary.
    pub info: Info,
    /// `piece layers` (BEP 52): merkle root of a file → SHA-256 of each of its pieces.
    pub piece_layers: BTreeMap<[u8; 32], Vec<[u8; 32]>>,
    info_bytes: Vec<u8>,
}

/// `comment`, `created by`, `creation date`, `encoding`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct About {
    /// `comment`.
    pub comment: Option<String>,
    /// `created by`.
    pub created_by: Option<String>,
    /// `creation date`, seconds since the Unix epoch.
    pub creation_date: Option<i64>,
    /// `encoding` of the strings (should be UTF-8).
    pub encoding: Option<String>,
}

impl Torrent {
    /// Parses a torrent file strictly.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MetainfoError> {
        Self::from_bytes_with(bytes, Strictness::Strict)
    }

    /// Parses a torrent file with the given strictness.
    pub fn from_bytes_with(bytes: &[u8], strictness: Strictness) -> Result<Self, MetainfoError> {
        let opts = strictness.decode_options();
        let root = opts.decode(bytes)?;
        Self::from_value(&root)
    }

    /// Builds a torrent from its decoded top-level dictionary.
    pub fn from_value(root: &Value<'_>) -> Result<Self, MetainfoError> {
        let r = DictReader::new(root, "")?;
        let info_value = r.req("info")?;
        let info = Info::from_value(info_value)?;
        let announce = r.opt_text("announce")?.filter(|s| !s.is_empty());
        let announce_list = announce_list(&r)?;
        let url_list = url_list(&r)?;
        let nodes = dht_nodes(&r);
        let about = About {
            comment: r.opt_text("comment")?,
            created_by: r.opt_text("created by")?,
            creation_date: r.opt_int("creation date")?,
            encoding: r.opt_text("encoding")?,
        };
        let piece_layers = crate::layers::parse(&r, &info)?;
        let info_bytes = info_value.raw().to_vec();
        Ok(Self {
            announce,
            announce_list,
            url_list,
            nodes,
            about,
            info,
            piece_layers,
            info_bytes,
        })
    }

    /// A torrent from an `info` dictionary alone, as a magnet link's metadata exchange
    /// (BEP 9) delivers it, with `trackers` as its tiers. It has no `piece layers` (BEP 52
    /// peers send those on request), so a hybrid torrent from a magnet is used through its v1
    /// piece hashes.
    pub fn from_info_bytes(
        info_bytes: &[u8],
        trackers: Vec<Vec<String>>,
        strictness: Strictness,
    ) -> Result<Self, MetainfoError> {
        let opts = strictness.decode_options();
        let value = opts.decode(info_bytes)?;
        let info = Info::from_value(&value)?;
        let announce_list: Vec<Vec<String>> = trackers.into_iter().filter(|t| !t.is_empty()).collect();
        Ok(Self {
            announce: announce_list.first().and_then(|t| t.first()).cloned(),
            announce_list,
            url_list: Vec::new(),
            nodes: Vec::new(),
            about: About::default(),
            info,
            piece_layers: BTreeMap::new(),
            info_bytes: info_bytes.to_vec(),
        })
    }

    /// The exact bytes of the `info` dictionary as they appear in the file.
    pub fn info_bytes(&self) -> &[u8] {
        &self.info_bytes
    }

    /// SHA-1 of the info bytes, for torrents with v1 piece hashes.
    pub fn info_hash_v1(&self) -> Option<InfoHash> {
        self.info
            .version
            .has_v1()
            .then(|| InfoHash::of_info(&self.info_bytes))
    }

    /// SHA-256 of the info bytes, for torrents with v2 merkle trees.
    pub fn info_hash_v2(&self) -> Option<InfoHashV2> {
        self.info
            .version
            .has_v2()
            .then(|| InfoHashV2::of_info(&self.info_bytes))
    }

    /// All tracker URLs in tier order, `announce` first when there is no `announce-list`
    /// (BEP 12: the list, when present, replaces `announce`).
    pub fn trackers(&self) -> Vec<Vec<String>> {
        if !self.announce_list.is_empty() {
            return self.announce_list.clone();
        }
        self.announce.iter().map(|a| vec![a.clone()]).collect()
    }

    /// A magnet link with the info-hashes, name, size, trackers and web seeds.
    pub fn magnet(&self) -> crate::magnet::Magnet {
        let mut m = crate::magnet::Magnet::from_info_hashes(self.info_hash_v1(), self.info_hash_v2());
        m.display_name = Some(self.info.name.clone());
        m.exact_length = Some(self.info.total_size());
        m.trackers = self.trackers().into_iter().flatten().collect();
        m.web_seeds = self.url_list.clone();
        m
    }
}

fn text(v: &Value<'_>, key: String) -> Result<String, MetainfoError> {
    v.as_bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .ok_or_else(|| wrong(key, "a string", v))
}

fn announce_list(r: &DictReader<'_, '_>) -> Result<Vec<Vec<String>>, MetainfoError> {
    let Some(tiers) = r.opt_list("announce-list")? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (i, tier) in tiers.iter().enumerate() {
        let key = format!("announce-list[{i}]");
        let urls = tier.as_list().ok_or_else(|| wrong(key.clone(), "a list", tier))?;
        let urls: Vec<String> = urls
            .iter()
            .enumerate()
            .map(|(j, u)| text(u, format!("{key}[{j}]")))
            .filter(|u| !matches!(u, Ok(s) if s.is_empty()))
            .collect::<Result<_, _>>()?;
        if !urls.is_empty() {
            out.push(urls);
        }
    }
    Ok(out)
}

/// BEP 5 `nodes`: a list of `[host, port]` pairs. Malformed entries are skipped (the key is
/// a hint, not part of the torrent's identity); at most 64 are kept.
fn dht_nodes(r: &DictReader<'_, '_>) -> Vec<(String, u16)> {
    let Some(list) = r.get("nodes").and_then(|v| v.as_list()) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|n| match n.as_list()? {
            [host, port] => {
                let host = std::str::from_utf8(host.as_bytes()?).ok()?;
                let port = u16::try_from(port.as_int()?).ok()?;
                (!host.is_empty() && host.len() <= 255).then(|| (host.to_owned(), port))
            }
            _ => None,
        })
        .take(64)
        .collect()
}

/// BEP 19 allows a single string or a list of strings.
fn url_list(r: &DictReader<'_, '_>) -> Result<Vec<String>, MetainfoError> {
    let Some(v) = r.get("url-list") else {
        return Ok(Vec::new());
    };
    if let Some(list) = v.as_list() {
        return list
            .iter()
            .enumerate()
            .map(|(i, u)| text(u, format!("url-list[{i}]")))
            .collect();
    }
    let one = text(v, "url-list".into())?;
    if one.len() > 8192 {
        return Err(invalid("url-list", "longer than 8 KiB"));
    }
    Ok(if one.is_empty() { Vec::new() } else { vec![one] })
}
