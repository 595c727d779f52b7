//! The daemon's state folder: `daemon.json` (the torrents, their folders, limits, whether they
//! run, their totals), `torrents/<info-hash>.torrent` (the metadata, also of magnets once
//! fetched) and `api-token`. Every file is replaced atomically (temp file, fsync, rename,
//! fsync of the folder), so a crash leaves the old version or the new one, never half.
//! Progress itself lives beside the data, in the engine's resume files.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The format of `daemon.json` written now.
const FORMAT: u32 = 1;

/// What `daemon.json` holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Saved {
    /// The file's format.
    pub version: u32,
    /// Session-wide download limit, KiB/s (0 = none).
    pub maxdown: u64,
    /// Session-wide upload limit, KiB/s (0 = none).
    pub maxup: u64,
    /// The torrents, in the order they were added.
    pub torrents: Vec<SavedTorrent>,
}

/// One torrent in `daemon.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedTorrent {
    /// The v1 info-hash, hex.
    pub infohash: String,
    /// Its name (the magnet's `dn` until the metadata arrives).
    pub name: String,
    /// The magnet link it was added from, if any.
    pub magnet: Option<String>,
    /// The folder that holds its data.
    pub targetdir: PathBuf,
    /// Whether it should run.
    pub running: bool,
    /// Its download limit, KiB/s (0 = none).
    pub maxdown: u64,
    /// Its upload limit, KiB/s (0 = none).
    pub maxup: u64,
    /// When it was added, seconds since the Unix epoch.
    pub added: u64,
    /// Bytes downloaded over its whole life.
    pub downloaded: u64,
    /// Bytes uploaded over its whole life.
    pub uploaded: u64,
    /// Bytes wasted over its whole life.
    pub wasted: u64,
    /// Its verified pieces when last seen (hex of the bitfield), for display while stopped.
    pub bitfield: String,
}

/// The state folder.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
}

/// The token file's name.
const TOKEN_FILE: &str = "api-token";

impl Store {
    /// Opens (creating) the state folder, readable by its owner only.
    pub fn open(dir: &Path) -> io::Result<Self> {
        fs::create_dir_all(dir.join("torrents"))?;
        restrict(dir, 0o700)?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The saved torrents, or nothing on a first start.
    pub fn load(&self) -> io::Result<Option<Saved>> {
        let text = match fs::read(self.dir.join("daemon.json")) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let saved: Saved = serde_json::from_slice(&text)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("daemon.json: {e}")))?;
        if saved.version != FORMAT {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "daemon.json: format {} (this build reads {FORMAT})",
                    saved.version
                ),
            ));
        }
        Ok(Some(saved))
    }

    /// Replaces `daemon.json`.
    pub fn save(&self, saved: &Saved) -> io::Result<()> {
        let mut saved = saved.clone();
        saved.version = FORMAT;
        let text = serde_json::to_vec(&saved).map_err(io::Error::other)?;
        replace(&self.dir.join("daemon.json"), &text, 0o600)
    }

    fn torrent_path(&self, info_hash: ids::InfoHash) -> PathBuf {
        self.dir
            .join("torrents")
            .join(format!("{}.torrent", info_hash.to_hex()))
    }

    /// Keeps a torrent's metadata.
    pub fn write_torrent(&self, info_hash: ids::InfoHash, bytes: &[u8]) -> io::Result<()> {
        replace(&self.torrent_path(info_hash), bytes, 0o600)
    }

    /// A torrent's metadata.
    pub fn read_torrent(&self, info_hash: ids::InfoHash) -> io::Result<Vec<u8>> {
        fs::read(self.torrent_path(info_hash))
    }

    /// Forgets a torrent's metadata.
    pub fn remove_torrent(&self, info_hash: ids::InfoHash) -> io::Result<()> {
        match fs::remove_file(self.torrent_path(info_hash)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// The API token: `configured` if given, else the one in `api-token`, else a new random
    /// one written there (owner-only). The flag says whether it was just created.
    pub fn token(&self, configured: Option<&str>) -> io::Result<(String, bool)> {
        if let Some(t) = configured.filter(|t| !t.is_empty()) {
            return Ok((t.to_string(), false));
        }
        let path = self.dir.join(TOKEN_FILE);
        match fs::read_to_string(&path) {
            Ok(t) if !t.trim().is_empty() => return Ok((t.trim().to_string(), false)),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let token = ids::hex::encode(&rng::os_bytes::<32>().map_err(io::Error::other)?);
        replace(&path, token.as_bytes(), 0o600)?;
        Ok((token, true))
    }
}

/// Where a daemon with state folder `dir` keeps its token (for `nexsuj ctl`).
pub fn token_path(dir: &Path) -> PathBuf {
    dir.join(TOKEN_FILE)
}

use client::storage::replace_file as replace;

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

/// A torrent file holding `info_bytes` and the tracker tiers (what a magnet's metadata is
/// kept as once fetched).
pub fn torrent_file(info_bytes: &[u8], tiers: &[Vec<String>]) -> Vec<u8> {
    let mut out = b"d".to_vec();
    if !tiers.is_empty() {
        bencode::write_bytes(&mut out, b"announce-list");
        out.push(b'l');
        for tier in tiers {
            out.push(b'l');
            for url in tier {
                bencode::write_bytes(&mut out, url.as_bytes());
            }
            out.push(b'e');
        }
        out.push(b'e');
    }
    bencode::write_bytes(&mut out, b"info");
    out.extend_from_slice(info_bytes);
    out.push(b'e');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("nexsuj-store-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn token_is_created_once_and_private() {
        let d = temp("token");
        let store = Store::open(&d).unwrap();
        let (t1, created) = store.token(None).unwrap();
        assert!(created);
        assert_eq!(t1.len(), 64);
        let (t2, created) = store.token(None).unwrap();
        assert!(!created);
        assert_eq!(t1, t2);
        assert_eq!(store.token(Some("given")).unwrap(), ("given".to_string(), false));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(token_path(&d)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn saved_state_round_trips() {
        let d = temp("save");
        let store = Store::open(&d).unwrap();
        assert!(store.load().unwrap().is_none());
        let saved = Saved {
            version: 0,
            maxdown: 5,
            maxup: 6,
            torrents: vec![SavedTorrent {
                infohash: "00".repeat(20),
                name: "x".into(),
                magnet: None,
                targetdir: "/tmp".into(),
                running: true,
                maxdown: 1,
                maxup: 2,
                added: 3,
                downloaded: 4,
                uploaded: 5,
                wasted: 6,
                bitfield: "ff".into(),
            }],
        };
        store.save(&saved).unwrap();
        let back = store.load().unwrap().unwrap();
        assert_eq!(back.version, FORMAT);
        assert_eq!(back.torrents.len(), 1);
        assert_eq!(back.torrents[0].bitfield, "ff");
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn fetched_metadata_becomes_a_torrent_file() {
        let info = b"d6:lengthi1e4:name1:x12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae";
        let bytes = torrent_file(info, &[vec!["http://t/announce".into()]]);
        let t = metainfo::Torrent::from_bytes(&bytes).unwrap();
        assert_eq!(t.info_bytes(), info);
        assert_eq!(t.trackers(), vec![vec!["http://t/announce".to_string()]]);
    }
}
