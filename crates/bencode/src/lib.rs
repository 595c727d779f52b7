//! Strict bencode (BEP 3) for nexsuj.
//!
//! - [`decode`] parses `&[u8]` into a borrowed [`Value`] tree without copying strings, and every
//!   value remembers its exact bytes ([`Value::raw`]), so an info-hash is computed over the
//!   `info` dictionary as it appears in the file, never over a re-encoding.
//! - Strict by default: `i-0e`, leading zeros, unsorted or duplicate keys, non-string keys,
//!   trailing bytes and truncation are each their own [`DecodeErrorKind`], reported with a byte
//!   offset and a key path. [`DecodeOptions::lenient`] accepts unsorted keys for torrents found
//!   in the wild. Depth, input size and string length are limited.
//! - [`to_bytes`] / [`from_bytes`] encode and decode any serde type; dictionaries are written
//!   with sorted keys and `None` fields are left out. [`ByteBuf`] and [`ByteStr`] mark byte
//!   strings, [`Raw`] embeds bytes that are already bencoded.
//!
//! ```
//! #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
//! struct Peer<'a> {
//!     ip: &'a str,
//!     port: u16,
//! }
//! let bytes = bencode::to_bytes(&Peer { ip: "10.0.0.1", port: 6881 }).unwrap();
//! assert_eq!(bytes, b"d2:ip8:10.0.0.14:porti6881ee");
//! assert_eq!(bencode::from_bytes::<Peer>(&bytes).unwrap(), Peer { ip: "10.0.0.1", port: 6881 });
//!
//! let value = bencode::decode(b"d4:infod4:name1:xee").unwrap();
//! assert_eq!(value.get(b"info").unwrap().raw(), b"d4:name1:xe");
//! assert!(bencode::decode(b"i03e").is_err());
//! ```

mod bytes;
mod de;
mod decode;
mod encode;
mod error;
mod ser;
mod value;

pub use bytes::{ByteBuf, ByteStr, Raw};
pub use de::{from_bytes, from_value};
pub use decode::{DecodeOptions, decode};
pub use encode::{write_bytes, write_int};
pub use error::{DecodeError, DecodeErrorKind, EncodeError, KeyPath, PathSegment};
pub use ser::to_bytes;
pub use value::{Dict, Kind, Value};
