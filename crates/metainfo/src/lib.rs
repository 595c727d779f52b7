//! Torrent metainfo for nexsuj: reading and writing `.torrent` files and magnet links.
//!
//! - [`Torrent`] parses v1 (BEP 3), v2 and hybrid (BEP 52) torrents with every key of BEP 3,
//!   12, 19 and 27, padding files of BEP 47, and computes [`ids::InfoHash`] (SHA-1) and
//!   [`ids::InfoHashV2`] (SHA-256) over the exact `info` bytes.
//! - [`Info`] maps pieces to file ranges and back ([`Info::piece_slices`], [`Info::file_pieces`]).
//! - Every file path is checked by [`FilePath`]: nothing absolute, no `..`, `.`, empty
//!   components, separators or NUL, so a torrent can never write outside its folder.
//! - [`magnet::Magnet`] parses and formats magnet links (BEP 9, BEP 53).
//! - With the `fs` feature: `builder::TorrentBuilder` creates torrents from files with parallel
//!   hashing, and `verify` checks data on disk against a torrent. Without it the crate is pure:
//!   it reads no files and no clock (a creation date is the caller's to give).
//!
//! ```
//! let bytes = b"d4:infod6:lengthi3e4:name5:a.txt12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAAee";
//! let t = metainfo::Torrent::from_bytes(bytes).unwrap();
//! assert_eq!(t.info.name, "a.txt");
//! assert_eq!(t.info.total_size(), 3);
//! assert!(t.info_hash_v1().is_some() && t.info_hash_v2().is_none());
//! ```

#[cfg(feature = "fs")]
pub mod builder;
mod error;
mod files;
mod info;
mod layers;
mod layout;
pub mod magnet;
pub mod merkle;
mod path;
mod read;
mod torrent;
#[cfg(feature = "fs")]
pub mod verify;

pub use error::{MetainfoError, PathProblem};
pub use files::{FileAttr, FileEntry, MAX_FILES};
pub use info::{Info, Version};
pub use layout::FileSlice;
pub use path::{FilePath, MAX_PATH_DEPTH, check_component};
pub use torrent::{About, Strictness, Torrent};
