//! What each library does in each benchmark group, written once and shared by the criterion
//! run, the pre-flight check and the summary table.

use std::hint::black_box;

use bendy::decoding::{Decoder, FromBencode, Object};
use sha1::Digest;

use crate::corpus::TorrentFile;

/// One library's way of doing one group's job.
pub struct Contender {
    /// Benchmark group: `decode` (generic value tree) or `torrent` (parse + v1 info-hash).
    pub group: &'static str,
    /// Library name, and variant where a library has two.
    pub library: &'static str,
    /// Does the job once; the result is passed through `black_box`.
    pub run: fn(&[u8]),
}

/// Every contender, nexsuj first in each group (the summary's ratios are relative to it).
pub const CONTENDERS: [Contender; 7] = [
    Contender {
        group: "decode",
        library: "nexsuj",
        run: |b| drop(black_box(bencode::decode(b))),
    },
    Contender {
        group: "decode",
        library: "serde_bencode",
        run: |b| drop(black_box(serde_bencode_value(b))),
    },
    Contender {
        group: "decode",
        library: "bendy-value",
        run: |b| drop(black_box(bendy_value(b))),
    },
    Contender {
        group: "decode",
        library: "bendy-walk",
        run: |b| drop(black_box(bendy_walk(b))),
    },
    Contender {
        group: "torrent",
        library: "nexsuj",
        run: |b| drop(black_box(nexsuj_torrent(b))),
    },
    Contender {
        group: "torrent",
        library: "lava_torrent",
        run: |b| drop(black_box(lava_torrent(b))),
    },
    Contender {
        group: "torrent",
        library: "serde_bencode",
        run: |b| drop(black_box(serde_bencode_torrent(b))),
    },
];

/// What the `torrent` group extracts, for checking that every library agrees.
#[derive(Debug, PartialEq, Eq)]
pub struct Summary {
    /// v1 info-hash.
    pub info_hash: [u8; 20],
    /// Number of files.
    pub files: usize,
    /// Sum of the file lengths.
    pub total_size: u64,
}

/// serde_bencode's generic tree (owned: every string copied, dictionaries are `HashMap`s).
pub fn serde_bencode_value(b: &[u8]) -> Result<serde_bencode::value::Value, serde_bencode::Error> {
    serde_bencode::from_bytes(b)
}

/// bendy's generic tree (`bendy::value::Value`; its `FromBencode` copies every string into a
/// `BTreeMap`/`Vec` tree). `Value::from_bencode` caps depth at 0, so drive the decoder directly.
pub fn bendy_value(b: &[u8]) -> Result<bendy::value::Value<'_>, bendy::decoding::Error> {
    let mut decoder = Decoder::new(b).with_max_depth(256);
    match decoder.next_object()? {
        Some(object) => bendy::value::Value::decode_bencode_object(object),
        None => Err(bendy::decoding::Error::missing_field("value")),
    }
}

/// bendy's lazy decoder, every object visited (integers parsed, strings touched) but no tree
/// built: the least work bendy can do and still check the whole input.
pub fn bendy_walk(b: &[u8]) -> Result<u64, bendy::decoding::Error> {
    let mut decoder = Decoder::new(b).with_max_depth(256);
    match decoder.next_object()? {
        Some(object) => walk(object),
        None => Ok(0),
    }
}

fn walk(object: Object<'_, '_>) -> Result<u64, bendy::decoding::Error> {
    Ok(match object {
        Object::Integer(text) => text.parse::<i64>()?.unsigned_abs(),
        Object::Bytes(bytes) => bytes.len() as u64,
        Object::List(mut list) => {
            let mut sum = 0u64;
            while let Some(item) = list.next_object()? {
                sum = sum.wrapping_add(walk(item)?);
            }
            sum
        }
        Object::Dict(mut dict) => {
            let mut sum = 0u64;
            while let Some((key, value)) = dict.next_pair()? {
                sum = sum.wrapping_add(key.len() as u64).wrapping_add(walk(value)?);
            }
            sum
        }
    })
}

/// nexsuj: full strict parse (paths checked, piece count checked) and the v1 info-hash over
/// the exact info bytes.
pub fn nexsuj_torrent(b: &[u8]) -> Option<(metainfo::Torrent, Summary)> {
    let t = metainfo::Torrent::from_bytes(b).ok()?;
    let summary = Summary {
        info_hash: t.info_hash_v1()?.0,
        files: t.info.files.len(),
        total_size: t.info.total_size(),
    };
    Some((t, summary))
}

/// lava_torrent: `read_from_bytes`, then `info_hash_bytes` (which rebuilds and re-encodes the
/// info dictionary: lava_torrent does not keep the original bytes).
pub fn lava_torrent(b: &[u8]) -> Option<(lava_torrent::torrent::v1::Torrent, Summary)> {
    let t = lava_torrent::torrent::v1::Torrent::read_from_bytes(b).ok()?;
    let summary = Summary {
        info_hash: t.info_hash_bytes().try_into().ok()?,
        files: t.files.as_ref().map_or(1, Vec::len),
        total_size: u64::try_from(t.length).ok()?,
    };
    Some((t, summary))
}

/// serde_bencode into a typed struct, then the usual way to get the info-hash with it:
/// re-encode `info` with serde_bencode and SHA-1 the result.
pub fn serde_bencode_torrent(b: &[u8]) -> Option<(TorrentFile, Summary)> {
    let t: TorrentFile = serde_bencode::from_bytes(b).ok()?;
    let info = serde_bencode::to_bytes(&t.info).ok()?;
    let files = t.info.files.as_deref().unwrap_or_default();
    let summary = Summary {
        info_hash: sha1::Sha1::digest(&info).into(),
        files: files.len().max(1),
        total_size: t
            .info
            .length
            .unwrap_or_else(|| files.iter().map(|f| f.length).sum()),
    };
    Some((t, summary))
}
