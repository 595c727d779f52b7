//! `nexsuj info`: what a torrent file or magnet link holds, as text or one JSON object.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use metainfo::magnet::Magnet;
use metainfo::{MetainfoError, Strictness, Torrent, Version};
use serde::Serialize;

use crate::Outcome;
use crate::units::{human, utc_date};

/// Arguments of `nexsuj info`.
#[derive(Args)]
pub struct InfoArgs {
    /// A .torrent file or a magnet link.
    target: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// The JSON form; field names are a contract for scripts.
#[derive(Serialize)]
struct InfoJson {
    name: Option<String>,
    info_hash_v1: Option<String>,
    info_hash_v2: Option<String>,
    version: Option<&'static str>,
    total_size: Option<u64>,
    piece_length: Option<u64>,
    num_pieces: Option<u64>,
    private: bool,
    source: Option<String>,
    files: Vec<FileJson>,
    announce: Option<String>,
    announce_list: Vec<Vec<String>>,
    web_seeds: Vec<String>,
    comment: Option<String>,
    created_by: Option<String>,
    creation_date: Option<i64>,
    magnet: String,
}

#[derive(Serialize)]
struct FileJson {
    path: String,
    length: u64,
    pad: bool,
}

/// Runs `nexsuj info`.
pub fn run(args: InfoArgs) -> Result<Outcome> {
    let json = if args.target.to_ascii_lowercase().starts_with("magnet:") {
        let m = Magnet::parse(&args.target).context("cannot read the magnet link")?;
        magnet_json(&m)
    } else {
        torrent_json(&load(Path::new(&args.target))?)
    };
    if args.json {
        crate::output::stdout(&(serde_json::to_string_pretty(&json)? + "\n"))?;
    } else {
        crate::output::stdout(&render_text(&json))?;
    }
    Ok(Outcome::Ok)
}

/// Reads a torrent strictly, falling back to lenient reading (with a warning) when only the
/// key order is wrong, as in some torrents found in the wild.
pub fn load(path: &Path) -> Result<Torrent> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    match Torrent::from_bytes(&bytes) {
        Ok(t) => Ok(t),
        Err(MetainfoError::Bencode(e))
            if matches!(e.kind(), bencode::DecodeErrorKind::UnsortedKey { .. }) =>
        {
            crate::output::stderr_line(&format!("warning: {}: {e}; reading it leniently", path.display()));
            Torrent::from_bytes_with(&bytes, Strictness::Lenient).with_context(|| context(path))
        }
        Err(e) => Err(e).with_context(|| context(path)),
    }
}

fn context(path: &Path) -> String {
    format!("{} is not a valid torrent", PathBuf::from(path).display())
}

fn torrent_json(t: &Torrent) -> InfoJson {
    let info = &t.info;
    InfoJson {
        name: Some(info.name.clone()),
        info_hash_v1: t.info_hash_v1().map(|h| h.to_hex()),
        info_hash_v2: t.info_hash_v2().map(|h| h.to_hex()),
        version: Some(match info.version {
            Version::V1 => "v1",
            Version::V2 => "v2",
            Version::Hybrid => "hybrid",
        }),
        total_size: Some(info.total_size()),
        piece_length: Some(info.piece_length),
        num_pieces: Some(info.num_pieces()),
        private: info.private,
        source: info.source.clone(),
        files: info
            .files
            .iter()
            .map(|f| FileJson {
                path: f.path.to_string(),
                length: f.length,
                pad: f.is_pad(),
            })
            .collect(),
        announce: t.announce.clone(),
        announce_list: t.announce_list.clone(),
        web_seeds: t.url_list.clone(),
        comment: t.about.comment.clone(),
        created_by: t.about.created_by.clone(),
        creation_date: t.about.creation_date,
        magnet: t.magnet().to_uri(),
    }
}

fn magnet_json(m: &Magnet) -> InfoJson {
    InfoJson {
        name: m.display_name.clone(),
        info_hash_v1: m.info_hash_v1.map(|h| h.to_hex()),
        info_hash_v2: m.info_hash_v2.map(|h| h.to_hex()),
        version: None,
        total_size: m.exact_length,
        piece_length: None,
        num_pieces: None,
        private: false,
        source: None,
        files: Vec::new(),
        announce: m.trackers.first().cloned(),
        announce_list: m.trackers.iter().map(|t| vec![t.clone()]).collect(),
        web_seeds: m.web_seeds.clone(),
        comment: None,
        created_by: None,
        creation_date: None,
        magnet: m.to_uri(),
    }
}

fn render_text(j: &InfoJson) -> String {
    let mut rows: Vec<(&str, String)> = vec![("name", j.name.clone().unwrap_or_else(|| "(unknown)".into()))];
    if let Some(v) = j.version {
        rows.push(("version", v.into()));
    }
    if let Some(h) = &j.info_hash_v1 {
        rows.push(("info-hash v1", h.clone()));
    }
    if let Some(h) = &j.info_hash_v2 {
        rows.push(("info-hash v2", h.clone()));
    }
    if let Some(size) = j.total_size {
        rows.push(("size", format!("{} ({size} bytes)", human(size))));
    }
    if let (Some(n), Some(pl)) = (j.num_pieces, j.piece_length) {
        rows.push(("pieces", format!("{n} × {}", human(pl))));
    }
    if j.private {
        let source = j
            .source
            .as_deref()
            .map(|s| format!(", source {s}"))
            .unwrap_or_default();
        rows.push(("private", format!("yes{source}")));
    }
    for (i, tier) in j.announce_list.iter().enumerate() {
        rows.push((
            if i == 0 { "trackers" } else { "" },
            format!("tier {}: {}", i + 1, tier.join(" ")),
        ));
    }
    if let (true, Some(a)) = (j.announce_list.is_empty(), &j.announce) {
        rows.push(("tracker", a.clone()));
    }
    for (i, w) in j.web_seeds.iter().enumerate() {
        rows.push((if i == 0 { "web seeds" } else { "" }, w.clone()));
    }
    if let Some(c) = &j.created_by {
        rows.push(("created by", c.clone()));
    }
    if let Some(d) = j.creation_date {
        rows.push(("created", utc_date(d)));
    }
    if let Some(c) = &j.comment {
        rows.push(("comment", c.clone()));
    }
    let mut text: String = rows.iter().map(|(k, v)| format!("{k:<14}{v}\n")).collect();
    let real: Vec<&FileJson> = j.files.iter().filter(|f| !f.pad).collect();
    if !real.is_empty() {
        text += &format!("files ({}):\n", real.len());
        for f in real {
            text += &format!("  {:>12}  {}\n", human(f.length), f.path);
        }
    }
    text + &format!("{:<14}{}\n", "magnet", j.magnet)
}
