//! Canonical peer priority (BEP 40): a rank that both ends of a connection compute alike, so
//! that when peer lists are trimmed or connection slots are full, the whole swarm agrees on
//! which connections to keep and an attacker cannot pick its place.
//!
//! The rank is the CRC-32C of the two addresses, masked by how close they are and sorted;
//! two ports when the addresses are equal. IPv6 follows libtorrent: the upper 64 bits take
//! the widened masks (/32 and /48 play the roles of /16 and /24), the lower 64 are hashed
//! as they are.

use std::net::{IpAddr, SocketAddr};

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) of `data`, as BEP 40 uses it.
pub fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc = TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

/// One byte's worth of the CRC, for each byte value.
static TABLE: [u32; 256] = table();

const fn table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ 0x82F6_3B78
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

/// The BEP 40 priority of a connection between `a` and `b` (symmetric; higher is kept
/// first). Mixed families compare an IPv4 address as its IPv4-mapped IPv6 form.
pub fn peer_priority(a: SocketAddr, b: SocketAddr) -> u32 {
    let (ia, ib) = (a.ip().to_canonical(), b.ip().to_canonical());
    if ia == ib {
        let (lo, hi) = (a.port().min(b.port()), a.port().max(b.port()));
        let mut buf = [0u8; 4];
        buf[..2].copy_from_slice(&lo.to_be_bytes());
        buf[2..].copy_from_slice(&hi.to_be_bytes());
        return crc32c(&buf);
    }
    match (ia, ib) {
        (IpAddr::V4(x), IpAddr::V4(y)) => {
            let (x, y) = (x.octets(), y.octets());
            // Same /24: whole addresses; same /16: mask 255.255.255.0x55; else 255.255.0x55.0x55.
            let mask = if x[..3] == y[..3] {
                [0xff; 4]
            } else if x[..2] == y[..2] {
                [0xff, 0xff, 0xff, 0x55]
            } else {
                [0xff, 0xff, 0x55, 0x55]
            };
            hash_sorted(&masked(x, &mask), &masked(y, &mask))
        }
        (x, y) => {
            let (x, y) = (v6_octets(x), v6_octets(y));
            // /32 and /48 in place of /16 and /24, on the upper half only.
            let upper: [u8; 8] = if x[..6] == y[..6] {
                [0xff; 8]
            } else if x[..4] == y[..4] {
                [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x55, 0x55]
            } else {
                [0xff, 0xff, 0xff, 0xff, 0x55, 0x55, 0x55, 0x55]
            };
            let mut mask = [0xff; 16];
            mask[..8].copy_from_slice(&upper);
            hash_sorted(&masked(x, &mask), &masked(y, &mask))
        }
    }
}

fn v6_octets(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

fn masked<const N: usize>(mut ip: [u8; N], mask: &[u8; N]) -> [u8; N] {
    for (b, m) in ip.iter_mut().zip(mask) {
        *b &= m;
    }
    ip
}

/// CRC-32C of the two masked addresses, lower first.
fn hash_sorted<const N: usize>(x: &[u8; N], y: &[u8; N]) -> u32 {
    let (lo, hi) = if x <= y { (x, y) } else { (y, x) };
    let mut buf = [0u8; 32];
    buf[..N].copy_from_slice(lo);
    buf[N..2 * N].copy_from_slice(hi);
    crc32c(&buf[..2 * N])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn crc32c_check_values() {
        // The standard check value, and RFC 3720 (iSCSI) B.4: 32 bytes of zeros, of ones.
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(&[0; 32]), 0x8A91_36AA);
        assert_eq!(crc32c(&[0xff; 32]), 0x62A8_AB43);
        assert_eq!(crc32c(b""), 0);
    }

    #[test]
    fn bep_40_test_vectors() {
        assert_eq!(
            peer_priority(ep("123.213.32.10:0"), ep("98.76.54.32:0")),
            0xec2d_7224
        );
        assert_eq!(
            peer_priority(ep("123.213.32.10:0"), ep("123.213.32.234:0")),
            0x9956_8189
        );
    }

    #[test]
    fn masks_follow_the_distance_between_the_addresses() {
        // The cases of libtorrent's test_peer_priority, hashed by hand.
        let same_ip = peer_priority(ep("230.12.123.3:1234"), ep("230.12.123.3:300"));
        assert_eq!(same_ip, crc32c(&[0x01, 0x2c, 0x04, 0xd2]));
        let same_24 = peer_priority(ep("230.12.123.1:1234"), ep("230.12.123.3:300"));
        assert_eq!(same_24, crc32c(&[0xe6, 0x0c, 0x7b, 0x01, 0xe6, 0x0c, 0x7b, 0x03]));
        let same_16 = peer_priority(ep("230.12.23.1:1234"), ep("230.12.123.3:300"));
        assert_eq!(same_16, crc32c(&[0xe6, 0x0c, 0x17, 0x01, 0xe6, 0x0c, 0x7b, 0x01]));
        let apart = peer_priority(ep("230.120.23.1:1234"), ep("230.12.123.3:300"));
        assert_eq!(apart, crc32c(&[0xe6, 0x0c, 0x51, 0x01, 0xe6, 0x78, 0x15, 0x01]));

        let v6_same = peer_priority(
            ep("[ffff:ffff:ffff:ffff::1]:1234"),
            ep("[ffff:ffff:ffff:ffff::1]:300"),
        );
        assert_eq!(v6_same, crc32c(&[0x01, 0x2c, 0x04, 0xd2]));
        let v6_apart = peer_priority(
            ep("[ffff:ffff:ffff:ffff::1]:1234"),
            ep("[ffff:0fff:ffff:ffff::1]:300"),
        );
        let mut expected = Vec::new();
        expected.extend_from_slice(&[
            0xff, 0xff, 0x0f, 0xff, 0x55, 0x55, 0x55, 0x55, 0, 0, 0, 0, 0, 0, 0, 1,
        ]);
        expected.extend_from_slice(&[
            0xff, 0xff, 0xff, 0xff, 0x55, 0x55, 0x55, 0x55, 0, 0, 0, 0, 0, 0, 0, 1,
        ]);
        assert_eq!(v6_apart, crc32c(&expected));
    }

    #[test]
    fn the_priority_is_symmetric_and_mapped_addresses_count_as_ipv4() {
        let (a, b) = (ep("10.1.2.3:6881"), ep("192.168.7.9:51413"));
        assert_eq!(peer_priority(a, b), peer_priority(b, a));
        assert_eq!(
            peer_priority(ep("[::ffff:10.1.2.3]:6881"), b),
            peer_priority(a, b)
        );
        let v6 = ep("[2001:db8::1]:6881");
        assert_eq!(peer_priority(a, v6), peer_priority(v6, a));
    }
}
