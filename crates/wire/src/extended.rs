//! The extension protocol handshake (BEP 10): extended message 0, a bencoded dictionary that
//! maps extension names to the ids the sender wants to receive them under.

use std::net::IpAddr;

use bencode::{DecodeOptions, Dict, Value, write_bytes, write_int};

use crate::error::WireError;

/// BEP 9 metadata exchange.
pub const UT_METADATA: &str = "ut_metadata";
/// BEP 11 peer exchange.
pub const UT_PEX: &str = "ut_pex";
/// The most extensions read from one `m` dictionary.
pub const MAX_EXTENSIONS: usize = 64;

/// The BEP 10 handshake dictionary (the keys nexsuj reads and writes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtendedHandshake {
    /// `m`: extension name → the id the sender receives it under (0 = disabled), by name.
    pub extensions: Vec<(String, u8)>,
    /// `v`: client name and version.
    pub client: Option<String>,
    /// `p`: the sender's listen port.
    pub port: Option<u16>,
    /// `reqq`: how many outstanding requests the sender queues.
    pub reqq: Option<u32>,
    /// `yourip`: the address the sender sees the receiver at.
    pub your_ip: Option<IpAddr>,
    /// `metadata_size` (BEP 9): length of the info dictionary.
    pub metadata_size: Option<u64>,
    /// `upload_only` (BEP 21): the sender is a seed or partial seed.
    pub upload_only: bool,
}

fn bad(reason: &'static str) -> WireError {
    WireError::InvalidExtension {
        what: "extension handshake",
        reason,
    }
}

fn int<T: TryFrom<i64>>(d: &Dict<'_>, key: &[u8]) -> Option<T> {
    d.get(key)
        .and_then(Value::as_int)
        .and_then(|n| T::try_from(n).ok())
}

impl ExtendedHandshake {
    /// The id the sender wants `name` messages under, if it supports them.
    pub fn id_of(&self, name: &str) -> Option<u8> {
        self.extensions
            .iter()
            .find(|(n, id)| n == name && *id != 0)
            .map(|(_, id)| *id)
    }

    /// Parses the payload of extended message 0. Keys of the wrong type are ignored, as
    /// BEP 10 asks; only a payload that is not a bencoded dictionary is an error.
    pub fn parse(payload: &[u8]) -> Result<Self, WireError> {
        let root = DecodeOptions::lenient()
            .max_depth(8)
            .decode(payload)
            .map_err(|_| bad("not bencode"))?;
        let d = root.as_dict().ok_or_else(|| bad("not a dictionary"))?;
        let mut extensions = Vec::new();
        if let Some(m) = d.get(b"m").and_then(Value::as_dict) {
            for (name, v) in m.iter().take(MAX_EXTENSIONS) {
                let (Ok(name), Some(id)) = (
                    std::str::from_utf8(name),
                    v.as_int().and_then(|n| u8::try_from(n).ok()),
                ) else {
                    continue;
                };
                extensions.push((name.to_owned(), id));
            }
        }
        let your_ip = d
            .get(b"yourip")
            .and_then(Value::as_bytes)
            .and_then(|b| match b.len() {
                4 => <[u8; 4]>::try_from(b).ok().map(IpAddr::from),
                16 => <[u8; 16]>::try_from(b).ok().map(IpAddr::from),
                _ => None,
            });
        Ok(Self {
            extensions,
            client: d
                .get(b"v")
                .and_then(Value::as_bytes)
                .map(|b| String::from_utf8_lossy(&b[..b.len().min(64)]).into_owned()),
            port: int(d, b"p"),
            reqq: int(d, b"reqq"),
            your_ip,
            metadata_size: int(d, b"metadata_size"),
            upload_only: int::<i64>(d, b"upload_only").is_some_and(|n| n != 0),
        })
    }

    /// Appends the bencoded dictionary (keys in sorted order) to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(b'd');
        let mut ext: Vec<_> = self.extensions.iter().collect();
        ext.sort();
        write_bytes(out, b"m");
        out.push(b'd');
        for (name, id) in ext {
            write_bytes(out, name.as_bytes());
            write_int(out, i64::from(*id));
        }
        out.push(b'e');
        if let Some(n) = self.metadata_size {
            write_bytes(out, b"metadata_size");
            write_int(out, i64::try_from(n).unwrap_or(i64::MAX));
        }
        if let Some(p) = self.port {
            write_bytes(out, b"p");
            write_int(out, i64::from(p));
        }
        if let Some(q) = self.reqq {
            write_bytes(out, b"reqq");
            write_int(out, i64::from(q));
        }
        if self.upload_only {
            write_bytes(out, b"upload_only");
            write_int(out, 1);
        }
        if let Some(v) = &self.client {
            write_bytes(out, b"v");
            write_bytes(out, v.as_bytes());
        }
        match self.your_ip {
            Some(IpAddr::V4(a)) => {
                write_bytes(out, b"yourip");
                write_bytes(out, &a.octets());
            }
            Some(IpAddr::V6(a)) => {
                write_bytes(out, b"yourip");
                write_bytes(out, &a.octets());
            }
            None => {}
        }
        out.push(b'e');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtorrent_style_handshake() {
        let raw = b"d1:ei0e4:ipv616:\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x0112:complete_agoi-1e1:md11:lt_donthavei7e10:share_modei8e11:upload_onlyi3e12:ut_holepunchi4e11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei1234e4:reqqi500e11:upload_onlyi1e1:v18:libtorrent/2.0.8.06:yourip4:\x7f\0\0\x01e";
        let hs = ExtendedHandshake::parse(raw).unwrap();
        assert_eq!(hs.id_of(UT_METADATA), Some(2));
        assert_eq!(hs.id_of(UT_PEX), Some(1));
        assert_eq!(hs.id_of("nope"), None);
        assert_eq!(hs.metadata_size, Some(1234));
        assert_eq!(hs.reqq, Some(500));
        assert!(hs.upload_only);
        assert_eq!(hs.your_ip, Some(IpAddr::from([127, 0, 0, 1])));
        let mut out = Vec::new();
        hs.write(&mut out);
        assert!(bencode::decode(&out).is_ok(), "written keys are sorted");
        assert_eq!(ExtendedHandshake::parse(&out).unwrap(), hs);
        assert!(ExtendedHandshake::parse(b"le").is_err());
    }
}
