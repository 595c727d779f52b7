//! The JSON of seed 004's `/alldata` and `/torrentdata`, field for field (its `Peers`, `ID`
//! and `relevence` spellings are the contract), plus fields of ours that a UI needs. Amounts
//! are KiB and rates KiB/s, as numbers with a fraction; times are UTC strings.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::daemon::TorrentView;

/// One torrent: seed 004's "session".
#[derive(Debug, Serialize)]
pub struct SessionJson {
    /// Its name.
    pub name: String,
    /// The info-hash, base64.
    pub infohash_base64: String,
    /// Verified pieces (BEP 3 bitfield), base64. Left out of brief lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bitfield_base64: Option<String>,
    /// Number of pieces.
    pub bitfield_length: usize,
    /// When it was added.
    pub timestarted: String,
    /// KiB thrown away (failed hash checks, duplicates).
    pub wasted: f64,
    /// KiB downloaded over its life.
    pub downloaded: f64,
    /// KiB uploaded over its life.
    pub uploaded: f64,
    /// The last error, null when none.
    pub error: Option<String>,
    /// Its trackers. Left out of brief lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trackers: Option<Vec<TrackerJson>>,
    /// Its connected peers. Left out of brief lists.
    #[serde(rename = "Peers", skip_serializing_if = "Option::is_none")]
    pub peers_list: Option<Vec<PeerJson>>,
    /// Ours: the info-hash, hex.
    pub infohash: String,
    /// Ours: downloading, seeding, stopped, checking, metadata, starting or error.
    pub state: &'static str,
    /// Ours: content size, KiB.
    pub size: f64,
    /// Ours: verified KiB.
    pub done: f64,
    /// Ours: share verified, 0 to 1.
    pub progress: f64,
    /// Ours: download rate, KiB/s.
    pub downrate: f64,
    /// Ours: upload rate, KiB/s.
    pub uprate: f64,
    /// Ours: seconds to completion at the current rate (null when unknown or done).
    pub eta: Option<u64>,
    /// Ours: uploaded / downloaded over its life (uploaded / size when nothing was downloaded).
    pub ratio: f64,
    /// Ours: connected peers.
    pub peers: usize,
    /// Ours: download limit, KiB/s (0 = none).
    pub maxdown: u64,
    /// Ours: upload limit, KiB/s (0 = none).
    pub maxup: u64,
    /// Ours: the folder that holds the data.
    pub targetdir: String,
    /// Ours: the files. Left out of brief lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<FileJson>>,
}

/// One tracker.
#[derive(Debug, Serialize)]
pub struct TrackerJson {
    /// Announce URL.
    pub url: String,
    /// `working`, `error` or `not contacted`.
    pub status: &'static str,
    /// Leechers in its last reply.
    pub leechers: u32,
    /// Seeders in its last reply.
    pub seeders: u32,
    /// Peers in its last reply.
    pub peers: usize,
    /// When it last answered (null: never).
    pub lastannounce: Option<String>,
    /// Ours: its last error.
    pub error: Option<String>,
}

/// One connected peer.
#[derive(Debug, Serialize)]
pub struct PeerJson {
    /// Its peer id, percent-encoded where not printable.
    #[serde(rename = "ID")]
    pub id: String,
    /// `IP:port`.
    pub host: String,
    /// Its pieces, base64 bitfield.
    pub bitfield_base64: String,
    /// Number of pieces.
    pub bitfield_length: usize,
    /// KiB/s from it.
    pub downrate: f64,
    /// KiB/s to it.
    pub uprate: f64,
    /// KiB from it.
    pub downloaded: f64,
    /// KiB to it.
    pub uploaded: f64,
    /// Always true: only connected peers are listed.
    pub connected: bool,
    /// Share of the pieces we still need that it has, 0 to 1 (seed 004's spelling).
    pub relevence: f64,
    /// Ours: its client, from the extension handshake.
    pub client: Option<String>,
    /// Ours: `plaintext`, `obfuscated` (MSE handshake only) or `rc4`.
    pub encryption: &'static str,
    /// Ours: `tcp` or `utp`.
    pub transport: &'static str,
}

/// One file.
#[derive(Debug, Serialize)]
pub struct FileJson {
    /// Its index in the torrent (for `/stream/<infohash>/<index>`).
    pub index: usize,
    /// Path under `targetdir`.
    pub path: String,
    /// Size, KiB.
    pub size: f64,
}

