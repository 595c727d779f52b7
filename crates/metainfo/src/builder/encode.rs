//! Writing the metainfo dictionary: v1 keys (BEP 3, 12, 19, 27, 47), v2 keys (BEP 52) or both.

use std::borrow::Cow;
use std::collections::BTreeMap;

use bencode::ByteStr;
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::TorrentBuilder;
use super::error::BuildError;
use super::hash::FileRoot;
use super::layout::Layout;
use super::scan::ScannedContent;

/// The top-level dictionary.
#[derive(serde::Serialize)]
struct MetaInfo<'a> {
    announce: Option<&'a str>,
    #[serde(rename = "announce-list")]
    announce_list: Option<Vec<&'a [String]>>,
    comment: Option<&'a str>,
    #[serde(rename = "created by")]
    created_by: Option<&'a str>,
    #[serde(rename = "creation date")]
    creation_date: Option<i64>,
    info: Info<'a>,
    nodes: Option<Vec<(&'a str, u16)>>,
    #[serde(rename = "piece layers")]
    piece_layers: Option<BTreeMap<ByteStr<'a>, ByteStr<'a>>>,
    #[serde(rename = "url-list")]
    url_list: Option<&'a [String]>,
}

/// The `info` dictionary.
#[derive(serde::Serialize)]
struct Info<'a> {
    #[serde(rename = "file tree")]
    file_tree: Option<BTreeMap<&'a str, Node<'a>>>,
    files: Option<Vec<V1File<'a>>>,
    length: Option<u64>,
    #[serde(rename = "meta version")]
    meta_version: Option<u8>,
    name: &'a str,
    #[serde(rename = "piece length")]
    piece_length: u64,
    pieces: Option<ByteStr<'a>>,
    private: Option<u8>,
    source: Option<&'a str>,
}

/// One entry of the v1 `files` list; `attr` is `p` for BEP 47 padding files.
#[derive(serde::Serialize)]
struct V1File<'a> {
    attr: Option<&'static str>,
    length: u64,
    path: Vec<Cow<'a, str>>,
}

/// A node of the BEP 52 `file tree`: a directory of named children, or a file, written as
/// `{"": {"length": .., "pieces root": ..}}`.
enum Node<'a> {
    Dir(BTreeMap<&'a str, Node<'a>>),
    File(Leaf<'a>),
}

/// The properties of a file in the `file tree`; empty files have no `pieces root`.
#[derive(serde::Serialize)]
struct Leaf<'a> {
    length: u64,
    #[serde(rename = "pieces root")]
    pieces_root: Option<ByteStr<'a>>,
}

impl Serialize for Node<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Dir(children) => children.serialize(s),
            Node::File(leaf) => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("", leaf)?;
                map.end()
            }
        }
    }
}

/// What hashing produced, ready to be written.
pub(crate) struct Hashed<'h> {
    /// Concatenated SHA-1 piece hashes (v1 and hybrid).
    pub(crate) pieces: Option<&'h [u8]>,
    /// Per-file v2 hashes (v2 and hybrid; `None` for empty files).
    pub(crate) roots: Option<Vec<Option<FileRoot<'h>>>>,
}

/// Bencodes the whole torrent.
pub(crate) fn encode(
    builder: &TorrentBuilder,
    content: &ScannedContent,
    layout: &Layout<'_>,
    hashed: &Hashed<'_>,
) -> Result<Vec<u8>, BuildError> {
    let tiers: Vec<&[String]> = builder
        .tiers
        .iter()
        .filter(|t| !t.is_empty())
        .map(Vec::as_slice)
        .collect();
    let url_count: usize = tiers.iter().map(|t| t.len()).sum();
    let v1 = hashed.pieces.is_some();
    let roots = hashed.roots.as_deref();
    let single = content.is_single_file();
    let info = Info {
        file_tree: roots.map(|roots| file_tree(content, roots)),
        files: (v1 && !single).then(|| v1_files(layout)),
        length: (v1 && single).then(|| content.total_size()),
        meta_version: roots.map(|_| 2),
        name: content.name(),
        piece_length: content.piece_length(),
        pieces: hashed.pieces.map(ByteStr),
        private: builder.private.then_some(1),
        source: builder.source.as_deref(),
    };
    let meta = MetaInfo {
        announce: tiers.first().and_then(|t| t.first()).map(String::as_str),
        announce_list: (url_count > 1).then_some(tiers),
        comment: builder.comment.as_deref(),
        created_by: Some(builder.created_by.as_str()).filter(|s| !s.is_empty()),
        creation_date: builder.creation_date,
        info,
        nodes: Some(
            builder
                .dht_nodes
                .iter()
                .map(|(h, p)| (h.as_str(), *p))
                .collect::<Vec<_>>(),
        )
        .filter(|n| !n.is_empty()),
        piece_layers: roots.map(piece_layers),
        url_list: Some(builder.web_seeds.as_slice()).filter(|u| !u.is_empty()),
    };
    Ok(bencode::to_bytes(&meta)?)
}

/// The v1 `files` list, with a padding file wherever the layout has one.
fn v1_files<'a>(layout: &Layout<'a>) -> Vec<V1File<'a>> {
    let mut out = Vec::with_capacity(layout.files().len());
    for (file, &pad) in layout.files().iter().zip(layout.pads()) {
        let path = file.path().iter().map(|c| Cow::Borrowed(c.as_str())).collect();
        out.push(V1File {
            attr: None,
            length: file.length(),
            path,
        });
        if pad > 0 {
            let path = vec![Cow::Borrowed(".pad"), Cow::Owned(pad.to_string())];
            out.push(V1File {
                attr: Some("p"),
                length: pad,
                path,
            });
        }
    }
    out
}

/// The BEP 52 `file tree`; a single file sits directly under the torrent name.
fn file_tree<'a>(
    content: &'a ScannedContent,
    roots: &'a [Option<FileRoot<'_>>],
) -> BTreeMap<&'a str, Node<'a>> {
    let mut tree = BTreeMap::new();
    for (file, root) in content.files().iter().zip(roots) {
        let leaf = Leaf {
            length: file.length(),
            pieces_root: root.as_ref().map(|r| ByteStr(&r.root[..])),
        };
        if content.is_single_file() {
            tree.insert(content.name(), Node::File(leaf));
        } else {
            insert(&mut tree, file.path(), leaf);
        }
    }
    tree
}

/// Puts `leaf` at `path` under `dir`, creating directories on the way. The scan yields unique
/// paths and no file is also a directory, so nothing is ever overwritten.
fn insert<'a>(dir: &mut BTreeMap<&'a str, Node<'a>>, path: &'a [String], leaf: Leaf<'a>) {
    match path {
        [] => {}
        [name] => {
            dir.insert(name, Node::File(leaf));
        }
        [name, rest @ ..] => {
            if let Node::Dir(sub) = dir.entry(name).or_insert_with(|| Node::Dir(BTreeMap::new())) {
                insert(sub, rest, leaf);
            }
        }
    }
}

/// `piece layers`: pieces root → concatenated piece hashes, for files larger than one piece.
fn piece_layers<'a>(roots: &'a [Option<FileRoot<'_>>]) -> BTreeMap<ByteStr<'a>, ByteStr<'a>> {
    roots
        .iter()
        .flatten()
        .filter(|r| !r.layer.is_empty())
        .map(|r| (ByteStr(&r.root[..]), ByteStr(r.layer.as_flattened())))
        .collect()
}
