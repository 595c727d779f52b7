//! Deleting a removed torrent's data: its files (never anything outside its folder), the
//! folders the torrent made when they end up empty, and its resume files.

use std::io;
use std::path::Path;

use metainfo::Info;

/// Deletes the files of `info` under `dir`, then its emptied folders and its resume state.
/// Files already gone are fine.
pub fn delete(dir: &Path, info: &Info, info_hash: ids::InfoHash) -> io::Result<()> {
    let mut first_error = None;
    let mut note = |r: io::Result<()>| {
        if let Err(e) = r
            && e.kind() != io::ErrorKind::NotFound
        {
            first_error.get_or_insert(e);
        }
    };
    for f in &info.files {
        // Paths were checked when the torrent was read: relative, no `..`, no root.
        note(std::fs::remove_file(dir.join(info.relative_disk_path(f))));
    }
    if !info.single_file {
        // Deepest first, so that a folder is empty by the time it is tried; a folder that
        // still holds someone else's files stays.
        let mut folders: Vec<_> = info
            .files
            .iter()
            .flat_map(|f| {
                let p = dir.join(info.relative_disk_path(f));
                p.ancestors().skip(1).map(Path::to_path_buf).collect::<Vec<_>>()
            })
            .filter(|p| p.starts_with(dir.join(&info.name)))
            .collect();
        folders.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
        folders.dedup();
        for folder in folders {
            let _ = std::fs::remove_dir(folder);
        }
    }
    let state = dir.join(client::resume::STATE_DIR);
    for ext in ["resume", "journal"] {
        note(std::fs::remove_file(
            state.join(format!("{}.{ext}", info_hash.to_hex())),
        ));
    }
    let _ = std::fs::remove_dir(state);
    first_error.map_or(Ok(()), Err)
}
