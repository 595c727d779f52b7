//! The torrents the benchmarks decode, generated deterministically because the bench runs
//! without network access.
//!
//! Both mirror the shape of real torrents rather than their bytes: the sizes of `pieces` and of
//! the `files` list, path depths, name lengths and the top-level keys written by common clients.
//! Piece hashes are pseudo-random (like real SHA-1s, almost never valid UTF-8), so decoders that
//! try strings as UTF-8 pay the same price they would on a real file.

use bencode::ByteBuf;
use serde::{Deserialize, Serialize};

/// A v1 torrent as plain serde types. The generator encodes it with our encoder, and the
/// serde_bencode contender decodes into it, which is how serde_bencode users read torrents.
#[derive(Debug, Serialize, Deserialize)]
pub struct TorrentFile {
    /// `announce`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announce: Option<String>,
    /// `announce-list` (BEP 12).
    #[serde(rename = "announce-list", default, skip_serializing_if = "Option::is_none")]
    pub announce_list: Option<Vec<Vec<String>>>,
    /// `comment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// `created by`.
    #[serde(rename = "created by", default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// `creation date`.
    #[serde(rename = "creation date", default, skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<i64>,
    /// `info`.
    pub info: InfoDict,
}

/// The `info` dictionary of a multi-file (or single-file) v1 torrent.
#[derive(Debug, Serialize, Deserialize)]
pub struct InfoDict {
    /// `files`, absent for a single-file torrent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<FileDict>>,
    /// `length`, present only for a single-file torrent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// `name`.
    pub name: String,
    /// `piece length`.
    #[serde(rename = "piece length")]
    pub piece_length: u64,
    /// `pieces`: concatenated SHA-1s.
    pub pieces: ByteBuf,
    /// `private` (BEP 27).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private: Option<u8>,
}

/// One entry of `files`.
#[derive(Debug, Serialize, Deserialize)]
pub struct FileDict {
    /// `length`.
    pub length: u64,
    /// `path`: components under the torrent's folder.
    pub path: Vec<String>,
}

/// One generated torrent file.
pub struct Sample {
    /// Short label used in benchmark ids.
    pub label: &'static str,
    /// The `.torrent` bytes.
    pub bytes: Vec<u8>,
    /// Number of files it lists.
    pub files: usize,
}

/// Both benchmark torrents: a ~1 MB multi-file torrent and a 10,000-file torrent.
pub fn samples() -> Vec<Sample> {
    vec![
        sample("multi-1MB", movie_collection()),
        sample("files-10k", image_dataset()),
    ]
}

#[allow(clippy::expect_used)] // a bench setup failure should stop the bench loudly
fn sample(label: &'static str, t: TorrentFile) -> Sample {
    let files = t.info.files.as_ref().map_or(1, Vec::len);
    let bytes = bencode::to_bytes(&t).expect("our encoder writes the generated torrent");
    Sample { label, bytes, files }
}

/// splitmix64: a tiny deterministic generator, so every run decodes the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