/// Bytes as KiB.
pub fn kib(bytes: u64) -> f64 {
    bytes as f64 / 1024.0
}

/// A time as a UTC string in RFC 3339 form, `2026-12-04T11:40:33Z` (seed 004 says "UTC time
/// string"; this one every language parses).
pub fn utc(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    units::Utc::from_unix(i64::try_from(secs).unwrap_or(i64::MAX)).to_rfc3339()
}

fn peer_id(id: &ids::PeerId) -> String {
    let mut out = String::new();
    ids::percent::encode_into(&mut out, &id.0);
    out
}

impl SessionJson {
    /// The JSON of one torrent; `brief` leaves out bitfields, trackers, peers and files.
    pub fn of(v: &TorrentView, brief: bool) -> Self {
        let live = v.live.as_ref();
        let piece_len = v.size.div_ceil(v.num_pieces.max(1) as u64).max(1);
        let have = v.bitfield.iter().map(|b| b.count_ones() as u64).sum::<u64>();
        let done_bytes = match live {
            Some(l) => l.total_size - l.left,
            None => (have * piece_len).min(v.size),
        };
        let [downloaded, uploaded, wasted] = v.totals;
        let down_rate = live.map_or(0, |l| l.down_rate);
        let left = v.size - done_bytes.min(v.size);
        Self {
            name: v.name.clone(),
            infohash_base64: ids::base64::encode(&v.info_hash.0),
            bitfield_base64: (!brief).then(|| ids::base64::encode(&v.bitfield)),
            bitfield_length: v.num_pieces,
            timestarted: utc(v.added),
            wasted: kib(wasted),
            downloaded: kib(downloaded),
            uploaded: kib(uploaded),
            error: v.error.clone(),
            trackers: (!brief).then(|| {
                live.map(|l| l.trackers.iter().map(tracker).collect())
                    .unwrap_or_default()
            }),
            peers_list: (!brief).then(|| {
                live.map(|l| l.peers.iter().map(|p| peer(p, v.num_pieces)).collect())
                    .unwrap_or_default()
            }),
            infohash: v.info_hash.to_hex(),
            state: v.state,
            size: kib(v.size),
            done: kib(done_bytes),
            progress: if v.size == 0 {
                0.0
            } else {
                done_bytes as f64 / v.size as f64
            },
            downrate: kib(down_rate),
            uprate: kib(live.map_or(0, |l| l.up_rate)),
            eta: (left > 0 && down_rate > 0).then(|| left / down_rate),
            ratio: ratio(uploaded, downloaded, v.size),
            peers: live.map_or(0, |l| l.peers.len()),
            maxdown: v.maxdown,
            maxup: v.maxup,
            targetdir: v.dir.display().to_string(),
            files: (!brief).then(|| {
                v.files
                    .iter()
                    .map(|(index, path, size)| FileJson {
                        index: *index,
                        path: path.clone(),
                        size: kib(*size),
                    })
                    .collect()
            }),
        }
    }
}

/// Uploaded over downloaded; for what was never downloaded here (seeded from disk), over
/// the size.
fn ratio(uploaded: u64, downloaded: u64, size: u64) -> f64 {
    match (downloaded, size) {
        (0, 0) => 0.0,
        (0, size) => uploaded as f64 / size as f64,
        (d, _) => uploaded as f64 / d as f64,
    }
}

fn tracker(t: &client::tracker::TrackerStatus) -> TrackerJson {
    TrackerJson {
        url: t.url.clone(),
        status: match (t.working, &t.error) {
            (true, _) => "working",
            (false, Some(_)) => "error",
            (false, None) => "not contacted",
        },
        leechers: t.leechers,
        seeders: t.seeders,
        peers: t.peers,
        lastannounce: t.last_announce.map(utc),
        error: t.error.clone(),
    }
}

fn peer(p: &client::PeerSnapshot, num_pieces: usize) -> PeerJson {
    PeerJson {
        id: peer_id(&p.id),
        host: p.addr.to_string(),
        bitfield_base64: ids::base64::encode(&p.bitfield),
        bitfield_length: num_pieces,
        downrate: kib(p.down_rate),
        uprate: kib(p.up_rate),
        downloaded: kib(p.downloaded),
        uploaded: kib(p.uploaded),
        connected: p.connected,
        relevence: p.relevance,
        client: p.client.clone(),
        encryption: p.encryption,
        transport: p.transport,
    }
}
