//! The files of a torrent: the v1 `files` list (BEP 3, with BEP 47 attributes) and the v2
//! `file tree` (BEP 52).

use bencode::Value;

use crate::error::{MetainfoError, PathProblem, invalid};
use crate::path::{FilePath, MAX_PATH_DEPTH, check_component};
use crate::read::{DictReader, KeyBase, wrong};

/// Most files a torrent may list; more is refused as hostile.
pub const MAX_FILES: usize = 1_000_000;

/// File attributes of BEP 47.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileAttr {
    /// `p`: a padding file of zeros that aligns the next file to a piece boundary.
    pub pad: bool,
    /// `x`: executable.
    pub executable: bool,
    /// `h`: hidden.
    pub hidden: bool,
    /// `l`: a symbolic link (see [`FileEntry::symlink`]).
    pub symlink: bool,
}

impl FileAttr {
    fn parse(attr: &[u8]) -> Self {
        Self {
            pad: attr.contains(&b'p'),
            executable: attr.contains(&b'x'),
            hidden: attr.contains(&b'h'),
            symlink: attr.contains(&b'l'),
        }
    }
}

/// One file of a torrent, placed in the torrent's byte space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Path relative to the torrent's folder; for a single-file torrent, its name.
    pub path: FilePath,
    /// Length in bytes.
    pub length: u64,
    /// Where the file starts in the torrent's byte space (v2 files start on piece boundaries).
    pub offset: u64,
    /// BEP 47 attributes.
    pub attr: FileAttr,
    /// Target of a symbolic link, relative to the torrent's folder (BEP 47 `symlink path`).
    pub symlink: Option<FilePath>,
    /// Root of the file's v2 merkle tree (BEP 52), absent for empty files and v1 torrents.
    pub pieces_root: Option<[u8; 32]>,
}

impl FileEntry {
    /// True for BEP 47 padding files.
    pub fn is_pad(&self) -> bool {
        self.attr.pad
    }

    /// One past the last byte in the torrent's byte space.
    pub fn end(&self) -> u64 {
        self.offset + self.length
    }
}

fn unsafe_path(key: String, parts: &[&[u8]], reason: PathProblem) -> MetainfoError {
    let path = parts
        .iter()
        .map(|p| String::from_utf8_lossy(p))
        .collect::<Vec<_>>()
        .join("/");
    MetainfoError::UnsafePath { key, path, reason }
}

fn length(r: &DictReader<'_, '_>) -> Result<u64, MetainfoError> {
    let n = r.req_int("length")?;
    u64::try_from(n).map_err(|_| invalid(r.key("length"), format!("negative length {n}")))
}

fn string_list<'a>(list: &[Value<'a>], key: impl Fn() -> String) -> Result<Vec<&'a [u8]>, MetainfoError> {
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_bytes()
                .ok_or_else(|| wrong(format!("{}[{i}]", key()), "a string", v))
        })
        .collect()
}

/// Reads one entry of the v1 `files` list. `path.utf-8` wins over `path` when present.
fn v1_file(value: &Value<'_>, index: usize) -> Result<FileEntry, MetainfoError> {
    let r = DictReader::new(value, KeyBase::Indexed("info.files", index))?;
    let length = length(&r)?;
    let path_key = if r.get("path.utf-8").is_some() {
        "path.utf-8"
    } else {
        "path"
    };
    let list = r
        .opt_list(path_key)?
        .ok_or_else(|| crate::error::missing(r.key("path")))?;
    let parts = string_list(list, || r.key(path_key))?;
    let path = FilePath::from_bytes(&parts).map_err(|e| unsafe_path(r.key(path_key), &parts, e))?;
    let attr = FileAttr::parse(r.opt_bytes("attr")?.unwrap_or_default());
    let symlink = match attr.symlink {
        true => match r.opt_list("symlink path")? {
            Some(list) => {
                let parts = string_list(list, || r.key("symlink path"))?;
                Some(
                    FilePath::from_bytes(&parts)
                        .map_err(|e| unsafe_path(r.key("symlink path"), &parts, e))?,
                )
            }
            None => None,
        },
        false => None,
    };
    Ok(FileEntry {
        path,
        length,
        offset: 0,
        attr,
        symlink,
        pieces_root: None,
    })
}

/// Reads the v1 `files` list, placing the files back to back.
pub(crate) fn v1_files(list: &[Value<'_>]) -> Result<Vec<FileEntry>, MetainfoError> {
    if list.is_empty() {
        return Err(invalid("info.files", "the list is empty"));
    }
    if list.len() > MAX_FILES {
        return Err(invalid("info.files", format!("more than {MAX_FILES} files")));
    }
    let mut offset = 0u64;
    let mut out = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let mut f = v1_file(v, i)?;
        f.offset = offset;
        offset = offset
            .checked_add(f.length)
            .ok_or_else(|| invalid("info.files", "total size overflows"))?;
        out.push(f);
    }
    Ok(out)
}

/// Reads the v2 `file tree` (files in tree order, offsets still zero).
pub(crate) fn v2_files(tree: &Value<'_>) -> Result<Vec<FileEntry>, MetainfoError> {
    let mut out = Vec::new();
    let mut stack = Vec::new();
    walk_tree(tree, "info.file tree".to_owned(), &mut stack, &mut out)?;
    if out.is_empty() {
        return Err(invalid("info.file tree", "no files"));
    }
    Ok(out)
}

fn walk_tree<'a>(
    node: &Value<'a>,
    key: String,
    stack: &mut Vec<&'a [u8]>,
    out: &mut Vec<FileEntry>,
) -> Result<(), MetainfoError> {
    let r = DictReader::new(node, key)?;
    if let Some(leaf) = r.get("") {
        if r.dict.len() != 1 {
            return Err(invalid(r.path(), "a node is both a file and a directory"));
        }
        return tree_leaf(leaf, r.key(""), stack, out);
    }
    if stack.len() >= MAX_PATH_DEPTH {
        return Err(unsafe_path(r.path(), stack, PathProblem::TooDeep));
    }
    for (name, child) in r.dict.iter() {
        stack.push(name);
        if let Err(reason) = check_component(name) {
            return Err(unsafe_path(r.path(), stack, reason));
        }
        walk_tree(child, r.key(&String::from_utf8_lossy(name)), stack, out)?;
        stack.pop();
    }
    Ok(())
}

fn tree_leaf(
    leaf: &Value<'_>,
    key: String,
    stack: &[&[u8]],
    out: &mut Vec<FileEntry>,
) -> Result<(), MetainfoError> {
    if out.len() >= MAX_FILES {
        return Err(invalid("info.file tree", format!("more than {MAX_FILES} files")));
    }
    let r = DictReader::new(leaf, key)?;
    let length = length(&r)?;
    let path = FilePath::from_bytes(stack).map_err(|e| unsafe_path(r.path(), stack, e))?;
    let pieces_root = match r.opt_bytes("pieces root")? {
        Some(root) => Some(
            <[u8; 32]>::try_from(root)
                .map_err(|_| invalid(r.key("pieces root"), format!("{} bytes, expected 32", root.len())))?,
        ),
        None if length > 0 => return Err(crate::error::missing(r.key("pieces root"))),
        None => None,
    };
    let attr = FileAttr::parse(r.opt_bytes("attr")?.unwrap_or_default());
    out.push(FileEntry {
        path,
        length,
        offset: 0,
        attr,
        symlink: None,
        pieces_root,
    });
    Ok(())
}