fn file(path: &[&str], length: u64) -> FileDict {
    FileDict {
        length,
        path: path.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// The top-level keys a common client writes, around the given `info`.
fn wrap(info: InfoDict, comment: &str, created_by: &str) -> TorrentFile {
    let tier = |urls: &[&str]| urls.iter().map(|u| (*u).to_owned()).collect::<Vec<_>>();
    TorrentFile {
        announce: Some("udp://tracker.opentrackr.org:1337/announce".into()),
        announce_list: Some(vec![
            tier(&[
                "udp://tracker.opentrackr.org:1337/announce",
                "https://tracker.opentrackr.org:443/announce",
            ]),
            tier(&[
                "udp://open.demonii.com:1337/announce",
                "udp://tracker.torrent.eu.org:451/announce",
            ]),
        ]),
        comment: Some(comment.into()),
        created_by: Some(created_by.into()),
        creation_date: Some(1_700_000_000),
        info,
    }
}

/// `pieces` for `total` bytes cut into `piece_length` pieces.
fn pieces(seed: u64, total: u64, piece_length: u64) -> ByteBuf {
    let count = usize::try_from(total.div_ceil(piece_length)).unwrap_or(0);
    ByteBuf(testkit::pseudo_random(seed, count * 20))
}

const MOVIES: [&str; 10] = [
    "Elephants Dream (2006)",
    "Big Buck Bunny (2008)",
    "Sintel (2010)",
    "Tears of Steel (2012)",
    "Cosmos Laundromat (2015)",
    "Agent 327 - Operation Barbershop (2017)",
    "Hero (2018)",
    "Spring (2019)",
    "Coffee Run (2020)",
    "Sprite Fright (2021)",
];

const LANGUAGES: [&str; 14] = [
    "en", "de", "fr", "es", "it", "nl", "pt-BR", "ru", "pl", "cs", "ja", "zh-Hans", "ko", "ar",
];

/// (A) A movie collection like a typical video release: 10 folders of 40 files each (two
/// encodes, subtitles, extras, artwork) nested up to three deep, 256 KiB pieces and ~13.6 GB of
/// data, so `pieces` alone is ~1 MB, as in real torrents of this size.
fn movie_collection() -> TorrentFile {
    const PIECE_LENGTH: u64 = 256 << 10;
    const TOTAL: u64 = 13_600_000_000;
    let mut rng = Rng(0x6d6f_7669_6573);
    let mut small = Vec::new();
    let mut big = Vec::new(); // (index into `small` order, weight) for the video files
    for movie in MOVIES {
        let title = movie.split(" (").next().unwrap_or(movie);
        for res in ["2160p", "1080p"] {
            big.push((small.len(), rng.range(4, 10)));
            small.push(file(&[movie, &format!("{title}.{res}.mkv")], 0));
        }
        small.push(file(&[movie, &format!("{title}.nfo")], rng.range(2_000, 9_000)));
        small.push(file(&[movie, "README.txt"], rng.range(800, 4_000)));
        for lang in LANGUAGES {
            let name = format!("{title}.{lang}.srt");
            small.push(file(&[movie, "Subtitles", &name], rng.range(20_000, 120_000)));
        }
        for part in 1..=4 {
            big.push((small.len(), 1));
            small.push(file(
                &[movie, "Extras", "Making Of", &format!("Part {part:02}.mp4")],
                0,
            ));
        }
        big.push((small.len(), 1));
        small.push(file(&[movie, "Extras", "Trailer.mp4"], 0));
        for art in ["poster.jpg", "banner.jpg"] {
            small.push(file(&[movie, "Artwork", art], rng.range(300_000, 2_500_000)));
        }
        for still in 1..=15 {
            let name = format!("still_{still:03}.png");
            small.push(file(
                &[movie, "Artwork", "Stills", &name],
                rng.range(1_000_000, 6_000_000),
            ));
        }
    }
    // Share what is left of the total among the videos by weight, so the total is exact.
    let rest = TOTAL - small.iter().map(|f| f.length).sum::<u64>();
    let weights: u64 = big.iter().map(|(_, w)| w).sum();
    for &(i, w) in &big {
        small[i].length = rest / weights * w;
    }
    small[big[0].0].length += rest - big.iter().map(|&(_, w)| rest / weights * w).sum::<u64>();
    let info = InfoDict {
        files: Some(small),
        length: None,
        name: "Blender Open Movies Collection".into(),
        piece_length: PIECE_LENGTH,
        pieces: pieces(1, TOTAL, PIECE_LENGTH),
        private: None,
    };
    wrap(
        info,
        "All films CC BY, Blender Foundation | www.blender.org",
        "qBittorrent v4.6.2",
    )
}

/// (B) A 10,000-file image data set (ImageNet-style class folders): paths two to four
/// components deep, images of 0.4–3 MB, small annotation files, 4 MiB pieces (a few thousand).
fn image_dataset() -> TorrentFile {
    const PIECE_LENGTH: u64 = 4 << 20;
    let mut rng = Rng(0x696d_6167_6573);
    let classes: Vec<String> = (0..100)
        .map(|_| format!("n{:08}", rng.range(1_000_000, 15_000_000)))
        .collect();
    let mut files = vec![
        file(&["metadata", "LICENSE.txt"], 11_357),
        file(&["metadata", "README.md"], 6_412),
        file(&["metadata", "classes.csv"], 3_214),
        file(&["metadata", "synsets.txt"], 1_100),
    ];
    for (i, class) in classes.iter().enumerate() {
        for n in 0..60 {
            let name = format!("{class}_{}.JPEG", 10_000 + i * 97 + n * 13);
            files.push(file(&["train", class, &name], rng.range(400_000, 3_000_000)));
        }
    }
    for n in 0..1_000 {
        let class = &classes[n % classes.len()];
        let name = format!("ILSVRC2012_val_{:08}.JPEG", n + 1);
        files.push(file(&["validation", class, &name], rng.range(400_000, 3_000_000)));
    }
    let mut n = 0;
    while files.len() < 10_000 {
        let class = &classes[n % classes.len()];
        let name = format!("{class}_{}.xml", 10_000 + n * 7);
        files.push(file(
            &["annotations", "train", class, &name],
            rng.range(600, 3_000),
        ));
        n += 1;
    }
    let total = files.iter().map(|f| f.length).sum();
    let info = InfoDict {
        files: Some(files),
        length: None,
        name: "imagenet-style-subset-10k".into(),
        piece_length: PIECE_LENGTH,
        pieces: pieces(2, total, PIECE_LENGTH),
        private: None,
    };
    wrap(
        info,
        "10,000-file subset for benchmarking; see metadata/README.md",
        "mktorrent 1.1",
    )
}
