//! The client's address behind a reverse proxy: `X-Forwarded-For` is believed only when the
//! connection comes from a configured trusted proxy, and then only up to the first hop that
//! is not itself trusted (anyone can prepend addresses to the header; only the hops our own
//! proxies appended are facts).

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

/// A network in CIDR form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// `network/prefix`; the address is canonicalised (an IPv4-mapped network is IPv4).
    pub fn new(network: IpAddr, prefix: u8) -> Self {
        Self {
            network: network.to_canonical(),
            prefix,
        }
    }

    /// Whether `ip` (canonicalised) is inside.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(a)) => masked(
                u128::from(u32::from(n)),
                u128::from(u32::from(a)),
                32,
                self.prefix,
            ),
            (IpAddr::V6(n), IpAddr::V6(a)) => masked(u128::from(n), u128::from(a), 128, self.prefix),
            _ => false,
        }
    }
}

fn masked(net: u128, addr: u128, bits: u8, prefix: u8) -> bool {
    let prefix = prefix.min(bits);
    if prefix == 0 {
        return true;
    }
    let shift = u32::from(bits - prefix);
    (net >> shift) == (addr >> shift)
}

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// From (network, prefix) pairs, as [`crate::config::TrackerConfig::trusted_cidrs`] gives.
    pub fn new(cidrs: impl IntoIterator<Item = (IpAddr, u8)>) -> Self {
        Self(cidrs.into_iter().map(|(n, p)| Cidr::new(n, p)).collect())
    }

    fn trusted(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    /// The client's address: the direct peer's, unless that is a trusted proxy with an
    /// `X-Forwarded-For`; then the rightmost hop that is not trusted (or the leftmost, if
    /// all are). A malformed hop ends the walk at the last good one.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if self.0.is_empty() || !self.trusted(peer) {
            return peer;
        }
        let mut client = peer;
        let values: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        for hop in values.iter().rev().flat_map(|v| v.rsplit(',')) {
            let Some(ip) = parse_hop(hop.trim()) else { break };
            client = ip;
            if !self.trusted(ip) {
                break;
            }
        }
        client
    }
}

/// `1.2.3.4`, `1.2.3.4:80`, `::1`, `[::1]:80`.
fn parse_hop(s: &str) -> Option<IpAddr> {
    s.parse::<IpAddr>()
        .or_else(|_| s.parse::<SocketAddr>().map(|a| a.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn cidrs_match_by_prefix() {
        let c = Cidr::new(ip("10.0.0.0"), 8);
        assert!(c.contains(ip("10.255.1.2")));
        assert!(c.contains(ip("::ffff:10.1.1.1")));
        assert!(!c.contains(ip("11.0.0.1")));
        assert!(!c.contains(ip("::1")));
        assert!(Cidr::new(ip("::1"), 128).contains(ip("::1")));
        assert!(Cidr::new(ip("0.0.0.0"), 0).contains(ip("8.8.8.8")));
        assert!(Cidr::new(ip("2001:db8::"), 32).contains(ip("2001:db8:1::5")));
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let p = TrustedProxies::new([(ip("127.0.0.1"), 32), (ip("10.0.0.0"), 8)]);
        let h = xff(&["203.0.113.9"]);
        assert_eq!(p.client_ip(ip("127.0.0.1"), &h), ip("203.0.113.9"));
        // From an untrusted peer the header is ignored.
        assert_eq!(p.client_ip(ip("198.51.100.1"), &h), ip("198.51.100.1"));
        // Spoofed hops on the left are skipped: the rightmost untrusted hop wins.
        let h = xff(&["1.1.1.1, 203.0.113.9", "10.0.0.5"]);
        assert_eq!(p.client_ip(ip("127.0.0.1"), &h), ip("203.0.113.9"));
        // All trusted: the leftmost. Garbage: the last good hop.
        assert_eq!(
            p.client_ip(ip("127.0.0.1"), &xff(&["10.0.0.1, 10.0.0.2"])),
            ip("10.0.0.1")
        );
        assert_eq!(
            p.client_ip(ip("127.0.0.1"), &xff(&["1.1.1.1, nonsense"])),
            ip("127.0.0.1")
        );
        assert_eq!(
            p.client_ip(ip("127.0.0.1"), &xff(&["[2001:db8::1]:443"])),
            ip("2001:db8::1")
        );
        // No proxies configured: never believed.
        assert_eq!(
            TrustedProxies::default().client_ip(ip("127.0.0.1"), &h),
            ip("127.0.0.1")
        );
    }
}
