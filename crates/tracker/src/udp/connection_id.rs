//! Stateless UDP connection ids (BEP 15 wants them unguessable): the id is the time it was
//! issued and a MAC of (client address, that time) under a secret key drawn at start-up, so
//! the tracker keeps no table of connections and a spoofed source address never gets one.

use std::net::IpAddr;

use sha2::{Digest, Sha256};

/// How long an id stays valid (BEP 15 says two minutes).
pub const VALID_SECS: u32 = 120;

/// Issues and checks connection ids. Cheap to clone (one worker each).
#[derive(Clone)]
pub struct ConnectionIds {
    /// SHA-256 with the 64-byte key already absorbed: each MAC is then one more block.
    keyed: Sha256,
}

impl std::fmt::Debug for ConnectionIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConnectionIds(..)")
    }
}

impl ConnectionIds {
    /// With a fixed key (tests); servers use [`ConnectionIds::random`].
    pub fn with_key(key: [u8; 64]) -> Self {
        Self {
            keyed: Sha256::new_with_prefix(key),
        }
    }

    /// With a key from the operating system's random source.
    pub fn random() -> std::io::Result<Self> {
        let mut key = [0u8; 64];
        rng::fill_os(&mut key).map_err(std::io::Error::other)?;
        Ok(Self::with_key(key))
    }

    /// The id for `ip` at `now` (seconds since the tracker started): 4 bytes of time, 4 of
    /// MAC. The key has a fixed length and so does the message, so the length-extension
    /// property of SHA-256 gives an attacker nothing here.
    pub fn issue(&self, ip: IpAddr, now: u32) -> u64 {
        (u64::from(now) << 32) | u64::from(self.mac(ip, now))
    }

    /// Whether `id` was issued to `ip` within the last [`VALID_SECS`] seconds of `now`.
    pub fn check(&self, id: u64, ip: IpAddr, now: u32) -> bool {
        let issued = (id >> 32) as u32;
        let fresh = issued <= now && now - issued <= VALID_SECS;
        // Compare in constant time: the MAC is a secret until it has been handed out.
        fresh && constant_time_eq(self.mac(ip, issued), id as u32)
    }

    fn mac(&self, ip: IpAddr, time: u32) -> u32 {
        let mut h = self.keyed.clone();
        let octets = match ip.to_canonical() {
            IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
            IpAddr::V6(v6) => v6.octets(),
        };
        h.update(octets);
        h.update(time.to_be_bytes());
        let d = h.finalize();
        u32::from_be_bytes([d[0], d[1], d[2], d[3]])
    }
}

fn constant_time_eq(a: u32, b: u32) -> bool {
    std::hint::black_box(a ^ b) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_bound_to_address_and_expire() {
        let ids = ConnectionIds::with_key([7; 64]);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let id = ids.issue(a, 1000);
        assert!(ids.check(id, a, 1000));
        assert!(ids.check(id, a, 1000 + VALID_SECS));
        assert!(!ids.check(id, a, 1001 + VALID_SECS), "expired");
        assert!(!ids.check(id, a, 999), "issued in the future");
        assert!(!ids.check(id, b, 1000), "another address");
        assert!(!ids.check(id ^ 1, a, 1000), "a flipped bit");
        // A mapped address is the same client as its IPv4 form.
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert!(ids.check(id, mapped, 1010));
        // Another key, another id.
        assert_ne!(ConnectionIds::with_key([8; 64]).issue(a, 1000), id);
        assert!(ConnectionIds::random().unwrap().issue(a, 0) != ConnectionIds::random().unwrap().issue(a, 0));
    }
}
