//! `nexsuj verify`: check data on disk against a torrent, list bad pieces and affected files.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;

use crate::Outcome;
use crate::progress::bytes_bar;

/// Arguments of `nexsuj verify`.
#[derive(Args)]
pub struct VerifyArgs {
    /// The .torrent file.
    torrent: PathBuf,
    /// The folder that holds the torrent's content (its file, or its folder).
    dir: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct VerifyJson {
    ok: bool,
    num_pieces: u64,
    bad_pieces: Vec<u64>,
    bad_files: Vec<String>,
    missing_files: Vec<String>,
    wrong_size_files: Vec<String>,
}

/// Runs `nexsuj verify`; exit 1 when anything is missing or wrong.
pub fn run(args: VerifyArgs) -> Result<Outcome> {
    let torrent = crate::info::load(&args.torrent)?;
    if !args.dir.is_dir() {
        anyhow::bail!("{} is not a directory", args.dir.display());
    }
    let bar = bytes_bar(torrent.info.byte_space_len(), "verifying");
    let report = metainfo::verify::verify(&torrent, &args.dir, &|n| bar.inc(n))
        .with_context(|| format!("cannot verify {}", args.dir.display()))?;
    bar.finish_and_clear();
    let names = |idx: &[usize]| {
        idx.iter()
            .map(|&i| torrent.info.files[i].path.to_string())
            .collect::<Vec<_>>()
    };
    let j = VerifyJson {
        ok: report.is_ok(),
        num_pieces: report.num_pieces,
        bad_pieces: report.bad_pieces.clone(),
        bad_files: names(&report.bad_files),
        missing_files: names(&report.missing_files),
        wrong_size_files: names(&report.wrong_size_files),
    };
    if args.json {
        crate::output::stdout(&(serde_json::to_string_pretty(&j)? + "\n"))?;
    } else {
        crate::output::stdout(&render_text(&j))?;
    }
    Ok(if j.ok { Outcome::Ok } else { Outcome::Problems })
}

fn render_text(j: &VerifyJson) -> String {
    if j.ok {
        return format!("ok: all {} pieces match\n", j.num_pieces);
    }
    let mut text = String::new();
    if !j.bad_pieces.is_empty() {
        let (bad, all, which) = (j.bad_pieces.len(), j.num_pieces, ranges(&j.bad_pieces));
        text += &format!("{bad} of {all} pieces do not match: {which}\n");
    }
    let lists = [
        ("missing", &j.missing_files),
        ("wrong size", &j.wrong_size_files),
        ("damaged", &j.bad_files),
    ];
    for (label, list) in lists {
        for f in list {
            text += &format!("{label}: {f}\n");
        }
    }
    text
}

/// `0-3, 7, 9-10`: bad pieces are usually runs.
fn ranges(pieces: &[u64]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < pieces.len() {
        let start = pieces[i];
        let mut end = start;
        while i + 1 < pieces.len() && pieces[i + 1] == end + 1 {
            i += 1;
            end += 1;
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn piece_ranges() {
        assert_eq!(super::ranges(&[0, 1, 2, 3, 7, 9, 10]), "0-3, 7, 9-10");
        assert_eq!(super::ranges(&[]), "");
    }
}
