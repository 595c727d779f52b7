//! The compact form of a peer or node address that trackers (BEP 23, 7), PEX (BEP 11) and the
//! DHT (BEP 5, 32) share: the IP's 4 or 16 bytes, then the port, big-endian.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// An address from 6 bytes (IPv4) or 18 (IPv6); anything else is `None`.
pub fn decode(b: &[u8]) -> Option<SocketAddr> {
    let (ip, port) = b.split_at(b.len().checked_sub(2)?);
    let port = u16::from_be_bytes([port[0], port[1]]);
    let ip = match ip.len() {
        4 => IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(ip).ok()?)),
        16 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(ip).ok()?)),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// Appends an address in compact form (6 or 18 bytes).
pub fn write(out: &mut Vec<u8>, a: &SocketAddr) {
    match a.ip() {
        IpAddr::V4(ip) => out.extend_from_slice(&ip.octets()),
        IpAddr::V6(ip) => out.extend_from_slice(&ip.octets()),
    }
    out.extend_from_slice(&a.port().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_families_round_trip() {
        for a in ["10.1.2.3:6881", "[2001:db8::1]:51413"] {
            let a: SocketAddr = a.parse().unwrap();
            let mut b = Vec::new();
            write(&mut b, &a);
            assert_eq!(decode(&b), Some(a));
        }
        assert_eq!(decode(&[1, 2, 3]), None);
        assert_eq!(decode(&[]), None);
    }
}
