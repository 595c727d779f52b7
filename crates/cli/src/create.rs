//! `nexsuj create`: make a .torrent from a file or directory, hashing in parallel.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use metainfo::Torrent;
use metainfo::builder::{TorrentBuilder, TorrentVersion};

use crate::Outcome;
use crate::progress::bytes_bar;
use crate::units::{human, parse_bytes};

/// Arguments of `nexsuj create`.
#[derive(Args)]
pub struct CreateArgs {
    /// The file or directory to share.
    path: PathBuf,
    /// A tracker URL; each -t is its own tier (BEP 12). The first becomes `announce`.
    #[arg(short = 't', long = "tracker", value_name = "URL")]
    trackers: Vec<String>,
    /// A tier of several tracker URLs, comma-separated, after the -t tiers.
    #[arg(long = "tier", value_name = "URL,URL…")]
    tiers: Vec<String>,
    /// A web seed URL (BEP 19).
    #[arg(short = 'w', long = "web-seed", value_name = "URL")]
    web_seeds: Vec<String>,
    /// A DHT node to join through, HOST:PORT (repeatable): written as `nodes` (BEP 5), for a
    /// torrent without trackers.
    #[arg(long = "dht-node", value_name = "HOST:PORT", value_parser = parse_node)]
    dht_nodes: Vec<(String, u16)>,
    /// Mark the torrent private (BEP 27): peers only from its trackers.
    #[arg(short = 'p', long)]
    private: bool,
    /// The `source` field, which private trackers use to make info-hashes unique.
    #[arg(short = 's', long)]
    source: Option<String>,
    /// A comment.
    #[arg(short = 'c', long)]
    comment: Option<String>,
    /// Write a hybrid v1 + v2 torrent (BEP 52, with BEP 47 padding files).
    #[arg(long, conflicts_with = "v2")]
    hybrid: bool,
    /// Write a v2-only torrent (BEP 52).
    #[arg(long)]
    v2: bool,
    /// Piece length, e.g. 262144, 256KiB or 1MiB (a power of two); chosen automatically if absent.
    #[arg(short = 'l', long, value_name = "BYTES", value_parser = parse_bytes)]
    piece_length: Option<u64>,
    /// Leave out the creation date, so the same input always gives the same file.
    #[arg(long)]
    no_date: bool,
    /// Hashing threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Where to write the torrent; default `<name>.torrent` in the current directory.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Overwrite the output file if it exists.
    #[arg(short = 'f', long)]
    force: bool,
}

/// Runs `nexsuj create`.
pub fn run(args: CreateArgs) -> Result<Outcome> {
    let name = args
        .path
        .canonicalize()
        .with_context(|| format!("cannot open {}", args.path.display()))?
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .context("the path has no file name")?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{name}.torrent")));
    if output.exists() && !args.force {
        bail!("{} already exists (use --force to overwrite)", output.display());
    }
    let builder = configure(&args);
    let scanned = builder
        .scan()
        .with_context(|| format!("cannot read {}", args.path.display()))?;
    let bar = bytes_bar(scanned.total_size(), "hashing");
    let bytes = builder
        .build_scanned(&scanned, &|n| bar.inc(n))
        .with_context(|| format!("cannot hash {}", args.path.display()))?;
    bar.finish_and_clear();
    write_atomically(&output, &bytes)?;
    let t = Torrent::from_bytes(&bytes).context("the new torrent does not read back (a bug)")?;
    let mut hashes = Vec::new();
    if let Some(h) = t.info_hash_v1() {
        hashes.push(format!("v1 {h}"));
    }
    if let Some(h) = t.info_hash_v2() {
        hashes.push(format!("v2 {h}"));
    }
    crate::output::stderr_line(&format!(
        "wrote {}: {} in {} files, {} pieces of {}, info-hash {}",
        output.display(),
        human(t.info.total_size()),
        t.info.files.iter().filter(|f| !f.is_pad()).count(),
        t.info.num_pieces(),
        human(t.info.piece_length),
        hashes.join(", ")
    ));
    Ok(Outcome::Ok)
}

fn configure(args: &CreateArgs) -> TorrentBuilder {
    let version = match (args.hybrid, args.v2) {
        (true, _) => TorrentVersion::Hybrid,
        (false, true) => TorrentVersion::V2,
        _ => TorrentVersion::V1,
    };
    let date = if args.no_date {
        None
    } else {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_secs()).ok())
    };
    let mut b = TorrentBuilder::new(args.path.clone())
        .version(version)
        .private(args.private)
        .piece_length(args.piece_length)
        .creation_date(date)
        .threads(args.threads);
    for t in &args.trackers {
        b = b.announce_tier(vec![t.clone()]);
    }
    for tier in &args.tiers {
        let urls: Vec<String> = tier
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(String::from)
            .collect();
        if !urls.is_empty() {
            b = b.announce_tier(urls);
        }
    }
    for w in &args.web_seeds {
        b = b.web_seed(w.clone());
    }
    for (host, port) in &args.dht_nodes {
        b = b.dht_node(host.clone(), *port);
    }
    if let Some(s) = &args.source {
        b = b.source(s.clone());
    }
    if let Some(c) = &args.comment {
        b = b.comment(c.clone());
    }
    b
}

/// Never a half-written torrent (see [`client::storage::replace_file`]).
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    client::storage::replace_file(path, bytes, 0o666)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// `HOST:PORT` (`[v6]:PORT` too) as `(host, port)`.
fn parse_node(s: &str) -> Result<(String, u16), String> {
    let (host, port) = s.rsplit_once(':').ok_or("expected HOST:PORT")?;
    let port = port.parse().map_err(|_| format!("bad port {port:?}"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err("expected HOST:PORT".into());
    }
    Ok((host.to_owned(), port))
}
