//! Randomness for nexsuj, from two sources with two jobs:
//!
//! - [`Rng`], a xorshift64* generator: a few nanoseconds a number, for what must merely differ
//!   from run to run (the tracker's reply windows, the client's tie-breaks, transaction ids,
//!   the random part of a peer id). Never for anything an attacker must not predict.
//! - [`fill_os`], the operating system's generator (`getrandom`): for keys and secrets
//!   (connection-id keys, passkeys, session tokens, CSRF keys).
//!
//! ```
//! let mut a = rng::Rng::seeded(7);
//! let mut b = rng::Rng::seeded(7);
//! assert_eq!(a.next_u64(), b.next_u64());
//! assert!(a.below(10) < 10);
//! let mut key = [0u8; 32];
//! rng::fill_os(&mut key).unwrap();
//! ```

/// The operating system's generator failed (no `getrandom` syscall and no `/dev/urandom`).
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random source failed: {0}")]
pub struct OsRandomError(getrandom::Error);

/// Fills `buf` from the operating system's generator: use for keys and secrets.
pub fn fill_os(buf: &mut [u8]) -> Result<(), OsRandomError> {
    getrandom::fill(buf).map_err(OsRandomError)
}

/// `N` bytes from the operating system's generator.
pub fn os_bytes<const N: usize>() -> Result<[u8; N], OsRandomError> {
    let mut buf = [0u8; N];
    fill_os(&mut buf)?;
    Ok(buf)
}

/// A xorshift64* generator: fast, no state beyond 8 bytes, good enough to pick offsets and
/// break ties. Not for anything that must be unpredictable.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from the operating system, mixed with `stream` so that generators
    /// seeded at the same moment (one per shard or thread) still differ. If the operating
    /// system cannot answer, the process's random hasher keys seed it instead: this generator
    /// only needs to differ between runs.
    pub fn from_entropy(stream: u64) -> Self {
        let seed = os_bytes::<8>().map(u64::from_le_bytes).unwrap_or_else(|_| {
            use std::hash::BuildHasher;
            std::hash::RandomState::new().hash_one(stream)
        });
        Self::seeded(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// A generator with a fixed seed, for tests and reproducible runs (0 is replaced:
    /// xorshift would stay at 0 forever).
    pub fn seeded(seed: u64) -> Self {
        Self(if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed })
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`, or 0 when `n` is 0. The modulo bias is below 2^-32 for any `n`
    /// under 2^32.
    #[inline]
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next_u64() % n as u64) as usize
    }

    /// Fills `buf` with generator bytes (not for secrets: see [`fill_os`]).
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_generators_repeat_and_zero_is_not_stuck() {
        let (mut a, mut b) = (Rng::seeded(42), Rng::seeded(42));
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        assert!(xs.iter().zip(xs.iter().skip(1)).all(|(x, y)| x != y));
        assert_eq!(xs, (0..8).map(|_| b.next_u64()).collect::<Vec<_>>());
        let mut z = Rng::seeded(0);
        assert_ne!(z.next_u64(), z.next_u64());
    }

    #[test]
    fn below_stays_in_range_and_reaches_every_value() {
        let mut r = Rng::seeded(9);
        let mut seen = [false; 7];
        for _ in 0..1000 {
            let v = r.below(7);
            assert!(v < 7);
            seen[v] = true;
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(r.below(0), 0);
    }

    #[test]
    fn entropy_differs_between_streams_and_os_bytes_are_not_all_zero() {
        let (mut a, mut b) = (Rng::from_entropy(1), Rng::from_entropy(2));
        assert_ne!(a.next_u64(), b.next_u64());
        let key: [u8; 32] = os_bytes().unwrap();
        assert_ne!(key, [0; 32]);
        let mut buf = [0u8; 13];
        Rng::seeded(3).fill(&mut buf);
        assert_ne!(buf, [0; 13]);
    }
}
