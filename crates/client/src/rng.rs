//! A small xorshift generator for tie-breaks, peer ids and transaction ids. Not for secrets:
//! nothing in the peer protocol needs unpredictability beyond "not the same every run".

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

/// A xorshift64* generator.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from the process's random hasher keys and the clock.
    pub fn from_entropy() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let h = RandomState::new().hash_one((nanos, std::process::id()));
        Self::seeded(h)
    }

    /// A generator with a fixed seed (for tests).
    pub fn seeded(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next_u64() % n as u64) as usize
    }
}

/// A BEP 20 peer id: `-NX0001-` then 12 random alphanumerics.
pub fn peer_id(rng: &mut Rng) -> ids::PeerId {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut id = [0u8; 20];
    id[..8].copy_from_slice(b"-NX0001-");
    for b in &mut id[8..] {
        *b = ALPHABET[rng.below(ALPHABET.len())];
    }
    ids::PeerId(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_ids_follow_bep_20() {
        let mut rng = Rng::seeded(7);
        let a = peer_id(&mut rng);
        let b = peer_id(&mut rng);
        assert!(a.0.starts_with(b"-NX0001-") && a != b);
        assert!(a.0.iter().all(u8::is_ascii_alphanumeric_or_dash));
        assert!(rng.below(0) == 0 && rng.below(5) < 5);
    }

    trait Dash {
        fn is_ascii_alphanumeric_or_dash(&self) -> bool;
    }
    impl Dash for u8 {
        fn is_ascii_alphanumeric_or_dash(&self) -> bool {
            self.is_ascii_alphanumeric() || *self == b'-'
        }
    }
}
