//! The unit that per-address limits count: an IPv4 address, or an IPv6 /64 (the smallest
//! block a host is given, so a host holds 2^64 addresses and counting single ones limits
//! nothing).

use std::net::{IpAddr, Ipv6Addr};

/// An address as per-address limits count it: IPv4 (IPv4-mapped IPv6 included) as itself,
/// IPv6 with its low 64 bits cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpGroup(IpAddr);

impl IpGroup {
    /// The group's address (an IPv6 one with its interface bits zero).
    pub fn addr(self) -> IpAddr {
        self.0
    }
}

impl std::fmt::Display for IpGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V4(a) => a.fmt(f),
            IpAddr::V6(a) => write!(f, "{a}/64"),
        }
    }
}

/// The group `ip` belongs to.
pub fn ip_group(ip: IpAddr) -> IpGroup {
    match canonical(ip) {
        IpAddr::V6(a) => IpGroup(IpAddr::V6(Ipv6Addr::from(u128::from(a) & !u128::from(u64::MAX)))),
        v4 => IpGroup(v4),
    }
}

/// `ip`, with an IPv4-mapped IPv6 address (a dual-stack socket's view of an IPv4 client)
/// turned back into IPv4.
pub(crate) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(a) => a.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_is_grouped_by_its_first_64_bits() {
        let g = |s: &str| ip_group(s.parse().unwrap());
        assert_eq!(g("2001:db8:1:2::1"), g("2001:db8:1:2:ffff:1:2:3"));
        assert_ne!(g("2001:db8:1:2::1"), g("2001:db8:1:3::1"));
        assert_eq!(g("2001:db8:1:2:3:4:5:6").to_string(), "2001:db8:1:2::/64");
        assert_eq!(g("::ffff:1.2.3.4"), g("1.2.3.4"));
        assert_ne!(g("1.2.3.4"), g("1.2.3.5"));
    }
}
