//! Tokens for `announce_peer` (BEP 5): a `get_peers` answer carries a token bound to the
//! asker's IP; an announce must bring it back. Tokens are a hash of a secret and the IP; the
//! secret changes every [`ROTATE`], and the previous one is still accepted, so a token lives
//! 5 to 10 minutes. Nothing is stored per asker.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use sha1::{Digest, Sha1};

/// How long a secret is the current one.
pub const ROTATE: Duration = Duration::from_secs(5 * 60);
/// Bytes of a token.
pub const TOKEN_LEN: usize = 8;

/// The current and previous secrets.
#[derive(Debug, Clone)]
pub struct Tokens {
    current: [u8; 16],
    previous: [u8; 16],
    rotated: Instant,
}

fn token(secret: &[u8; 16], ip: IpAddr) -> [u8; TOKEN_LEN] {
    let mut h = Sha1::new();
    h.update(secret);
    match ip.to_canonical() {
        IpAddr::V4(v4) => h.update(v4.octets()),
        IpAddr::V6(v6) => h.update(v6.octets()),
    }
    let d = h.finalize();
    let mut out = [0u8; TOKEN_LEN];
    out.copy_from_slice(&d[..TOKEN_LEN]);
    out
}

impl Tokens {
    /// Secrets from `random` (two 16-byte values).
    pub fn new(now: Instant, random: [u8; 32]) -> Self {
        let (a, b) = random.split_at(16);
        Self {
            current: a.try_into().unwrap_or_default(),
            previous: b.try_into().unwrap_or_default(),
            rotated: now,
        }
    }

    /// Rotates the secret when [`ROTATE`] has passed (`fresh`: 16 new random bytes).
    pub fn tick(&mut self, now: Instant, fresh: [u8; 16]) {
        if now.saturating_duration_since(self.rotated) >= ROTATE {
            self.previous = self.current;
            self.current = fresh;
            self.rotated = now;
        }
    }

    /// The token for `ip`.
    pub fn issue(&self, ip: IpAddr) -> [u8; TOKEN_LEN] {
        token(&self.current, ip)
    }

    /// Whether `shown` is a token we gave `ip` with the current or the previous secret
    /// (compared in constant time).
    pub fn check(&self, ip: IpAddr, shown: &[u8]) -> bool {
        let eq = |t: [u8; TOKEN_LEN]| {
            shown.len() == TOKEN_LEN && t.iter().zip(shown).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
        };
        eq(token(&self.current, ip)) | eq(token(&self.previous, ip))
    }
}
