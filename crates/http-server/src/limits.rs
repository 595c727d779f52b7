//! The limits of one server.

use std::net::IpAddr;
use std::time::Duration;

/// What one HTTP server allows; every server's config file exposes these keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLimits {
    /// Most connections open at once; past it new ones wait in the kernel's backlog.
    pub max_connections: usize,
    /// Most connections open at once from one address (IPv6: one /64); past it a new
    /// connection is closed at once. 0: no limit.
    pub max_connections_per_ip: usize,
    /// Addresses not held to `max_connections_per_ip`, as (network, prefix length): a
    /// reverse proxy in front of us brings every client from its own address.
    pub per_ip_exempt: Vec<(IpAddr, u8)>,
    /// A request head must be complete this long after its first byte arrived.
    pub header_read_timeout: Duration,
    /// A request body must be complete this long after its head arrived.
    pub body_read_timeout: Duration,
    /// A connection with no request in flight and no bytes moving is closed after this long;
    /// so is one whose peer stops reading our response for this long.
    pub idle_timeout: Duration,
    /// After shutdown is asked for, requests in flight get this long to finish.
    pub shutdown_grace: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            max_connections_per_ip: 256,
            per_ip_exempt: Vec::new(),
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(120),
            idle_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

impl ServerLimits {
    /// Whether connections from `ip` are held to the per-address limit.
    pub fn is_capped(&self, ip: IpAddr) -> bool {
        let ip = crate::ip_group::canonical(ip);
        !self
            .per_ip_exempt
            .iter()
            .any(|&(net, len)| contains(net, len, ip))
    }
}

/// Whether `ip` is in `net/len` (the families must match).
fn contains(net: IpAddr, len: u8, ip: IpAddr) -> bool {
    match (crate::ip_group::canonical(net), ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len.min(32))).unwrap_or(0);
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len.min(128))).unwrap_or(0);
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exempt_networks_are_matched_by_prefix() {
        let limits = ServerLimits {
            per_ip_exempt: vec![("10.0.0.0".parse().unwrap(), 8), ("fd00::".parse().unwrap(), 16)],
            ..ServerLimits::default()
        };
        assert!(!limits.is_capped("10.9.8.7".parse().unwrap()));
        assert!(!limits.is_capped("::ffff:10.1.1.1".parse().unwrap()));
        assert!(!limits.is_capped("fd00:1::1".parse().unwrap()));
        assert!(limits.is_capped("11.0.0.1".parse().unwrap()));
        assert!(limits.is_capped("fd01::1".parse().unwrap()));
        let all = ServerLimits {
            per_ip_exempt: vec![("0.0.0.0".parse().unwrap(), 0)],
            ..ServerLimits::default()
        };
        assert!(!all.is_capped("1.2.3.4".parse().unwrap()));
    }
}
