//! ut_pex (BEP 11): peers the sender connected to (`added`, with flags) or dropped since its
//! last message, as compact addresses.

use std::net::{IpAddr, SocketAddr};

use bencode::{DecodeOptions, Dict, Value, write_bytes};

use crate::error::WireError;

/// The most peers read from one message, per list (BEP 11 asks senders for at most 50).
pub const MAX_PEX_PEERS: usize = 200;

/// `added.f` flag: the peer prefers encryption.
pub const FLAG_ENCRYPTION: u8 = 0x01;
/// `added.f` flag: the peer is a seed.
pub const FLAG_SEED: u8 = 0x02;
/// `added.f` flag: the peer accepts incoming connections.
pub const FLAG_CONNECTABLE: u8 = 0x10;

/// One ut_pex message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pex {
    /// `added`/`added6` with their `added.f`/`added6.f` flags (0 when absent).
    pub added: Vec<(SocketAddr, u8)>,
    /// `dropped`/`dropped6`.
    pub dropped: Vec<SocketAddr>,
}

fn list<'a>(d: &Dict<'a>, key: &[u8], stride: usize) -> impl Iterator<Item = SocketAddr> + 'a {
    let bytes = d.get(key).and_then(Value::as_bytes).unwrap_or_default();
    bytes
        .chunks_exact(stride)
        .take(MAX_PEX_PEERS)
        .filter_map(ids::compact::decode)
}

fn write_list(out: &mut Vec<u8>, key: &[u8], addrs: &[SocketAddr], v4: bool) {
    let mut bytes = Vec::new();
    for a in addrs.iter().filter(|a| a.is_ipv4() == v4) {
        match a.ip() {
            IpAddr::V4(ip) => bytes.extend_from_slice(&ip.octets()),
            IpAddr::V6(ip) => bytes.extend_from_slice(&ip.octets()),
        }
        bytes.extend_from_slice(&a.port().to_be_bytes());
    }
    write_bytes(out, key);
    write_bytes(out, &bytes);
}

impl Pex {
    /// Parses a ut_pex payload. Malformed lists are skipped rather than refused.
    pub fn parse(payload: &[u8]) -> Result<Self, WireError> {
        let root = DecodeOptions::lenient()
            .max_depth(4)
            .decode(payload)
            .map_err(|_| WireError::InvalidExtension {
                what: "ut_pex message",
                reason: "not a bencoded dictionary",
            })?;
        let d = root.as_dict().ok_or(WireError::InvalidExtension {
            what: "ut_pex message",
            reason: "not a dictionary",
        })?;
        let mut out = Self::default();
        for (key, flags_key, stride) in [(&b"added"[..], &b"added.f"[..], 6), (b"added6", b"added6.f", 18)] {
            let flags = d.get(flags_key).and_then(Value::as_bytes).unwrap_or_default();
            for (i, a) in list(d, key, stride).enumerate() {
                out.added.push((a, flags.get(i).copied().unwrap_or(0)));
            }
        }
        out.dropped.extend(list(d, b"dropped", 6));
        out.dropped.extend(list(d, b"dropped6", 18));
        Ok(out)
    }

    /// Appends the bencoded payload to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        let addrs: Vec<SocketAddr> = self.added.iter().map(|(a, _)| *a).collect();
        let flags = |v4: bool| -> Vec<u8> {
            self.added
                .iter()
                .filter(|(a, _)| a.is_ipv4() == v4)
                .map(|(_, f)| *f)
                .collect()
        };
        out.push(b'd');
        write_list(out, b"added", &addrs, true);
        write_bytes(out, b"added.f");
        write_bytes(out, &flags(true));
        write_list(out, b"added6", &addrs, false);
        write_bytes(out, b"added6.f");
        write_bytes(out, &flags(false));
        write_list(out, b"dropped", &self.dropped, true);
        write_list(out, b"dropped6", &self.dropped, false);
        out.push(b'e');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_both_families() {
        let p = Pex {
            added: vec![
                ("10.0.0.1:6881".parse().unwrap(), FLAG_SEED),
                ("[::1]:7000".parse().unwrap(), FLAG_CONNECTABLE),
            ],
            dropped: vec!["1.2.3.4:5".parse().unwrap()],
        };
        let mut out = Vec::new();
        p.write(&mut out);
        assert!(bencode::decode(&out).is_ok());
        assert_eq!(Pex::parse(&out), Ok(p));
    }
}
